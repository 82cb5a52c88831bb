import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The README's "Try it" block, run as a newcomer would paste it: line by line into bash, against `npm start`
 * on the embedded adapters. Only the port differs (a free one instead of 8080).
 */

const root = new URL('../', import.meta.url).pathname;
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const dataDir = mkdtempSync(join(tmpdir(), 'readme-try-it-'));
let server: ChildProcess | undefined;
let port = 0;

function tryItBlock(): string {
  const section = readme.slice(readme.indexOf('### Try it'));
  const block = /```bash\n([\s\S]*?)```/.exec(section)?.[1];
  if (!block) throw new Error('README has no bash block under "### Try it"');
  return block;
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port: p } = probe.address() as { port: number };
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return p;
}

beforeAll(async () => {
  port = await freePort();
  const child = spawn(join(root, 'node_modules', '.bin', 'tsx'), ['server/main.ts'], {
    cwd: root,
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  server = child;
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 45_000);
    child.stdout?.on('data', (d: Buffer) => {
      output += d;
      if (output.includes('listening')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.stderr?.on('data', (d: Buffer) => {
      output += d;
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${output}`));
    });
  });
}, 60_000);

afterAll(async () => {
  if (server?.exitCode === null) {
    const exited = new Promise((resolve) => server?.once('exit', resolve));
    server.kill('SIGTERM');
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
    if (server.exitCode === null) server.kill('SIGKILL');
  }
  rmSync(dataDir, { recursive: true, force: true });
});

describe('README "Try it"', () => {
  it('keeps port 8080 in the text', () => {
    expect(tryItBlock()).toContain('API=http://127.0.0.1:8080');
  });

  it('pasted line by line, charges, enters the queue, holds seat 7 and pays for it', () => {
    const script = tryItBlock().replace('http://127.0.0.1:8080', `http://127.0.0.1:${port}`);
    // `bash -s` reads and runs one line at a time, as a paste does; a failed `json` stops it here.
    const run = spawnSync('bash', ['-e', '-s'], {
      cwd: root,
      input: script,
      env: { ...process.env, DATA_DIR: dataDir },
      encoding: 'utf8',
      timeout: 60_000,
    });
    const transcript = `${run.stdout}\n${run.stderr}`;
    expect(run.status, transcript).toBe(0);
    expect(transcript).toMatch(/"status":"HELD"/);
    expect(transcript).toMatch(/"status":"PAID"/);
    // 100,000 charged, one 80,000 seat paid.
    expect(run.stdout.trim().split('\n').at(-1)).toBe('{"userId":"42","balance":20000}');
  }, 90_000);
});
