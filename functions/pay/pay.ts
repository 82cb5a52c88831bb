import type { Clock } from '../../shared/clock.ts';
import { AppError, type ErrorCode } from '../../shared/errors.ts';
import type { StoredResponse } from '../../shared/idempotency/idempotency.ts';
import { ok, type Result, refused } from '../../shared/result.ts';
import type { PaymentBody } from '../../shared/seats/seat-events.ts';
import type { PayRefusal, SeatStore } from '../../shared/seats/seat-store.ts';

export type { PaymentBody } from '../../shared/seats/seat-events.ts';

export interface PayDeps {
  seats: SeatStore;
  clock: Clock;
}

export interface PayInput {
  userId: string;
  reservationId: number;
  idempotencyKey: string;
}

export type PayCode =
  | 'NOT_FOUND'
  | 'FORBIDDEN'
  | 'ALREADY_PAID'
  | 'HOLD_EXPIRED'
  | 'INSUFFICIENT_POINTS'
  | 'IDEMPOTENCY_KEY_REUSED'
  | 'IDEMPOTENCY_IN_PROGRESS';

// A cancelled reservation answers HOLD_EXPIRED (docs/api.md): for the client it is the same case (the hold is
// gone, hold a seat again), told apart by the message.
const refusals: Record<PayRefusal, { code: PayCode; message: (price: number) => string }> = {
  NOT_FOUND: { code: 'NOT_FOUND', message: () => 'No such reservation' },
  FORBIDDEN: { code: 'FORBIDDEN', message: () => 'This reservation belongs to another user' },
  ALREADY_PAID: { code: 'ALREADY_PAID', message: () => 'The reservation is already paid' },
  CANCELLED: { code: 'HOLD_EXPIRED', message: () => 'The reservation was cancelled' },
  HOLD_EXPIRED: { code: 'HOLD_EXPIRED', message: () => 'The hold ran out before payment' },
  INSUFFICIENT_POINTS: {
    code: 'INSUFFICIENT_POINTS',
    message: (price) => `The balance does not cover ${price} points`,
  },
};

function refusal(outcome: PayRefusal, price = 0) {
  const { code, message } = refusals[outcome];
  return refused(code, message(price));
}

/** The idempotency record a payment is kept under: per user, per key, for one reservation. */
export function paymentRequest(input: PayInput) {
  return {
    userId: input.userId,
    scope: 'payment',
    key: input.idempotencyKey,
    fingerprint: { reservationId: input.reservationId },
  };
}

const idempotencyCodes = new Set<ErrorCode>(['IDEMPOTENCY_KEY_REUSED', 'IDEMPOTENCY_IN_PROGRESS']);

/**
 * Pays a held reservation with points, once per Idempotency-Key: a retry with the same key replays the
 * stored answer, checked first, since what a payment needs (the hold, the queue access) is gone after
 * it. Then the reservation must be the caller's, `admit` must let the caller in (the queue access of the
 * reservation's concert), and the store pays in one transaction: seat SOLD, reservation CONFIRMED,
 * wallet debited, payment, ledger and event rows, or nothing at all.
 */
export async function payReservation(
  deps: PayDeps,
  input: PayInput,
  admit?: (scheduleId: number) => Promise<void>,
): Promise<Result<StoredResponse<PaymentBody>, PayCode>> {
  const request = paymentRequest(input);
  try {
    const stored = await deps.seats.storedPayment(request);
    if (stored) return ok(stored);
    const reservation = await deps.seats.reservation(input.reservationId);
    if (!reservation) return refusal('NOT_FOUND');
    if (reservation.user_id !== input.userId) return refusal('FORBIDDEN');
    await admit?.(Number(reservation.schedule_id));
    const paid = await deps.seats.pay({ request, reservationId: input.reservationId, now: deps.clock.now() });
    if (paid.outcome !== 'PAID') return refusal(paid.outcome, paid.price);
    return ok(paid.response);
  } catch (error) {
    // The idempotency record answers these two by throwing; for a payment they are refusals like the rest.
    if (error instanceof AppError && idempotencyCodes.has(error.code))
      return refused(error.code as PayCode, error.message, error.extra);
    throw error;
  }
}
