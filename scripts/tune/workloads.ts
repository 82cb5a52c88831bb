import { type HttpClient, mapLimit } from '../../bench/lib/http.ts';
import type { PlannedRequest } from '../../bench/lib/wrk.ts';
import { createUserTokens } from '../../shared/auth/user-tokens.ts';
import type { RunEnvironment } from './environment.ts';

/**
 * One request generator per user-facing function. `prepare` runs while the all-in-one server is up (it
 * creates concerts through the admin API, lets users enter the queue for access tokens, charges points,
 * holds seats) and returns the request list the function alone is then driven with.
 */

export const functionNames = ['enter-queue', 'list-seats', 'hold-seat', 'pay', 'charge-points'] as const;
export type FunctionName = (typeof functionNames)[number];

export interface PrepareContext {
  http: HttpClient;
  run: RunEnvironment;
  /** Seat ids of schedules, read from the run's database. */
  seatsOf(scheduleIds: number[]): Promise<Array<{ id: number; scheduleId: number }>>;
  log: (line: string) => void;
}

export interface Workload {
  name: FunctionName;
  /** What one request is, for the report. */
  request: string;
  expectedStatus: number;
  /** Each line may be sent once (a seat to hold, a reservation to pay); a reusable list cycles. */
  singleUse: boolean;
  /** Rough req/s ceiling of one process, to size single-use lists for the planned steps. */
  ceilingRps: number;
  /** The most lines prepare can make (the admin API: 100 schedules × 1000 seats per concert). */
  maxCount: number;
  /** Lines of a reusable list. */
  reusableCount?: number;
  /**
   * Whether the knee concurrency becomes containerConcurrency. enter-queue also serves the SSE stream
   * (GET /v1/queue/stream): every waiting browser holds one request open for minutes, so a hard limit at
   * the knee of short POSTs would refuse the line; the rps target scales it instead.
   */
  hardLimit: boolean;
  hardLimitNote?: string;
  /** Every request needs a database connection (holds, payments, charges). */
  dbBound: boolean;
  /** What --spike stands for with this function, printed with the recommendation. */
  spikeNote: string;
  prepare(ctx: PrepareContext, count: number): Promise<PlannedRequest[]>;
}

const json = { 'Content-Type': 'application/json' };

function tokens(run: RunEnvironment) {
  return createUserTokens({ secret: run.authJwtSecret, issuer: 'concert-auth', audience: 'concert-api' });
}

async function signUsers(ctx: PrepareContext, kind: string, count: number) {
  const started = Date.now();
  const t = tokens(ctx.run);
  const users = await mapLimit(
    Array.from({ length: count }, (_, i) => `t${ctx.run.runId}${kind}${i}`),
    256,
    async (id) => ({ id, bearer: `Bearer ${await t.sign({ id, role: 'user' }, 4 * 3600)}` }),
  );
  ctx.log(`[tune]   signed ${count} user tokens in ${Date.now() - started} ms`);
  return users;
}

async function createConcert(ctx: PrepareContext, schedules: number, seatsPerSchedule: number, price = 1000) {
  const started = Date.now();
  const admin = await tokens(ctx.run).sign({ id: `t${ctx.run.runId}admin`, role: 'admin' });
  const startsAt = new Date(Date.now() + 30 * 86_400_000).toISOString();
  const created = await ctx.http.expect<{ id: string; schedules: Array<{ id: string }> }>(
    201,
    'POST',
    '/v1/admin/concerts',
    {
      headers: { authorization: `Bearer ${admin}` },
      json: {
        title: `Tune ${ctx.run.runId}`,
        venue: 'Tune hall',
        schedules: Array.from({ length: schedules }, () => ({
          startsAt,
          seatCount: seatsPerSchedule,
          price,
        })),
      },
    },
  );
  const scheduleIds = created.schedules.map((s) => Number(s.id));
  ctx.log(
    `[tune]   concert ${created.id}: ${schedules} schedule(s) × ${seatsPerSchedule} seats in ${Date.now() - started} ms`,
  );
  return { concertId: created.id, scheduleIds, adminBearer: `Bearer ${admin}` };
}

/** Users enter the concert's line through the setup server; with QUEUE_MAX_ACTIVE high all are ACTIVE. */
async function enterAll(
  ctx: PrepareContext,
  users: Array<{ id: string; bearer: string }>,
  concertId: string,
) {
  const started = Date.now();
  const out = await mapLimit(users, 32, async (user) => {
    const answer = await ctx.http.expect<{ status: string; accessToken?: string }>(
      201,
      'POST',
      '/v1/queue/tokens',
      { headers: { authorization: user.bearer }, json: { concertId } },
    );
    if (answer.status !== 'ACTIVE' || !answer.accessToken)
      throw new Error(`user ${user.id} is ${answer.status}`);
    return { ...user, access: answer.accessToken };
  });
  ctx.log(`[tune]   ${users.length} users entered the queue (ACTIVE) in ${Date.now() - started} ms`);
  return out;
}

/** A fixed shuffle, so two runs send seats in the same order. */
function shuffle<T>(items: T[], seed = 42): T[] {
  let s = seed >>> 0;
  const rand = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

const seatsPerSchedule = 1000;

const BEHIND =
  "--spike is the rate this function must absorb. The ADR's 10,000 req/s arrive at the front door (enter-queue); this function sits behind the queue and sees what it admits (maxActive users at a time, admitPerSecond more), so give it its own peak: --spike <req/s>.";

export const workloads: Record<FunctionName, Workload> = {
  'enter-queue': {
    name: 'enter-queue',
    request:
      "POST /v1/queue/tokens, each by a user who has not entered yet; the concert's line is set as at an opening (maxActive 500: the first 500 become ACTIVE, everyone after waits)",
    expectedStatus: 201,
    singleUse: true,
    ceilingRps: 3000,
    maxCount: 200_000,
    dbBound: false,
    hardLimit: false,
    hardLimitNote:
      'enter-queue also serves GET /v1/queue/stream (SSE): each waiting browser holds a request open for up to timeoutSeconds, and every one counts against containerConcurrency. The knee of POST /v1/queue/tokens is shown but not written as a hard limit; the rps target scales the service.',
    spikeNote:
      'The spike is taken as 10,000 POST /v1/queue/tokens per second. Waiting users also poll GET /v1/queue/status every pollAfterSeconds (10,000 waiting at 5 s: +2,000 req/s) or hold an SSE stream open; size with --spike for the whole mix.',
    async prepare(ctx, count) {
      const concert = await createConcert(ctx, 1, 1);
      await ctx.http.expect(200, 'PUT', `/v1/admin/queues/${concert.concertId}`, {
        headers: { authorization: concert.adminBearer },
        json: { maxActive: 500, admitPerSecond: 50 },
      });
      const users = await signUsers(ctx, 'q', count);
      const body = JSON.stringify({ concertId: concert.concertId });
      return users.map((u) => ({
        method: 'POST',
        path: '/v1/queue/tokens',
        headers: { Authorization: u.bearer, ...json },
        body,
      }));
    },
  },
  'list-seats': {
    name: 'list-seats',
    request:
      'GET /v1/schedules/{id}/seats (50-seat maps, from the Redis cache after the first read), 200 users over 20 schedules',
    expectedStatus: 200,
    singleUse: false,
    ceilingRps: 4000,
    maxCount: 4000,
    reusableCount: 4000,
    dbBound: false,
    hardLimit: true,
    spikeNote: BEHIND,
    async prepare(ctx, count) {
      const concert = await createConcert(ctx, 20, 50);
      const users = await enterAll(ctx, await signUsers(ctx, 's', 200), concert.concertId);
      return Array.from({ length: count }, (_, i) => {
        const user = users[i % users.length]!;
        const schedule = concert.scheduleIds[Math.floor(i / users.length) % concert.scheduleIds.length]!;
        return {
          method: 'GET',
          path: `/v1/schedules/${schedule}/seats`,
          headers: { Authorization: user.bearer, 'X-Queue-Token': user.access },
        };
      });
    },
  },
  'hold-seat': {
    name: 'hold-seat',
    request: 'POST /v1/reservations, every request on a seat nobody has held (uncontended), 200 users',
    expectedStatus: 201,
    singleUse: true,
    ceilingRps: 1500,
    maxCount: 100 * seatsPerSchedule,
    dbBound: true,
    hardLimit: true,
    spikeNote: BEHIND,
    async prepare(ctx, count) {
      const concert = await createConcert(ctx, Math.ceil(count / seatsPerSchedule), seatsPerSchedule);
      const users = await enterAll(ctx, await signUsers(ctx, 'h', 200), concert.concertId);
      const seats = shuffle(await ctx.seatsOf(concert.scheduleIds)).slice(0, count);
      return seats.map((seat, i) => {
        const user = users[i % users.length]!;
        return {
          method: 'POST',
          path: '/v1/reservations',
          headers: { Authorization: user.bearer, 'X-Queue-Token': user.access, ...json },
          body: JSON.stringify({ scheduleId: String(seat.scheduleId), seatId: String(seat.id) }),
        };
      });
    },
  },
  pay: {
    name: 'pay',
    request:
      'POST /v1/reservations/{id}/payments, each payer paying its own held seat with a fresh Idempotency-Key (payers prepared: queue, points, hold)',
    expectedStatus: 201,
    singleUse: true,
    ceilingRps: 250,
    maxCount: 20_000,
    dbBound: true,
    hardLimit: true,
    spikeNote: BEHIND,
    async prepare(ctx, count) {
      const price = 1000;
      const concert = await createConcert(ctx, Math.ceil(count / seatsPerSchedule), seatsPerSchedule, price);
      // Paying ends the payer's ACTIVE slot, so every payment needs a payer of its own.
      const users = await enterAll(ctx, await signUsers(ctx, 'p', count), concert.concertId);
      const seats = shuffle(await ctx.seatsOf(concert.scheduleIds)).slice(0, count);
      const started = Date.now();
      const held = await mapLimit(users, 32, async (user, i) => {
        await ctx.http.expect(201, 'POST', '/v1/points/charges', {
          headers: { authorization: user.bearer, 'idempotency-key': `tune-charge-${i}` },
          json: { amount: price },
        });
        const seat = seats[i]!;
        const reservation = await ctx.http.expect<{ id: string }>(201, 'POST', '/v1/reservations', {
          headers: { authorization: user.bearer, 'x-queue-token': user.access },
          json: { scheduleId: String(seat.scheduleId), seatId: String(seat.id) },
        });
        return { user, reservationId: reservation.id };
      });
      ctx.log(`[tune]   ${count} payers charged and holding a seat in ${Date.now() - started} ms`);
      return held.map(({ user, reservationId }) => ({
        method: 'POST',
        path: `/v1/reservations/${reservationId}/payments`,
        headers: {
          Authorization: user.bearer,
          'X-Queue-Token': user.access,
          'Idempotency-Key': `tune-pay-${reservationId}`,
          ...json,
        },
        body: '{}',
      }));
    },
  },
  'charge-points': {
    name: 'charge-points',
    request: 'POST /v1/points/charges of 1,000 points, a fresh Idempotency-Key each, 500 users',
    expectedStatus: 201,
    singleUse: false,
    ceilingRps: 1500,
    maxCount: 500,
    reusableCount: 500,
    dbBound: true,
    hardLimit: true,
    spikeNote: BEHIND,
    async prepare(ctx, count) {
      const users = await signUsers(ctx, 'c', count);
      return users.map((u) => ({
        method: 'POST',
        path: '/v1/points/charges',
        headers: { Authorization: u.bearer, 'Idempotency-Key': `tune-{n}`, ...json },
        body: JSON.stringify({ amount: 1000 }),
      }));
    },
  },
};

/** Lines to prepare: a reusable list's fixed size, or enough single-use lines for every planned step. */
export function plannedCount(
  w: Workload,
  plan: { steps: number; stepSeconds: number; warmupSeconds: number },
  requested?: number,
): number {
  if (requested !== undefined) return Math.min(requested, w.maxCount);
  if (!w.singleUse) return w.reusableCount ?? 1000;
  const seconds = plan.warmupSeconds + plan.steps * plan.stepSeconds;
  return Math.min(w.maxCount, Math.max(1000, Math.ceil(w.ceilingRps * seconds * 1.2)));
}
