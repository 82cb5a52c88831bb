import type { Clock } from '../../shared/clock.ts';
import type { ReservationEventData } from '../../shared/outbox/events.ts';
import { type HoldGuard, seatGuardKey } from '../../shared/seats/hold-guard.ts';
import type { SeatCache } from '../../shared/seats/seat-cache.ts';
import type { SeatStore } from '../../shared/seats/seat-store.ts';

export interface ReleaseDeps {
  seats: SeatStore;
  clock: Clock;
  seatCache: SeatCache;
  guard: HoldGuard;
}

export const releaseConsumer = 'release-seat';

/**
 * On `reservation.expired` / `reservation.cancelled`: the seat map cache of the schedule is dropped and the
 * stampede guard of the seat is given back, so the next claimant reaches the database at once. If the
 * seat still names this reservation with a lapsed hold, it is set AVAILABLE (the state the sweeper or the
 * cancellation already wrote, repeated harmlessly). Safe to receive twice: the CloudEvent id is recorded
 * in the same transaction.
 */
export async function releaseSeat(
  deps: ReleaseDeps,
  event: { id: string; data: ReservationEventData },
): Promise<'done' | 'duplicate'> {
  const outcome = await deps.seats.releaseLapsed({
    consumer: releaseConsumer,
    eventId: event.id,
    seatId: Number(event.data.seatId),
    reservationId: Number(event.data.reservationId),
    now: deps.clock.now(),
  });
  // Idempotent side effects outside the transaction: repeating them on a duplicate is harmless.
  await deps.seatCache.invalidate(event.data.scheduleId);
  await deps.guard.release(seatGuardKey(event.data.scheduleId, event.data.seatId), event.data.userId);
  return outcome;
}
