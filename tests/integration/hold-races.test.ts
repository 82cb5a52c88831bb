import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { holdSeat } from '../../functions/hold-seat/hold-seat.ts';
import { payReservation } from '../../functions/pay/pay.ts';
import { systemClock } from '../../shared/clock.ts';
import type { Database } from '../../shared/db/connect.ts';
import type { AppError } from '../../shared/errors.ts';
import { ledgerSum, readBalance } from '../../shared/points/wallet-store.ts';
import { orThrow } from '../../shared/result.ts';
import { createMemoryHoldGuard, createRedisHoldGuard } from '../../shared/seats/hold-guard.ts';
import { createMemorySeatCache } from '../../shared/seats/seat-cache.ts';
import { seatStoreFor } from '../../shared/seats/seat-store.ts';
import { manualClock } from '../support/harness.ts';
import { freshMysqlDatabase, realRedis, uniqueSuffix } from '../support/real-services.ts';
import { charge, freshSchedule, hold } from '../support/reservation-fixture.ts';

/**
 * Races through many real MariaDB connections at once. Each contender gets a guard of its own unless the
 * test is about the Redis guard, so the database alone has to pick exactly one winner.
 */
describe('hold and payment races (MariaDB, 40 connections)', () => {
  let database: Database;
  let drop: () => Promise<void>;
  let redis: Redis;
  beforeAll(async () => {
    ({ database, drop } = await freshMysqlDatabase({ poolSize: 40 }));
    redis = realRedis();
  });
  afterAll(async () => {
    redis.disconnect();
    await drop();
  });

  const liveHolds = async (scheduleId: number) =>
    database.db
      .selectFrom('reservations')
      .select(['seat_id', 'user_id'])
      .where('schedule_id', '=', scheduleId)
      .where('status', '=', 'HELD')
      .execute();

  it('N users on one seat, decided by the database alone: exactly one hold', async () => {
    const { scheduleId, seatIds } = await freshSchedule(database, systemClock, 1);
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => hold(database, systemClock, `u${i}`, scheduleId, seatIds[0]!)),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok && r.code === 'SEAT_TAKEN')).toHaveLength(199);
    expect(await liveHolds(scheduleId)).toHaveLength(1);
  });

  it('N users on one seat behind the shared Redis guard: exactly one hold, losers never reach MySQL', async () => {
    const { scheduleId, seatIds } = await freshSchedule(database, systemClock, 1);
    // Seat ids restart in every fresh database, so the guard keys get a prefix of this run.
    const guard = createRedisHoldGuard(redis, `hold-test-${uniqueSuffix()}`);
    const outcomes: string[] = [];
    const deps = {
      seats: seatStoreFor(database.db),
      clock: systemClock,
      holdTtlMs: 300_000,
      guard,
      seatCache: createMemorySeatCache(() => Date.now()),
      onOutcome: (o: string) => void outcomes.push(o),
    };
    const results = await Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        holdSeat(deps, { userId: `g${uniqueSuffix()}${i}`, scheduleId, seatId: seatIds[0]! }),
      ),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'won')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'lost_guard')).toHaveLength(299);
    expect(await liveHolds(scheduleId)).toHaveLength(1);
  });

  it('N users on K seats: exactly K holds, on K distinct seats', async () => {
    const k = 20;
    const { scheduleId, seatIds } = await freshSchedule(database, systemClock, k);
    const results = await Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        hold(database, systemClock, `m${i}`, scheduleId, seatIds[i % k]!),
      ),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(k);
    const live = await liveHolds(scheduleId);
    expect(live).toHaveLength(k);
    expect(new Set(live.map((r) => Number(r.seat_id)))).toEqual(new Set(seatIds));
  });

  it('one payment per reservation whatever the retries and keys', async () => {
    const user = `p${uniqueSuffix()}`;
    const { scheduleId, seatIds } = await freshSchedule(database, systemClock, 1, 50_000);
    const held = await hold(database, systemClock, user, scheduleId, seatIds[0]!);
    if (!held.ok) throw new Error('setup');
    await charge(database, user, 200_000, Date.now());
    const attempts = Array.from({ length: 40 }, (_, i) =>
      payReservation(
        { seats: seatStoreFor(database.db), clock: systemClock },
        { userId: user, reservationId: Number(held.value.id), idempotencyKey: `key-${i % 8}` },
      ).then(orThrow),
    );
    const settled = await Promise.allSettled(attempts);
    const paidIds = new Set(
      settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value.body.paymentId] : [])),
    );
    expect(paidIds.size).toBe(1);
    for (const s of settled) {
      if (s.status === 'rejected') expect((s.reason as AppError).code).toBe('ALREADY_PAID');
    }
    expect(await readBalance(database.db, user)).toBe(150_000);
    expect(await ledgerSum(database.db, user)).toBe(150_000);
    const payments = await database.db
      .selectFrom('payments')
      .select('id')
      .where('user_id', '=', user)
      .execute();
    expect(payments).toHaveLength(1);
  });

  it('payment racing expiry: either paid or taken over, never both', async () => {
    const ttl = 1000;
    let paid = 0;
    let takenOver = 0;
    for (let round = 0; round < 25; round++) {
      const clock = manualClock(Date.now());
      const owner = `o${uniqueSuffix()}`;
      const thief = `t${uniqueSuffix()}`;
      const { scheduleId, seatIds } = await freshSchedule(database, clock, 1, 1000);
      const held = await hold(database, clock, owner, scheduleId, seatIds[0]!, { ttlMs: ttl });
      if (!held.ok) throw new Error('setup');
      await charge(database, owner, 1000, clock.now());
      // The payer's clock is 1 ms before the end of the hold, the other user's 1 ms after it.
      const payerClock = manualClock(clock.now() + ttl - 1);
      const thiefClock = manualClock(clock.now() + ttl + 1);
      const [payment, takeover] = await Promise.allSettled([
        payReservation(
          { seats: seatStoreFor(database.db), clock: payerClock },
          { userId: owner, reservationId: Number(held.value.id), idempotencyKey: 'race' },
        ).then(orThrow),
        holdSeat(
          {
            seats: seatStoreFor(database.db),
            clock: thiefClock,
            holdTtlMs: ttl,
            guard: createMemoryHoldGuard(() => thiefClock.now()),
            seatCache: createMemorySeatCache(() => thiefClock.now()),
          },
          { userId: thief, scheduleId, seatId: seatIds[0]! },
        ),
      ]);
      const didPay = payment.status === 'fulfilled';
      const didTake = takeover.status === 'fulfilled' && takeover.value.ok;
      expect(didPay !== didTake).toBe(true);
      if (!didPay) expect((payment as PromiseRejectedResult).reason).toMatchObject({ code: 'HOLD_EXPIRED' });
      const seat = await database.db
        .selectFrom('seats')
        .selectAll()
        .where('id', '=', seatIds[0]!)
        .executeTakeFirstOrThrow();
      expect(seat.status).toBe(didPay ? 'SOLD' : 'HELD');
      expect(await readBalance(database.db, owner)).toBe(didPay ? 0 : 1000);
      if (didPay) paid++;
      else takenOver++;
    }
    expect(paid + takenOver).toBe(25);
  });
});
