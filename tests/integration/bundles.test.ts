import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/fault-services.ts';
import { freshMysqlDatabase, serviceUrls, uniqueSuffix } from '../support/real-services.ts';

const root = new URL('../../', import.meta.url).pathname;
const names = ['functions', 'triggers'].flatMap((dir) =>
  readdirSync(join(root, dir)).map((name) => ({ dir, name })),
);
const report: string[] = [];

/**
 * Each function as its container runs it: the bundle alone in an empty directory (no node_modules), started
 * with `node index.mjs` on real services, until /healthz answers 200. Prints bundle size and cold start.
 */
describe('function bundles start alone', () => {
  let env: Record<string, string>;
  let drop: () => Promise<void>;
  let work: string;

  beforeAll(async () => {
    execFileSync(process.execPath, ['--import', 'tsx', 'scripts/build.ts'], { cwd: root, stdio: 'pipe' });
    const fresh = await freshMysqlDatabase();
    await fresh.database.close();
    drop = fresh.drop;
    work = mkdtempSync(join(tmpdir(), 'bundles-'));
    env = {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      DATABASE_URL: fresh.url,
      REDIS_URL: serviceUrls().redisUrl,
      REDIS_KEY_PREFIX: `bundle-${uniqueSuffix()}:`,
      KAFKA_BROKERS: serviceUrls().kafkaBrokers,
      KAFKA_TOPIC_PREFIX: `bundle${uniqueSuffix()}.`,
      AUTH_JWT_SECRET: 'bundle-test-secret-0123456789-0123456789',
      QUEUE_TOKEN_SECRET: 'bundle-queue-secret-0123456789-012345678',
    };
  }, 300_000);

  afterAll(async () => {
    process.stdout.write(
      `\nBundles on ${cpus()[0]?.model ?? 'unknown CPU'} (${cpus().length} cores), Node ${process.version}:\n${report.join('\n')}\n`,
    );
    rmSync(work, { recursive: true, force: true });
    await drop?.();
  });

  it.each(names)('$dir/$name', { timeout: 120_000 }, async ({ name }) => {
    const dir = join(work, name);
    cpSync(join(root, 'dist', name), dir, { recursive: true });
    const kib = statSync(join(dir, 'index.mjs')).size / 1024;
    const launch = async (attempt: number) => {
      const port = await freePort();
      const started = performance.now();
      const child = spawn(process.execPath, ['index.mjs'], {
        cwd: dir,
        env: { ...env, PORT: String(port) },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      const out = { child, port, coldMs: -1, stderr: '' };
      child.stderr.on('data', (d: Buffer) => {
        out.stderr += d.toString();
      });
      while (performance.now() - started < 30_000 && child.exitCode === null) {
        try {
          const res = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2000) });
          if (res.status === 200) {
            out.coldMs = performance.now() - started;
            break;
          }
        } catch {
          // not listening yet
        }
        await new Promise((r) => setTimeout(r, 10));
      }
      // The port was free when chosen, but another process may bind it before the bundle does.
      if (out.coldMs < 0 && attempt < 3 && out.stderr.includes('already in use')) {
        if (child.exitCode === null) await new Promise((r) => child.once('exit', r));
        return launch(attempt + 1);
      }
      return out;
    };
    const { child, port, coldMs, stderr } = await launch(1);
    try {
      expect(coldMs, `no 200 from /healthz: ${stderr}`).toBeGreaterThan(0);
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(10_000) });
      expect(ready.status).toBe(200);
      report.push(
        `  ${name.padEnd(14)} ${kib.toFixed(0).padStart(5)} KiB   cold start ${coldMs.toFixed(0).padStart(5)} ms`,
      );
    } finally {
      child.kill('SIGTERM');
      // The app drains for at most 10 s before it exits on its own; past 15 s something is wrong.
      const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      if (child.exitCode === null) await new Promise((r) => child.once('exit', r));
      clearTimeout(killer);
    }
    // SIGTERM drains and exits cleanly.
    expect(child.signalCode).toBeNull();
    expect(child.exitCode).toBe(0);
  });
});
