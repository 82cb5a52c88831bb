import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freshMysqlDatabase, serviceUrls, uniqueSuffix } from '../support/real-services.ts';
import { type LaunchedProcess, launchProcess } from '../support/server-process.ts';

/** The node processes whose parent is `pid` (Linux /proc; tsx may also run an esbuild child). */
function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((entry) => {
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
        return comm === 'node' && Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid;
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** Any worker may answer /healthz before the first one has printed the banner. */
async function bannerOf(server: LaunchedProcess): Promise<string> {
  for (let i = 0; i < 200 && !server.stdout().includes('Processes:'); i++) {
    await new Promise((r) => setTimeout(r, 100));
  }
  return server.stdout();
}

async function servingInARow(url: string, wanted: number): Promise<void> {
  let inARow = 0;
  for (let i = 0; i < 600 && inARow < wanted; i++) {
    inARow = (await fetch(`${url}/healthz`)).status === 200 ? inARow + 1 : 0;
    if (inARow === 0) await new Promise((r) => setTimeout(r, 100));
  }
  expect(inARow).toBe(wanted);
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** `npm start` on real services: WORKERS processes share the port, and SIGTERM stops them all. */
describe('all-in-one server with WORKERS (real MariaDB + Redis)', () => {
  let drop: () => Promise<void>;
  let env: Record<string, string>;
  const launched: LaunchedProcess[] = [];
  const launch = async (env: Record<string, string>) => {
    const server = await launchProcess(['server/main.ts'], env);
    launched.push(server);
    return server;
  };

  beforeAll(async () => {
    const fresh = await freshMysqlDatabase();
    await fresh.database.close();
    drop = fresh.drop;
    env = {
      DATABASE_URL: fresh.url,
      REDIS_URL: serviceUrls().redisUrl,
      REDIS_KEY_PREFIX: `workers-${uniqueSuffix()}:`,
      DATA_DIR: `/tmp/concert-workers-${uniqueSuffix()}`,
    };
  }, 60_000);

  // SIGTERM, so that a primary left by a failed test takes its workers with it.
  afterEach(async () => {
    for (const server of launched.splice(0)) {
      server.kill('SIGTERM');
      await server.exited(20_000).catch(() => server.kill('SIGKILL'));
    }
  });

  afterAll(async () => {
    await drop?.();
  });

  it('serves from WORKERS processes on one port, names them in the banner, and stops them on SIGTERM', async () => {
    const server = await launch({ ...env, WORKERS: '2' });
    await server.healthy(60_000);
    expect(await bannerOf(server)).toContain('Processes:  2 (WORKERS)');
    // One banner for the server, not one per worker.
    expect(server.stdout().split('Concert reservation API on').length - 1).toBe(1);
    const workers = childrenOf(server.pid);
    expect(workers).toHaveLength(2);
    // A worker answers 503 until its runtime is up: both serve once 10 answers in a row are 200.
    await servingInARow(server.url, 10);

    server.kill('SIGTERM');
    expect(await server.exited(20_000)).toBe(0);
    expect(workers.filter(alive)).toEqual([]);
  }, 120_000);

  it('stays one process on the embedded adapters even with WORKERS set, and says so', async () => {
    const server = await launch({ DATA_DIR: `/tmp/concert-workers-${uniqueSuffix()}`, WORKERS: '2' });
    await server.healthy(60_000);
    expect(await bannerOf(server)).toContain(
      'Processes:  one process: the embedded database and Redis live inside it (WORKERS=2 needs DATABASE_URL and REDIS_URL)',
    );
    expect(childrenOf(server.pid)).toEqual([]);
    server.kill('SIGTERM');
    expect(await server.exited(20_000)).toBe(0);
  }, 120_000);
});
