import type { Clock } from '../../shared/clock.ts';
import type { StoredResponse } from '../../shared/idempotency/idempotency.ts';
import { ok, type Result, refused } from '../../shared/result.ts';
import type { PaymentBody } from '../../shared/seats/seat-events.ts';
import type { PaymentContext, PayRefusal, SeatStore } from '../../shared/seats/seat-store.ts';

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

/**
 * The stored answer of the key and the reservation's owner and schedule, one read: a route that reads them
 * before paying (to check the queue slot) hands them to `payReservation` instead of reading them twice.
 */
export const readPaymentContext = (deps: PayDeps, input: PayInput) =>
  deps.seats.paymentContext(paymentRequest(input), input.reservationId);

/**
 * Pays a held reservation with points, once per Idempotency-Key: a retry with the same key replays the
 * stored answer, checked first, since what a payment needs (the hold, the queue access) is gone after
 * it. Then the reservation must be the caller's (`owned` learns its schedule: the route's queue slot to
 * release after payment; the slot itself was checked by the route's middleware), and the store pays in one transaction: seat SOLD, reservation CONFIRMED,
 * wallet debited, payment, ledger and event rows, or nothing at all.
 */
export async function payReservation(
  deps: PayDeps,
  input: PayInput,
  owned?: (scheduleId: number) => Promise<void>,
  known?: PaymentContext,
): Promise<Result<StoredResponse<PaymentBody>, PayCode>> {
  const request = paymentRequest(input);
  const { stored, reservation } = known ?? (await readPaymentContext(deps, input));
  if (!stored.ok) return stored;
  if (stored.value) return ok(stored.value);
  if (!reservation) return refusal('NOT_FOUND');
  if (reservation.user_id !== input.userId) return refusal('FORBIDDEN');
  await owned?.(Number(reservation.schedule_id));
  const paid = await deps.seats.pay({ request, reservationId: input.reservationId, now: deps.clock.now() });
  if (paid.outcome === 'PAID') return ok(paid.response);
  if (paid.outcome === 'KEY_REFUSED') return paid.refusal;
  return refusal(paid.outcome, paid.price);
}
