import { closeSync, mkdtempSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanup, freePort, onCleanup, run, start, stop, waitUntilReady, withTimeout } from './children.ts';

const dir = mkdtempSync(join(tmpdir(), 'bench-children-'));
const node = (script: string): [string, string[]] => [process.execPath, ['-e', script]];

describe('withTimeout', () => {
  it('passes a value or an error through, and names what did not finish in time', async () => {
    await expect(withTimeout(Promise.resolve(7), 1000, 'fast')).resolves.toBe(7);
    await expect(withTimeout(Promise.reject(new Error('own')), 1000, 'failing')).rejects.toThrow('own');
    await expect(withTimeout(new Promise(() => undefined), 10, 'dropping the database')).rejects.toThrow(
      'dropping the database: timed out after 10 ms',
    );
  });
});

describe('run', () => {
  it("collects a command's output and exit code", async () => {
    const result = await run(...node("console.log('out'); console.error('err'); process.exit(3)"));
    expect(result).toEqual({ code: 3, stdout: 'out\n', stderr: 'err\n' });
  });
});

describe('a server started and waited for', () => {
  it('is ready once /readyz answers 200, and stop() ends its whole process group', async () => {
    const port = await freePort();
    // The server's child stands for tsx's second node or a cluster worker: it must go with the group.
    const child = start(
      ...node(`
        require('node:child_process').spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
        require('node:http').createServer((q, s) => s.end('ok')).listen(${port}, '127.0.0.1');
        process.on('SIGTERM', () => {});`),
      { stdio: 'ignore' },
    );
    await waitUntilReady({
      child,
      url: `http://127.0.0.1:${port}`,
      label: 'test server',
      logFile: join(dir, 'none.log'),
      timeoutMs: 10_000,
    });
    // It ignores SIGTERM, so only the SIGKILL after the grace period ends it.
    await stop(child, 200);
    expect(child.signalCode).toBe('SIGKILL');
    expect(() => process.kill(-child.pid!, 0)).toThrow();
  });

  it('that exits before it is ready fails with the end of its log', async () => {
    const logFile = join(dir, 'exits.log');
    const out = openSync(logFile, 'a');
    const child = start(...node("console.error('cannot bind'); process.exit(2)"), {
      stdio: ['ignore', out, out],
    });
    closeSync(out);
    await expect(
      waitUntilReady({ child, url: 'http://127.0.0.1:9', label: 'test server', logFile, timeoutMs: 10_000 }),
    ).rejects.toThrow(/test server exited \(2\); its log .* ends:\ncannot bind/);
  });
});

// Last: a cleanup happens once per process, after which nothing may start.
describe('cleanup', () => {
  it('runs the steps newest first, skips a step taken back, logs a failure and goes on, once', async () => {
    const done: string[] = [];
    const lines: string[] = [];
    onCleanup('first', async () => void done.push('first'));
    onCleanup('failing', async () => {
      throw new Error('no such database');
    });
    const takeBack = onCleanup('stopped early', async () => void done.push('stopped early'));
    onCleanup('last', async () => void done.push('last'));
    takeBack();
    const log = (line: string) => void lines.push(line);
    const first = cleanup(log, 'bench');
    expect(cleanup(log, 'bench')).toBe(first);
    await first;
    expect(done).toEqual(['last', 'first']);
    expect(lines).toEqual(['[bench] cleanup: failing failed: no such database']);
    expect(() => start(process.execPath, ['-v'])).toThrow('the run is being stopped');
  });
});
