import { lockForUpdate } from '../../shared/db/dialect.ts';
import { retryOnConflict } from '../../shared/db/errors.ts';
import { topics } from '../../shared/outbox/events.ts';
import { appendToOutbox } from '../../shared/outbox/outbox-writer.ts';
import { freedSeat } from '../../shared/seats/freed-seat.ts';
import { seatGuardKey } from '../../shared/seats/hold-guard.ts';
import type { HoldDeps } from './hold-seat.ts';
import { eventData } from './hold-seat.ts';
import { type ReservationView, reservationColumns, reservationView } from './reservation-view.ts';

type Lookup = { ok: true; reservation: ReservationView } | { ok: false; code: 'NOT_FOUND' | 'FORBIDDEN' };

export async function getReservation(
  deps: Pick<HoldDeps, 'db' | 'clock'>,
  input: { userId: string; reservationId: number },
): Promise<Lookup> {
  const row = await deps.db
    .selectFrom('reservations')
    .select(reservationColumns)
    .where('id', '=', input.reservationId)
    .executeTakeFirst();
  if (!row) return { ok: false, code: 'NOT_FOUND' };
  if (row.user_id !== input.userId) return { ok: false, code: 'FORBIDDEN' };
  return { ok: true, reservation: reservationView(row, deps.clock.now()) };
}

type Cancel =
  | { ok: true; reservation: ReservationView }
  | { ok: false; code: 'NOT_FOUND' | 'FORBIDDEN' | 'HOLD_EXPIRED' | 'ALREADY_PAID' };

/**
 * Releases the caller's live hold at once: seat AVAILABLE, reservation CANCELLED, event recorded. The seat
 * row is locked first, in the same order as a hold and a payment take their locks, so they cannot deadlock.
 * Cancelling twice answers the cancelled reservation again.
 */
export async function cancelReservation(
  deps: HoldDeps,
  input: { userId: string; reservationId: number },
): Promise<Cancel> {
  const now = deps.clock.now();
  const found = await getReservation(deps, input);
  if (!found.ok) return found;
  const seatId = Number(found.reservation.seatId);
  const result = await retryOnConflict(() =>
    deps.db.transaction().execute(async (trx): Promise<Cancel> => {
      await lockForUpdate(trx.selectFrom('seats').select('id').where('id', '=', seatId), trx).execute();
      const row = await lockForUpdate(
        trx.selectFrom('reservations').select(reservationColumns).where('id', '=', input.reservationId),
        trx,
      ).executeTakeFirstOrThrow();
      if (row.status === 'CANCELLED') return { ok: true, reservation: reservationView(row, now) };
      if (row.status === 'CONFIRMED') return { ok: false, code: 'ALREADY_PAID' };
      if (row.status === 'EXPIRED' || Number(row.expires_at) <= now)
        return { ok: false, code: 'HOLD_EXPIRED' };
      await trx
        .updateTable('reservations')
        .set({ status: 'CANCELLED', updated_at: now })
        .where('id', '=', row.id)
        .execute();
      await trx
        .updateTable('seats')
        .set(freedSeat(now))
        .where('id', '=', seatId)
        .where('reservation_id', '=', row.id)
        .where('status', '=', 'HELD')
        .execute();
      await appendToOutbox(
        trx,
        {
          topic: topics.reservationCancelled,
          key: String(seatId),
          factId: String(row.id),
          data: eventData(row),
        },
        now,
      );
      return { ok: true, reservation: reservationView({ ...row, status: 'CANCELLED' }, now) };
    }),
  );
  // Not afterCommit: a 503 here is healed by the client's retry (a repeated cancel releases again), and a
  // guard left behind would turn others away from the seat until the old hold's end.
  if (result.ok) {
    await deps.guard.release(seatGuardKey(found.reservation.scheduleId, seatId), input.userId);
    await deps.seatCache.invalidate(found.reservation.scheduleId);
  }
  return result;
}
