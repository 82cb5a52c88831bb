import { afterCommit } from '../../shared/after-commit.ts';
import type { Clock } from '../../shared/clock.ts';
import { ok, type Result, refused } from '../../shared/result.ts';
import { claimTtlMs, type HoldGuard, seatGuardKey } from '../../shared/seats/hold-guard.ts';
import { type ReservationView, reservationView } from '../../shared/seats/reservation.ts';
import type { SeatCache } from '../../shared/seats/seat-cache.ts';
import type { SeatStore } from '../../shared/seats/seat-store.ts';

/** A sold seat never frees: contenders are turned away by Redis for an hour at a time. */
const soldGuardMs = 3_600_000;

export interface HoldDeps {
  seats: SeatStore;
  clock: Clock;
  holdTtlMs: number;
  guard: HoldGuard;
  seatCache: SeatCache;
  onOutcome?(outcome: 'won' | 'lost_guard' | 'lost_db' | 'repeat'): void;
}

export type HoldResult = Result<ReservationView, 'SEAT_TAKEN' | 'NOT_FOUND'>;

const seatTaken = () => refused('SEAT_TAKEN', 'Someone else holds or bought this seat');

/**
 * Holds a seat for HOLD_TTL_SECONDS. The Redis guard turns away the losers of a stampede cheaply; the
 * store decides with one conditional write. A hold that ran out is free to take even if no sweeper has
 * run (lazy expiry).
 */
export async function holdSeat(
  deps: HoldDeps,
  input: { userId: string; scheduleId: number; seatId: number },
): Promise<HoldResult> {
  const now = deps.clock.now();
  const guardKey = seatGuardKey(input.scheduleId, input.seatId);
  // The guard only saves the database work; if Redis cannot answer, the database decides alone.
  const passed = await deps.guard
    .claim(guardKey, input.userId, Math.min(deps.holdTtlMs, claimTtlMs))
    .catch(() => true);
  if (!passed) {
    deps.onOutcome?.('lost_guard');
    return seatTaken();
  }

  const held = await deps.seats.hold({ ...input, now, expiresAt: now + deps.holdTtlMs });
  const guard = {
    settle: (holder: string, ms: number) => deps.guard.settle(guardKey, holder, ms).catch(() => undefined),
    release: () => deps.guard.release(guardKey, input.userId).catch(() => undefined),
  };
  switch (held.outcome) {
    case 'HELD':
      deps.onOutcome?.('won');
      // Both go out in one Redis pipeline (auto-pipelining).
      await afterCommit([
        deps.guard.settle(guardKey, input.userId, deps.holdTtlMs),
        deps.seatCache.invalidate(String(input.scheduleId)),
      ]);
      return ok(reservationView(held.reservation, now));
    case 'MINE':
      // A retried request (or a second tab) of the holder gets its hold back rather than SEAT_TAKEN.
      deps.onOutcome?.('repeat');
      return ok(reservationView(held.reservation, now));
    case 'NOT_FOUND':
      await guard.release();
      return refused('NOT_FOUND', 'No such seat in this schedule');
    case 'SOLD':
      await guard.settle('sold', soldGuardMs);
      break;
    case 'TAKEN': {
      // Lost in the database though the guard let us through (no guard yet, a lost guard after a failover,
      // a stale one that lapsed): the guard now names the real holder for the rest of the hold, so the next
      // contenders are turned away by Redis again.
      const remaining = held.until === null ? 0 : held.until - now;
      if (held.holder && remaining > 0) await guard.settle(held.holder, remaining);
      else await guard.release();
      break;
    }
  }
  deps.onOutcome?.('lost_db');
  return seatTaken();
}
