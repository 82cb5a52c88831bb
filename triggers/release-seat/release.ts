import type { Kysely } from 'kysely';
import type { Clock } from '../../shared/clock.ts';
import type { DB } from '../../shared/db/schema.ts';
import { oncePerEvent } from '../../shared/events/dedupe.ts';
import type { ReservationEventData } from '../../shared/outbox/events.ts';
import { freedSeat } from '../../shared/seats/freed-seat.ts';
import { type HoldGuard, seatGuardKey } from '../../shared/seats/hold-guard.ts';
import type { SeatCache } from '../../shared/seats/seat-cache.ts';

export interface ReleaseDeps {
  db: Kysely<DB>;
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
  const now = deps.clock.now();
  const seatId = Number(event.data.seatId);
  const reservationId = Number(event.data.reservationId);
  const outcome = await oncePerEvent(
    deps.db,
    { consumer: releaseConsumer, eventId: event.id, now },
    async (trx) => {
      await trx
        .updateTable('seats')
        .set(freedSeat(now))
        .where('id', '=', seatId)
        .where('reservation_id', '=', reservationId)
        .where('status', '=', 'HELD')
        .where('hold_expires_at', '<', now)
        .execute();
    },
  );
  // Idempotent side effects outside the transaction: repeating them on a duplicate is harmless.
  await deps.seatCache.invalidate(event.data.scheduleId);
  await deps.guard.release(seatGuardKey(event.data.scheduleId, event.data.seatId), event.data.userId);
  return outcome;
}
