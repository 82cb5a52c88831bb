import { join } from 'node:path';
import { freePort } from '../lib/children.ts';
import { bundleServer, startServer } from '../lib/server-process.ts';
import type { RowId, Scenario, ScenarioRow } from './scenario.ts';
import { statusCount } from './scenario.ts';

/** The reference figures for this machine, to read every other row against. */
export const references = { bare: 76_000, redis: 47_000, db: 19_000 } as const;

/**
 * What this machine does right now without the application: a bare Hono handler, one Redis round trip,
 * one MariaDB primary-key read per request (bench/calibrate-server.ts, its own process).
 */
export const calibrate: Scenario = {
  name: 'calibrate',
  about: 'the machine now: bare Hono, one Redis round trip, one MariaDB PK read per request',
  async run(ctx) {
    const bundle = await bundleServer(ctx.setup.buildDir, 'calibrate-server');
    const port = await freePort();
    const server = await startServer({
      bundle,
      port,
      args: [],
      nodeFlags: [],
      logFile: join(ctx.setup.workDir, 'calibrate-server.log'),
      env: {
        PATH: process.env.PATH ?? '',
        PORT: String(port),
        DATABASE_URL: ctx.setup.databaseUrl,
        REDIS_URL: ctx.setup.redisUrl,
      },
    });
    const rows: ScenarioRow[] = [];
    try {
      for (const kind of ['bare', 'redis', 'db'] as const) {
        ctx.log(`  — GET /${kind}`);
        const measured = await ctx.load(
          `calibrate-${kind}`,
          [{}],
          [{ method: 'GET', path: `/${kind}`, user: 0 }],
          { url: server.url, pid: server.pid, profiled: false },
        );
        const ok = statusCount(measured.run, 200) === measured.run.requests;
        rows.push({
          id: `calibrate-${kind}` as RowId,
          title: { bare: 'bare Hono handler', redis: 'one Redis GET', db: 'one MariaDB PK read' }[kind],
          variant: '',
          endpoint: `GET /${kind} (calibrate-server)`,
          counted: { label: '200', count: statusCount(measured.run, 200) },
          measured,
          correctness: { ok, text: ok ? 'every answer 200' : 'errors (see statuses)' },
        });
      }
    } finally {
      await server.stop();
    }
    return rows;
  },
};
