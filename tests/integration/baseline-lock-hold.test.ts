import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { baselineHoldDeps, createRedisSeatLocks, type SeatLocks } from '../../bench/baseline/lock-hold.ts';
import { type HoldDeps, holdSeat } from '../../functions/hold-seat/hold-seat.ts';
import { systemClock } from '../../shared/clock.ts';
import type { Database } from '../../shared/db/connect.ts';
import { createMemorySeatCache } from '../../shared/seats/seat-cache.ts';
import { freshMysqlDatabase, realRedis, uniqueSuffix } from '../support/real-services.ts';
import { freshSchedule } from '../support/reservation-fixture.ts';

/**
 * The benchmark baseline (seed ADR: Redisson-style lock, then SELECT ... FOR UPDATE, check, write) must be
 * as correct as the real hold path, or comparing their speed means nothing: 200 concurrent contenders on
 * real MariaDB connections and a real Redis, never more than one live hold per seat.
 */
describe('baseline lock hold (MariaDB + Redis, 200 contenders)', () => {
  let database: Database;
  let drop: () => Promise<void>;
  let redis: Redis;
  const opened: Array<{ close(): void }> = [];

  beforeAll(async () => {
    ({ database, drop } = await freshMysqlDatabase({ poolSize: 40 }));
    redis = realRedis();
  });
  afterAll(async () => {
    for (const locks of opened) locks.close();
    redis.disconnect();
    await drop();
  });

  /** Seat ids restart in every fresh database, so each test's lock keys get a prefix of their own. */
  const redisLocks = () => {
    const locks = createRedisSeatLocks(redis, { prefix: `lock-test-${uniqueSuffix()}` });
    opened.push(locks);
    return locks;
  };
  /** The product's holdSeat over the baseline's store and open guard, as bench/server.ts serves it. */
  const depsWith = (locks: SeatLocks, lockWaitMs?: number): HoldDeps =>
    baselineHoldDeps({
      db: database.db,
      clock: systemClock,
      holdTtlMs: 300_000,
      locks,
      seatCache: createMemorySeatCache(() => Date.now()),
      ...(lockWaitMs === undefined ? {} : { lockWaitMs }),
    });

  const liveBySeat = async (scheduleId: number) => {
    const rows = await database.db
      .selectFrom('reservations as r')
      .innerJoin('seats as s', 's.id', 'r.seat_id')
      .select(['r.id', 'r.seat_id', 's.reservation_id', 's.status'])
      .where('r.schedule_id', '=', scheduleId)
      .where('r.status', 'in', ['HELD', 'CONFIRMED'])
      .execute();
    for (const row of rows) {
      expect(Number(row.reservation_id)).toBe(Number(row.id));
      expect(row.status).toBe('HELD');
    }
    return rows;
  };

  const race = (deps: HoldDeps, scheduleId: number, seatIds: number[], n = 200) =>
    Promise.all(
      Array.from({ length: n }, (_, i) =>
        holdSeat(deps, {
          userId: `c${uniqueSuffix()}${i}`,
          scheduleId,
          seatId: seatIds[i % seatIds.length]!,
        }),
      ),
    );

  it("one seat, the seed's tryLock(wait 10 s): exactly one hold, 199 SEAT_TAKEN", async () => {
    const { scheduleId, seatIds } = await freshSchedule(database, systemClock, 1);
    const results = await race(depsWith(redisLocks()), scheduleId, seatIds);
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok && r.code === 'SEAT_TAKEN')).toHaveLength(199);
    expect(await liveBySeat(scheduleId)).toHaveLength(1);
  });

  it('one seat, tryLock without waiting: exactly one hold', async () => {
    const { scheduleId, seatIds } = await freshSchedule(database, systemClock, 1);
    const results = await race(depsWith(redisLocks(), 0), scheduleId, seatIds);
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(await liveBySeat(scheduleId)).toHaveLength(1);
  });

  it('one seat, the lock lost (every contender its own lock): FOR UPDATE alone still admits one', async () => {
    const { scheduleId, seatIds } = await freshSchedule(database, systemClock, 1);
    const noMutualExclusion: SeatLocks = {
      tryLock: async () => ({ unlock: async () => undefined }),
    };
    const results = await race(depsWith(noMutualExclusion), scheduleId, seatIds);
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(await liveBySeat(scheduleId)).toHaveLength(1);
  });

  it('200 contenders on 20 seats: exactly 20 holds, one per seat', async () => {
    const { scheduleId, seatIds } = await freshSchedule(database, systemClock, 20);
    const results = await race(depsWith(redisLocks()), scheduleId, seatIds);
    expect(results.filter((r) => r.ok)).toHaveLength(20);
    const live = await liveBySeat(scheduleId);
    expect(new Set(live.map((r) => Number(r.seat_id)))).toEqual(new Set(seatIds));
  });
});

describe('Redisson-style lock on Redis', () => {
  let redis: Redis;
  let locks: ReturnType<typeof createRedisSeatLocks>;
  let prefix: string;
  beforeAll(() => {
    redis = realRedis();
    prefix = `lock-test-${uniqueSuffix()}`;
    locks = createRedisSeatLocks(redis, { prefix });
  });
  afterAll(() => {
    locks.close();
    redis.disconnect();
  });

  it('the watchdog keeps a lock past its lease while the work runs; unlock deletes it', async () => {
    const lock = await locks.tryLock('a', { waitMs: 0, leaseMs: 300 });
    expect(lock).not.toBeNull();
    await new Promise((r) => setTimeout(r, 800));
    expect(await locks.tryLock('a', { waitMs: 0, leaseMs: 300 })).toBeNull();
    await lock!.unlock();
    expect(await redis.exists(`${prefix}:a`)).toBe(0);
  });

  it('unlock never deletes a lock that lapsed and was taken by someone else', async () => {
    const key = `${prefix}:b`;
    const lock = await locks.tryLock('b', { waitMs: 0, leaseMs: 5000 });
    await redis.set(key, 'someone-else', 'PX', 5000);
    await lock!.unlock();
    expect(await redis.get(key)).toBe('someone-else');
    await redis.del(key);
  });

  it('a waiter is woken by the unlock, long before the lease would have run out', async () => {
    const first = await locks.tryLock('c', { waitMs: 0, leaseMs: 10_000 });
    const started = Date.now();
    const waiting = locks.tryLock('c', { waitMs: 5000, leaseMs: 10_000 });
    setTimeout(() => void first!.unlock(), 100);
    const second = await waiting;
    expect(second).not.toBeNull();
    expect(Date.now() - started).toBeLessThan(2000);
    await second!.unlock();
  });

  it('a waiter gives up after its wait', async () => {
    const first = await locks.tryLock('d', { waitMs: 0, leaseMs: 10_000 });
    const started = Date.now();
    expect(await locks.tryLock('d', { waitMs: 200, leaseMs: 10_000 })).toBeNull();
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    await first!.unlock();
  });
});
