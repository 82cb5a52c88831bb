import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { holdSeat } from '../../functions/hold-seat/hold-seat.ts';
import { payReservation } from '../../functions/pay/pay.ts';
import type { Clock } from '../../shared/clock.ts';
import { loadConfig } from '../../shared/config.ts';
import type { Database } from '../../shared/db/connect.ts';
import { createHttpApp } from '../../shared/http/create-http-app.ts';
import { createMetrics } from '../../shared/metrics.ts';
import { readBalance } from '../../shared/points/wallet-store.ts';
import { createMemoryHoldGuard } from '../../shared/seats/hold-guard.ts';
import { createMemorySeatCache } from '../../shared/seats/seat-cache.ts';
import { seatStoreFor } from '../../shared/seats/seat-store.ts';
import { expireHoldsRoutes } from '../../triggers/expire-holds/app.ts';
import { expireLapsedHolds } from '../../triggers/expire-holds/expire.ts';
import { expireDeps, watchLapsedBacklog } from '../../triggers/expire-holds/main.ts';
import { manualClock } from '../support/harness.ts';
import { charge, freshSchedule, hold } from '../support/reservation-fixture.ts';
import { databaseTargets } from '../support/targets.ts';

const price = 1000;

/**
 * `count` holds that lapsed between one second and `count` tenths of a second ago, written straight into
 * the tables (a real hold per seat would take minutes). Expiries are shuffled against id order, so that
 * "oldest first" is checked by expiry and not by insertion.
 */
async function lapsedHolds(database: Database, clock: Clock, count: number) {
  const { scheduleId, seatIds } = await freshSchedule(database, clock, count + 1, price);
  const lapsedSeats = seatIds.slice(0, count);
  const now = clock.now();
  const expiryOf = (i: number) => now - 1000 - ((i * 7919) % count) * 100;
  for (let i = 0; i < count; i += 500) {
    await database.db
      .insertInto('reservations')
      .values(
        lapsedSeats.slice(i, i + 500).map((seatId, j) => ({
          user_id: `u${seatId}`,
          schedule_id: scheduleId,
          seat_id: seatId,
          price,
          status: 'HELD' as const,
          expires_at: expiryOf(i + j),
          created_at: now - 600_000,
          updated_at: now - 600_000,
        })),
      )
      .execute();
    await database.db
      .updateTable('seats')
      .set((eb) => ({
        status: 'HELD',
        reservation_id: eb
          .selectFrom('reservations as r')
          .select('r.id')
          .whereRef('r.seat_id', '=', 'seats.id'),
        held_by: eb
          .selectFrom('reservations as r')
          .select('r.user_id')
          .whereRef('r.seat_id', '=', 'seats.id'),
        hold_expires_at: eb
          .selectFrom('reservations as r')
          .select('r.expires_at')
          .whereRef('r.seat_id', '=', 'seats.id'),
      }))
      .where('id', 'in', lapsedSeats.slice(i, i + 500))
      .execute();
  }
  const rows = await database.db
    .selectFrom('reservations')
    .select(['id', 'seat_id', 'expires_at'])
    .where('schedule_id', '=', scheduleId)
    .execute();
  const reservations = rows
    .map((r) => ({ id: Number(r.id), seatId: Number(r.seat_id), expiresAt: Number(r.expires_at) }))
    .sort((a, b) => a.expiresAt - b.expiresAt || a.id - b.id);
  return { scheduleId, liveSeat: seatIds[count]!, reservations };
}

/** reservation.expired rows per reservation id, from the payloads the outbox will publish. */
async function expiredEvents(database: Database, ids: number[]): Promise<Map<number, number>> {
  const wanted = new Set(ids);
  const rows = await database.db
    .selectFrom('outbox')
    .select(['payload'])
    .where('topic', '=', 'reservation.expired')
    .execute();
  const counts = new Map<number, number>();
  for (const row of rows) {
    const id = Number((JSON.parse(String(row.payload)) as { reservationId: string }).reservationId);
    if (wanted.has(id)) counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

/** The sweeper as its function serves it: the ping route, and /metrics with the scrape-time gauges. */
function sweeperApp(database: Database, clock: Clock) {
  const metrics = createMetrics();
  const rt = {
    config: loadConfig({}),
    database,
    clock,
    seatCache: createMemorySeatCache(() => clock.now()),
    metrics,
    gaugeRefreshers: [] as Array<() => Promise<void> | void>,
  };
  watchLapsedBacklog(rt);
  const app = createHttpApp({
    name: 'expire-holds',
    logger: pino({ level: 'silent' }),
    metrics,
    maxBodyBytes: 65_536,
    readiness: [],
    routes: [expireHoldsRoutes(expireDeps(rt))],
    beforeScrape: async () => {
      for (const refresh of rt.gaugeRefreshers) await refresh();
    },
  });
  const sample = async (name: string) => {
    const text = await (await app.request('/metrics')).text();
    const line = text.split('\n').find((l) => l.startsWith(`${name} `));
    return line === undefined ? undefined : Number(line.slice(name.length + 1));
  };
  const ping = async () => {
    const answer = await app.request('/', {
      method: 'POST',
      headers: { 'ce-type': 'dev.knative.sources.ping' },
    });
    expect(answer.status).toBe(200);
    return (await answer.json()) as { expired: number; drained: boolean };
  };
  return { ping, sample, budgetMs: rt.config.EXPIRE_HOLDS_BUDGET_MS };
}

describe.each(databaseTargets)('expire-holds after a mass lapse: $name', (target) => {
  let database: Database;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ database, close } = await target.open({ poolSize: 20 }));
  });
  afterAll(() => close());

  it('one run announces every one of 3,000 lapsed holds, once each and within the budget; the backlog gauges go from its age and size to zero', async () => {
    const count = 3000;
    const clock = manualClock(Date.now());
    const { scheduleId, liveSeat, reservations } = await lapsedHolds(database, clock, count);
    const live = await hold(database, clock, 'still-holding', scheduleId, liveSeat, { ttlMs: 60_000 });
    if (!live.ok) throw new Error('setup');
    const sweeper = sweeperApp(database, clock);

    expect(await sweeper.sample('expire_holds_backlog_holds')).toBe(count);
    expect(await sweeper.sample('expire_holds_backlog_oldest_age_seconds')).toBe(1 + (count - 1) / 10);

    const started = performance.now();
    expect(await sweeper.ping()).toEqual({ expired: count, drained: true });
    expect(performance.now() - started).toBeLessThan(sweeper.budgetMs);

    const events = await expiredEvents(
      database,
      reservations.map((r) => r.id),
    );
    expect(events.size).toBe(count);
    expect([...events.values()].every((n) => n === 1)).toBe(true);
    const statuses = await database.db
      .selectFrom('reservations')
      .select(['status'])
      .where('schedule_id', '=', scheduleId)
      .execute();
    expect(statuses.filter((r) => r.status === 'EXPIRED')).toHaveLength(count);
    expect(statuses.filter((r) => r.status === 'HELD')).toHaveLength(1);
    const seats = await database.db
      .selectFrom('seats')
      .select(['id', 'status', 'reservation_id'])
      .where('schedule_id', '=', scheduleId)
      .execute();
    for (const seat of seats) {
      if (Number(seat.id) === liveSeat) expect(seat.status).toBe('HELD');
      else expect(seat).toMatchObject({ status: 'AVAILABLE', reservation_id: null });
    }

    expect(await sweeper.sample('expire_holds_backlog_holds')).toBe(0);
    expect(await sweeper.sample('expire_holds_backlog_oldest_age_seconds')).toBe(0);
    expect(await sweeper.sample('expire_holds_expired_total')).toBe(count);
    expect(await sweeper.ping()).toEqual({ expired: 0, drained: true });
  });

  it('a run whose budget runs out stops after a batch, oldest first, and the next run continues', async () => {
    const count = 1000;
    const clock = manualClock(Date.now());
    const { reservations } = await lapsedHolds(database, clock, count);
    // Each reading of this stopwatch is ten milliseconds later: one batch already spends the budget.
    let ticks = 0;
    const deps = {
      seats: seatStoreFor(database.db),
      clock,
      seatCache: createMemorySeatCache(() => clock.now()),
      batch: 100,
      budgetMs: 15,
      stopwatch: () => (ticks += 10),
    };
    const expiredIds = async () =>
      (
        await database.db
          .selectFrom('reservations')
          .select('id')
          .where(
            'id',
            'in',
            reservations.map((r) => r.id),
          )
          .where('status', '=', 'EXPIRED')
          .execute()
      )
        .map((r) => Number(r.id))
        .sort((a, b) => a - b);
    const oldest = (n: number) =>
      reservations
        .slice(0, n)
        .map((r) => r.id)
        .sort((a, b) => a - b);

    expect(await expireLapsedHolds(deps)).toEqual({ expired: 100, drained: false });
    expect(await expiredIds()).toEqual(oldest(100));
    expect(await expireLapsedHolds(deps)).toEqual({ expired: 100, drained: false });
    expect(await expiredIds()).toEqual(oldest(200));

    const sweeper = sweeperApp(database, clock);
    expect(await sweeper.sample('expire_holds_backlog_holds')).toBe(count - 200);
    expect(await sweeper.sample('expire_holds_backlog_oldest_age_seconds')).toBe(
      (clock.now() - reservations[200]!.expiresAt) / 1000,
    );
    expect(await sweeper.ping()).toEqual({ expired: count - 200, drained: true });
    expect(await sweeper.sample('expire_holds_backlog_holds')).toBe(0);
    const events = await expiredEvents(
      database,
      reservations.map((r) => r.id),
    );
    expect(events.size).toBe(count);
    expect([...events.values()].every((n) => n === 1)).toBe(true);
  });

  it('racing payments and lazy takeovers: one reservation.expired per expired hold, none for a paid one', async () => {
    const count = 150;
    const start = manualClock(Date.now());
    const { scheduleId, reservations } = await lapsedHolds(database, start, count);
    // Give every hold the same end T: the payers see it 1 ms before T, the sweeper and the takers 1 ms after.
    const end = start.now() + 5000;
    await database.db
      .updateTable('reservations')
      .set({ expires_at: end })
      .where('schedule_id', '=', scheduleId)
      .execute();
    await database.db
      .updateTable('seats')
      .set({ hold_expires_at: end })
      .where('schedule_id', '=', scheduleId)
      .where('status', '=', 'HELD')
      .execute();
    for (const r of reservations) await charge(database, `u${r.seatId}`, price, start.now());
    const payerClock = manualClock(end - 1);
    const laterClock = manualClock(end + 1);

    const pays = new Map<number, ReturnType<typeof payReservation>>();
    const takes = new Map<number, Promise<Awaited<ReturnType<typeof holdSeat>>>>();
    const sweep = expireLapsedHolds({
      ...sweepDeps(database, laterClock),
      batch: 10,
      // On SQLite every racer's transaction queues for the one writer; the budget is not under test here.
      budgetMs: 60_000,
    });
    reservations.forEach((r, i) => {
      if (i % 3 !== 1)
        pays.set(
          r.id,
          payReservation(
            { seats: seatStoreFor(database.db), clock: payerClock },
            { userId: `u${r.seatId}`, reservationId: r.id, idempotencyKey: `race-${r.id}` },
          ),
        );
      if (i % 3 !== 0)
        takes.set(
          r.id,
          holdSeat(
            {
              seats: seatStoreFor(database.db),
              clock: laterClock,
              holdTtlMs: 60_000,
              guard: createMemoryHoldGuard(() => laterClock.now()),
              seatCache: createMemorySeatCache(() => laterClock.now()),
            },
            { userId: `t${r.seatId}`, scheduleId, seatId: r.seatId },
          ),
        );
    });
    const swept = await sweep;
    const paid = new Set<number>();
    for (const [id, payment] of pays) {
      const result = await payment;
      const outcome = result.ok ? 'paid' : result.code;
      expect(['paid', 'HOLD_EXPIRED']).toContain(outcome);
      if (outcome === 'paid') paid.add(id);
    }
    const taken = new Set<number>();
    for (const [id, take] of takes) {
      const result = await take;
      if (result.ok) taken.add(id);
      else expect(result.code).toBe('SEAT_TAKEN');
    }

    const events = await expiredEvents(
      database,
      reservations.map((r) => r.id),
    );
    const rows = await database.db
      .selectFrom('reservations')
      .select(['id', 'seat_id', 'status'])
      .where('schedule_id', '=', scheduleId)
      .execute();
    const seats = new Map(
      (
        await database.db
          .selectFrom('seats')
          .select(['id', 'status', 'held_by'])
          .where('schedule_id', '=', scheduleId)
          .execute()
      ).map((s) => [Number(s.id), s]),
    );
    let expiredCount = 0;
    for (const r of reservations) {
      const status = rows.find((row) => Number(row.id) === r.id)!.status;
      const seat = seats.get(r.seatId)!;
      if (paid.has(r.id)) {
        expect(status).toBe('CONFIRMED');
        expect(events.get(r.id)).toBeUndefined();
        expect(seat.status).toBe('SOLD');
        expect(taken.has(r.id)).toBe(false);
        expect(await readBalance(database.db, `u${r.seatId}`)).toBe(0);
      } else {
        expiredCount++;
        expect(status).toBe('EXPIRED');
        expect(events.get(r.id)).toBe(1);
        expect(taken.has(r.id)).toBe(takes.has(r.id));
        expect(seat).toMatchObject(
          taken.has(r.id)
            ? { status: 'HELD', held_by: `t${r.seatId}` }
            : { status: 'AVAILABLE', held_by: null },
        );
        expect(await readBalance(database.db, `u${r.seatId}`)).toBe(price);
      }
    }
    expect(swept.drained).toBe(true);
    expect(swept.expired).toBeLessThanOrEqual(expiredCount);
    expect(await expireLapsedHolds(sweepDeps(database, laterClock))).toEqual({ expired: 0, drained: true });
  });
});

function sweepDeps(database: Database, clock: Clock) {
  return { seats: seatStoreFor(database.db), clock, seatCache: createMemorySeatCache(() => clock.now()) };
}
