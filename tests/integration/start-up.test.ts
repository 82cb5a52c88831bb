import { existsSync, mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { serviceUrls, uniqueSuffix } from '../support/real-services.ts';
import { type LaunchedProcess, launchProcess } from '../support/server-process.ts';

/** Starting the server as a person would: refusals are one line that says what to do, never a stack. */
describe('start-up', () => {
  const launched: LaunchedProcess[] = [];
  const launch = async (args: string[], env: Record<string, string>, options: { port?: number } = {}) => {
    const child = await launchProcess(args, env, options);
    launched.push(child);
    return child;
  };
  const allInOne = ['server/main.ts'];
  const chargePoints = ['scripts/run-function.ts', 'charge-points'];
  const freshDataDir = () => join(mkdtempSync(join(tmpdir(), 'concert-start-')), 'data');
  const lines = (text: string) => text.trim().split('\n');

  afterEach(async () => {
    for (const child of launched.splice(0)) {
      child.kill('SIGKILL');
      await child.exited(10_000).catch(() => undefined);
    }
  });

  it('lets one process at a time use an embedded DATA_DIR, names the holder, and survives kill -9', async () => {
    const dataDir = freshDataDir();
    const first = await launch(allInOne, { DATA_DIR: dataDir });
    await first.healthy(45_000);

    const second = await launch(chargePoints, { DATA_DIR: dataDir });
    expect(await second.exited(45_000)).not.toBe(0);
    const refusal = lines(second.stderr());
    expect(refusal).toHaveLength(1);
    expect(refusal[0]).toMatch(
      new RegExp(
        `^charge-points: DATA_DIR .*data is in use by pid ${first.pid} \\(all-in-one: node server/main\\.ts, since [0-9T:-]+Z\\); ` +
          '.*stop that process, give this one another DATA_DIR, or set DATABASE_URL',
      ),
    );
    // The holder was not disturbed by the refused start.
    expect((await fetch(`${first.url}/healthz`)).status).toBe(200);

    first.kill('SIGKILL');
    expect(await first.exited(10_000)).toBe('SIGKILL');
    const third = await launch(chargePoints, { DATA_DIR: dataDir });
    await third.healthy(45_000);

    third.kill('SIGINT');
    expect(await third.exited(15_000)).toBe(0);
    expect(existsSync(join(dataDir, '.lock'))).toBe(false);
  });

  it('refuses a port in use in one line, before it touches any data', async () => {
    const blocker: Server = createServer();
    const port = await new Promise<number>((resolve) =>
      blocker.listen(0, '127.0.0.1', () => resolve((blocker.address() as { port: number }).port)),
    );
    try {
      const dataDir = freshDataDir();
      const server = await launch(allInOne, { DATA_DIR: dataDir }, { port });
      expect(await server.exited(45_000)).not.toBe(0);
      expect(lines(server.stderr())).toEqual([
        `all-in-one: port ${port} is already in use on 127.0.0.1 (another process listens there): stop it, or set PORT to a free port`,
      ]);
      expect(server.stdout()).toBe('');
      expect(existsSync(dataDir)).toBe(false);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it('refuses a database URL of another kind at once, naming the variable', async () => {
    const dataDir = freshDataDir();
    const server = await launch(allInOne, {
      DATA_DIR: dataDir,
      DATABASE_URL: 'postgres://u:p@127.0.0.1/concert',
    });
    expect(await server.exited(45_000)).toBe(78);
    expect(server.stderr()).toMatch(/DATABASE_URL: scheme "postgres:" is not supported; expected mysql:\/\//);
    expect(existsSync(dataDir)).toBe(false);
  });

  it('says per service which adapter it uses when only REDIS_URL is set', async () => {
    const dataDir = freshDataDir();
    const server = await launch(allInOne, {
      DATA_DIR: dataDir,
      REDIS_URL: serviceUrls().redisUrl,
      REDIS_KEY_PREFIX: `start-${uniqueSuffix()}:`,
    });
    await server.healthy(45_000);
    const banner = server.stdout();
    expect(banner).toContain(`Database:   embedded SQLite (${join(dataDir, 'concert.sqlite')})`);
    expect(banner).toContain(`Redis:      Redis (${new URL(serviceUrls().redisUrl).toString()})`);
    expect(banner).toContain('Events:     in-process event bus');
    expect(banner).not.toContain('real services');

    server.kill('SIGTERM');
    expect(await server.exited(15_000)).toBe(0);
    expect(existsSync(join(dataDir, '.lock'))).toBe(false);
  });
});
