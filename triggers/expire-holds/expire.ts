import type { Kysely } from 'kysely';
import { eventData } from '../../functions/hold-seat/hold-seat.ts';
import { reservationColumns } from '../../functions/hold-seat/reservation-view.ts';
import type { Clock } from '../../shared/clock.ts';
import { retryOnConflict } from '../../shared/db/errors.ts';
import type { DB } from '../../shared/db/schema.ts';
import { topics } from '../../shared/outbox/events.ts';
import { appendToOutbox } from '../../shared/outbox/outbox-writer.ts';
import type { SeatCache } from '../../shared/seats/seat-cache.ts';

export interface ExpireDeps {
  db: Kysely<DB>;
  clock: Clock;
  seatCache: SeatCache;
  batch?: number;
}

/**
 * The sweeper: lapsed holds become EXPIRED with their `reservation.expired` event and their seats
 * AVAILABLE. Correctness never waits for it (a lapsed hold is already free to the next claimant); it
 * makes the event timely and the table tidy. Each hold is its own short transaction taking the seat
 * lock first, like a hold and a payment do, and the event id is the reservation's, so a lazy expiry
 * that got there first leaves nothing to do.
 */
export async function expireLapsedHolds(deps: ExpireDeps): Promise<{ expired: number }> {
  const now = deps.clock.now();
  const lapsed = await deps.db
    .selectFrom('reservations')
    .select(reservationColumns)
    .where('status', '=', 'HELD')
    .where('expires_at', '<', now)
    .orderBy('expires_at')
    .limit(deps.batch ?? 500)
    .execute();
  let expired = 0;
  const schedules = new Set<number>();
  for (const row of lapsed) {
    const done = await retryOnConflict(() =>
      deps.db.transaction().execute(async (trx) => {
        await trx
          .updateTable('seats')
          .set({
            status: 'AVAILABLE',
            held_by: null,
            hold_expires_at: null,
            reservation_id: null,
            updated_at: now,
          })
          .where('id', '=', row.seat_id)
          .where('reservation_id', '=', row.id)
          .where('status', '=', 'HELD')
          .where('hold_expires_at', '<', now)
          .execute();
        const marked = await trx
          .updateTable('reservations')
          .set({ status: 'EXPIRED', updated_at: now })
          .where('id', '=', row.id)
          .where('status', '=', 'HELD')
          .where('expires_at', '<', now)
          .executeTakeFirst();
        if (Number(marked.numUpdatedRows) !== 1) return false;
        await appendToOutbox(
          trx,
          {
            topic: topics.reservationExpired,
            key: String(row.seat_id),
            factId: String(row.id),
            data: eventData(row),
          },
          now,
        );
        return true;
      }),
    );
    if (done) {
      expired++;
      schedules.add(Number(row.schedule_id));
    }
  }
  await Promise.all([...schedules].map((id) => deps.seatCache.invalidate(String(id))));
  return { expired };
}
