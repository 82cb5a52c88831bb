import cluster from 'node:cluster';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';
import { reservationRoutes } from '../functions/hold-seat/app.ts';
import { allMounts, startAllInOne } from '../server/all-functions.ts';
import { createRouter } from '../shared/http/router.ts';
import { queueAccessFor } from '../shared/queue/for-runtime.ts';
import { type Mount, serveFunctions } from '../shared/serve.ts';
import {
  baselineHoldDeps,
  baselinePathPrefix,
  createRedisSeatLocks,
  seedLockLeaseMs,
  seedLockWaitMs,
} from './baseline/lock-hold.ts';

/**
 * The benchmark's server: the all-in-one server (every function, same config) plus the reservation routes
 * again under a prefix, holding seats the seed ADR's way, so both run side by side on one process, one
 * pool and the same tables.
 *
 *   node server.mjs [--workers N] [--baseline-wait-ms MS] [--baseline-lease-ms MS] [--profile-dir DIR]
 *                   [--no-events]
 *
 * --workers N forks N cluster workers sharing the port (as several Knative pods would share the load).
 * --profile-dir: each SIGUSR2 starts or stops the V8 CPU profiler of every worker; a stop writes
 * DIR/<pid>-<time>.cpuprofile. The bench profiles exactly its measured runs this way.
 * --no-events leaves out what startAllInOne runs after requests (outbox relay, dispatcher, triggers,
 * schedulers): the functions alone, as one Knative function pod runs them.
 */
const args = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const at = args.indexOf(name);
  const value = at >= 0 ? Number(args[at + 1]) : fallback;
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} needs a number`);
  return value;
};
const workers = option('--workers', 1);
const lockWaitMs = option('--baseline-wait-ms', seedLockWaitMs);
const lockLeaseMs = option('--baseline-lease-ms', seedLockLeaseMs);
const profileDir = args.includes('--profile-dir') ? args[args.indexOf('--profile-dir') + 1] : undefined;

function profileOnSignal(dir: string) {
  let session: Session | null = null;
  process.on('SIGUSR2', () => {
    if (!session) {
      session = new Session();
      session.connect();
      const started = session;
      started.post('Profiler.enable', () => started.post('Profiler.start'));
      return;
    }
    const stopping = session;
    session = null;
    stopping.post('Profiler.stop', (error, result) => {
      if (!error)
        writeFileSync(join(dir, `${process.pid}-${Date.now()}.cpuprofile`), JSON.stringify(result.profile));
      stopping.disconnect();
    });
  });
}

/**
 * The product's reservation routes (functions/hold-seat/app.ts) under the baseline's prefix, with deps
 * whose seat store holds the seed ADR's way and no stampede guard: POST /bench/baseline/v1/reservations
 * runs the product's route, middleware and use case, so only the way of holding differs from ours.
 */
const baselineMount: Mount = (rt) => {
  if (!rt.redis) throw new Error('the baseline needs REDIS_URL (its lock lives in Redis)');
  const routes = reservationRoutes({
    ...baselineHoldDeps({
      db: rt.database.db,
      locks: createRedisSeatLocks(rt.redis),
      lockWaitMs,
      lockLeaseMs,
      clock: rt.clock,
      holdTtlMs: rt.config.HOLD_TTL_SECONDS * 1000,
      seatCache: rt.seatCache,
    }),
    userTokens: rt.userTokens,
    rateLimiter: rt.rateLimiter,
    queueAccess: queueAccessFor(rt),
    concertOfSchedule: rt.concertOfSchedule,
  });
  return createRouter().route(baselinePathPrefix, routes);
};

/**
 * GET /bench/memory: this process's memory after a full collection (the bench starts it with --expose-gc),
 * so the sse scenario compares live memory with and without its streams rather than garbage not yet freed.
 */
const memoryMount: Mount = () => {
  const router = createRouter();
  router.get('/bench/memory', (c) => {
    (globalThis as { gc?: () => void }).gc?.();
    return c.json({ ...process.memoryUsage(), collected: typeof globalThis.gc === 'function' });
  });
  return router;
};

if (workers > 1 && cluster.isPrimary) {
  // The bench signals the whole process group; the primary only forwards requests, nothing to profile.
  process.on('SIGUSR2', () => undefined);
  for (let i = 0; i < workers; i++) cluster.fork();
  let running = workers;
  let failed = false;
  let stopping = false;
  const stop = () => {
    stopping = true;
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  cluster.on('exit', (worker, code) => {
    running -= 1;
    if (!stopping) {
      console.error(`bench server: worker ${worker.process.pid} exited (${code}); stopping the others`);
      failed = true;
      stop();
    }
    if (running === 0) process.exit(failed ? 1 : 0);
  });
} else {
  if (profileDir) profileOnSignal(profileDir);
  await serveFunctions({
    name: 'bench',
    mounts: [...allMounts, baselineMount, memoryMount],
    ...(args.includes('--no-events') ? {} : { onStart: startAllInOne }),
  });
}
