import { beforeEach, describe, expect, it } from 'vitest';
import { type HoldDeps, holdSeat } from '../../functions/hold-seat/hold-seat.ts';
import type { Database } from '../../shared/db/connect.ts';
import { createMemorySeatCache } from '../../shared/seats/seat-cache.ts';
import { embeddedDatabase, manualClock } from '../../tests/support/harness.ts';
import { freshSchedule } from '../../tests/support/reservation-fixture.ts';
import { baselineHoldDeps, type SeatLocks } from './lock-hold.ts';

/** An in-process lock with the same contract: tryLock answers null when someone holds it. */
function memoryLocks() {
  const held = new Set<string>();
  const log: string[] = [];
  const locks: SeatLocks = {
    async tryLock(name) {
      if (held.has(name)) {
        log.push(`refused ${name}`);
        return null;
      }
      held.add(name);
      log.push(`locked ${name}`);
      return {
        async unlock() {
          held.delete(name);
          log.push(`unlocked ${name}`);
        },
      };
    },
  };
  return { locks, held, log };
}

let database: Database;
let clock: ReturnType<typeof manualClock>;
let lockState: ReturnType<typeof memoryLocks>;
let deps: HoldDeps;
let outcomes: string[];

beforeEach(async () => {
  database = await embeddedDatabase();
  clock = manualClock();
  lockState = memoryLocks();
  outcomes = [];
  deps = baselineHoldDeps({
    db: database.db,
    clock,
    holdTtlMs: 300_000,
    locks: lockState.locks,
    seatCache: createMemorySeatCache(() => clock.now()),
    onOutcome: (o) => void outcomes.push(o),
    onLockRefused: () => void outcomes.push('lost_lock'),
  });
});

describe('holdSeat over the baseline store (seed ADR lock + read-check-write)', () => {
  it('holds a free seat: reservation HELD, seat names it, event recorded, lock released', async () => {
    const { scheduleId, seatIds } = await freshSchedule(database, clock, 2, 70_000);
    const result = await holdSeat(deps, { userId: 'u1', scheduleId, seatId: seatIds[0]! });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value).toMatchObject({
      scheduleId: String(scheduleId),
      seatId: String(seatIds[0]),
      status: 'HELD',
      price: 70_000,
      expiresAt: new Date(clock.now() + 300_000).toISOString(),
    });
    const seat = await database.db
      .selectFrom('seats')
      .selectAll()
      .where('id', '=', seatIds[0]!)
      .executeTakeFirstOrThrow();
    expect(seat).toMatchObject({
      status: 'HELD',
      held_by: 'u1',
      reservation_id: Number(result.value.id),
    });
    const events = await database.db.selectFrom('outbox').select('event_id').execute();
    expect(events.map((e) => e.event_id)).toEqual([`reservation.created:${result.value.id}`]);
    expect(lockState.held.size).toBe(0);
    expect(outcomes).toEqual(['won']);
  });

  it("another user's request for a held seat is SEAT_TAKEN; the holder's own retry gets its hold back", async () => {
    const { scheduleId, seatIds } = await freshSchedule(database, clock, 1);
    const first = await holdSeat(deps, { userId: 'u1', scheduleId, seatId: seatIds[0]! });
    const other = await holdSeat(deps, { userId: 'u2', scheduleId, seatId: seatIds[0]! });
    const again = await holdSeat(deps, { userId: 'u1', scheduleId, seatId: seatIds[0]! });
    expect(other).toMatchObject({ ok: false, code: 'SEAT_TAKEN' });
    expect(again.ok && first.ok && again.value.id === first.value.id).toBe(true);
    expect(outcomes).toEqual(['won', 'lost_db', 'repeat']);
    expect(lockState.held.size).toBe(0);
  });

  it('a lock it cannot get answers SEAT_TAKEN without touching the database', async () => {
    const { scheduleId, seatIds } = await freshSchedule(database, clock, 1);
    lockState.held.add(`seat:{${seatIds[0]}}`);
    const result = await holdSeat(deps, { userId: 'u1', scheduleId, seatId: seatIds[0]! });
    expect(result).toMatchObject({ ok: false, code: 'SEAT_TAKEN' });
    expect(outcomes).toEqual(['lost_lock', 'lost_db']);
    expect(await database.db.selectFrom('reservations').select('id').execute()).toHaveLength(0);
  });

  it('an unknown seat (or one of another schedule) is NOT_FOUND and the lock is given back', async () => {
    const { scheduleId, seatIds } = await freshSchedule(database, clock, 1);
    expect(await holdSeat(deps, { userId: 'u1', scheduleId, seatId: 999_999 })).toMatchObject({
      ok: false,
      code: 'NOT_FOUND',
    });
    expect(
      await holdSeat(deps, { userId: 'u1', scheduleId: scheduleId + 1, seatId: seatIds[0]! }),
    ).toMatchObject({ ok: false, code: 'NOT_FOUND' });
    expect(lockState.held.size).toBe(0);
  });

  it('a lapsed hold is free for the next user; the old reservation becomes EXPIRED with its event', async () => {
    const { scheduleId, seatIds } = await freshSchedule(database, clock, 1);
    const first = await holdSeat(deps, { userId: 'u1', scheduleId, seatId: seatIds[0]! });
    clock.advance(300_001);
    const second = await holdSeat(deps, { userId: 'u2', scheduleId, seatId: seatIds[0]! });
    expect(second.ok).toBe(true);
    if (!first.ok || !second.ok) return;
    const rows = await database.db
      .selectFrom('reservations')
      .select(['id', 'status'])
      .orderBy('id')
      .execute();
    expect(rows).toEqual([
      { id: Number(first.value.id), status: 'EXPIRED' },
      { id: Number(second.value.id), status: 'HELD' },
    ]);
    const events = await database.db.selectFrom('outbox').select('event_id').orderBy('id').execute();
    expect(events.map((e) => e.event_id)).toContain(`reservation.expired:${first.value.id}`);
  });

  it('gives the lock back when the transaction fails', async () => {
    const { scheduleId, seatIds } = await freshSchedule(database, clock, 1);
    await database.close();
    await expect(holdSeat(deps, { userId: 'u1', scheduleId, seatId: seatIds[0]! })).rejects.toThrow();
    expect(lockState.log).toEqual([`locked seat:{${seatIds[0]}}`, `unlocked seat:{${seatIds[0]}}`]);
  });
});
