import { ok, type Result, refused } from '../../shared/result.ts';
import { seatGuardKey } from '../../shared/seats/hold-guard.ts';
import { type ReservationView, reservationView } from '../../shared/seats/reservation.ts';
import type { HoldDeps } from './hold-seat.ts';

export async function getReservation(
  deps: Pick<HoldDeps, 'seats' | 'clock'>,
  input: { userId: string; reservationId: number },
): Promise<Result<ReservationView, 'NOT_FOUND' | 'FORBIDDEN'>> {
  const row = await deps.seats.reservation(input.reservationId);
  if (!row) return refused('NOT_FOUND', 'No such reservation');
  if (row.user_id !== input.userId) return refused('FORBIDDEN', 'This reservation belongs to another user');
  return ok(reservationView(row, deps.clock.now()));
}

/**
 * Releases the caller's live hold at once: seat AVAILABLE, reservation CANCELLED, event recorded.
 * Cancelling twice answers the cancelled reservation again.
 */
export async function cancelReservation(
  deps: HoldDeps,
  input: { userId: string; reservationId: number },
): Promise<Result<ReservationView, 'NOT_FOUND' | 'FORBIDDEN' | 'HOLD_EXPIRED' | 'ALREADY_PAID'>> {
  const now = deps.clock.now();
  const found = await getReservation(deps, input);
  if (!found.ok) return found;
  const { scheduleId, seatId } = found.value;
  const cancelled = await deps.seats.cancel({
    reservationId: input.reservationId,
    seatId: Number(seatId),
    now,
  });
  if (cancelled.outcome !== 'CANCELLED')
    return cancelled.outcome === 'ALREADY_PAID'
      ? refused('ALREADY_PAID', 'The reservation is paid')
      : refused('HOLD_EXPIRED', 'The hold ran out');
  // Not afterCommit: a 503 here is healed by the client's retry (a repeated cancel releases again), and a
  // guard left behind would turn others away from the seat until the old hold's end.
  await deps.guard.release(seatGuardKey(scheduleId, seatId), input.userId);
  await deps.seatCache.invalidate(scheduleId);
  return ok(reservationView(cancelled.reservation, now));
}
