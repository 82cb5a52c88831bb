import cluster from 'node:cluster';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';
import { createRoute, z } from '@hono/zod-openapi';
import { allMounts, startAllInOne } from '../server/all-functions.ts';
import { AppError } from '../shared/errors.ts';
import { authenticate } from '../shared/http/authenticate.ts';
import { bearerSecurity, errorResponses, idString } from '../shared/http/openapi-common.ts';
import { rateLimitPerUser } from '../shared/http/rate-limit.ts';
import { queueTokenHeader } from '../shared/http/require-queue-access.ts';
import { reservationSchema } from '../shared/http/reservation-schema.ts';
import { createRouter } from '../shared/http/router.ts';
import { queueAccessFor } from '../shared/queue/for-runtime.ts';
import { orThrow } from '../shared/result.ts';
import { type Mount, serveFunctions } from '../shared/serve.ts';
import {
  baselineHoldSeat,
  createRedisSeatLocks,
  seedLockLeaseMs,
  seedLockWaitMs,
} from './baseline/lock-hold.ts';

/**
 * The benchmark's server: the all-in-one server (every function, same config) plus one route that holds
 * seats the seed ADR's way, so both run side by side on one process, one pool and the same tables.
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
 * POST /v1/bench/baseline-reservations: POST /v1/reservations' contract, the baseline's hold. It mirrors
 * the product's route (functions/hold-seat/app.ts) because that route calls holdSeat with a database handle
 * and has no seam for another way of holding; once its deps carry the seat store as a port, this becomes
 * the product's reservationRoutes mounted with a store whose hold is the baseline's.
 */
const baselineMount: Mount = (rt) => {
  if (!rt.redis) throw new Error('the baseline needs REDIS_URL (its lock lives in Redis)');
  const deps = {
    db: rt.database.db,
    clock: rt.clock,
    holdTtlMs: rt.config.HOLD_TTL_SECONDS * 1000,
    locks: createRedisSeatLocks(rt.redis),
    seatCache: rt.seatCache,
    lockWaitMs,
    lockLeaseMs,
  };
  const queueAccess = queueAccessFor(rt);
  const app = createRouter();
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/bench/baseline-reservations',
      summary: 'Benchmark only: hold a seat with the seed ADR lock (Redisson-style + FOR UPDATE) [queue]',
      security: bearerSecurity,
      middleware: [authenticate(rt.userTokens), rateLimitPerUser(rt.rateLimiter, rt.clock)],
      request: {
        headers: z.object({ [queueTokenHeader]: z.string().optional() }),
        body: {
          required: true,
          content: {
            'application/json': { schema: z.object({ scheduleId: idString, seatId: idString }).strict() },
          },
        },
      },
      responses: {
        201: { description: 'Held', content: { 'application/json': { schema: reservationSchema } } },
        ...errorResponses({ 403: 'QUEUE_*', 404: 'NOT_FOUND', 409: 'SEAT_TAKEN' }),
      },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const userId = c.get('user').id;
      const scheduleId = Number(body.scheduleId);
      const concertId = await rt.concertOfSchedule(scheduleId);
      if (concertId === null) throw new AppError('NOT_FOUND', 'No such schedule');
      orThrow(await queueAccess.check(c.req.header(queueTokenHeader), userId, String(concertId)));
      const result = await baselineHoldSeat(deps, { userId, scheduleId, seatId: Number(body.seatId) });
      if (!result.ok) {
        throw new AppError(
          result.code,
          result.code === 'NOT_FOUND' ? 'No such seat in this schedule' : 'Someone else holds this seat',
        );
      }
      return c.json(result.reservation, 201);
    },
  );
  return app;
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
    mounts: [...allMounts, baselineMount],
    ...(args.includes('--no-events') ? {} : { onStart: startAllInOne }),
  });
}
