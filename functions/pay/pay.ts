import { type Kysely, sql } from 'kysely';
import type { Clock } from '../../shared/clock.ts';
import { isUniqueViolation } from '../../shared/db/errors.ts';
import { outboxShards } from '../../shared/db/migrations/0002_outbox_shards.ts';
import { perDatabase, storedProcedure } from '../../shared/db/procedures.ts';
import type { DB } from '../../shared/db/schema.ts';
import { AppError, type ErrorCode } from '../../shared/errors.ts';
import { partitionFor } from '../../shared/events/bus.ts';
import {
  findStoredResponse,
  replayAfterDuplicate,
  requestHash,
  runIdempotent,
  type StoredResponse,
} from '../../shared/idempotency/idempotency.ts';
import { type PaymentCompletedData, topics } from '../../shared/outbox/events.ts';
import { appendToOutbox } from '../../shared/outbox/outbox-writer.ts';
import { debit } from '../../shared/points/wallet-store.ts';

export interface PayDeps {
  db: Kysely<DB>;
  clock: Clock;
}

export interface PaymentBody {
  paymentId: string;
  reservationId: string;
  amount: number;
  status: 'PAID';
  balance: number;
}

export interface PayInput {
  userId: string;
  reservationId: number;
  idempotencyKey: string;
}

const scope = 'payment';
const requestOf = (input: PayInput) => ({
  userId: input.userId,
  scope,
  key: input.idempotencyKey,
  fingerprint: { reservationId: input.reservationId },
});

export const storedPayment = (deps: PayDeps, input: PayInput) =>
  findStoredResponse<PaymentBody>(deps.db, requestOf(input));

type Outcome =
  | 'NOT_FOUND'
  | 'FORBIDDEN'
  | 'ALREADY_PAID'
  | 'RESERVATION_NOT_ACTIVE'
  | 'HOLD_EXPIRED'
  | 'INSUFFICIENT_POINTS';

// A cancelled reservation answers HOLD_EXPIRED (docs/api.md): for the client it is the same case (the hold is
// gone, hold a seat again), told apart by the message. The procedure names it RESERVATION_NOT_ACTIVE.
const refusals: Record<Outcome, { code: ErrorCode; message: (price: number) => string }> = {
  NOT_FOUND: { code: 'NOT_FOUND', message: () => 'No such reservation' },
  FORBIDDEN: { code: 'FORBIDDEN', message: () => 'This reservation belongs to another user' },
  ALREADY_PAID: { code: 'ALREADY_PAID', message: () => 'The reservation is already paid' },
  RESERVATION_NOT_ACTIVE: { code: 'HOLD_EXPIRED', message: () => 'The reservation was cancelled' },
  HOLD_EXPIRED: { code: 'HOLD_EXPIRED', message: () => 'The hold ran out before payment' },
  INSUFFICIENT_POINTS: {
    code: 'INSUFFICIENT_POINTS',
    message: (price) => `The balance does not cover ${price} points`,
  },
};

/** Why a payment was refused; the statement path and the procedure answer the same. */
function refusal(outcome: string, price = 0): AppError {
  const refused = refusals[outcome as Outcome];
  if (!refused) return new AppError('INTERNAL', `pay_reservation answered ${outcome}`);
  return new AppError(refused.code, refused.message(price));
}

const payInOneTripFor = perDatabase((db) =>
  storedProcedure(
    db,
    (userId: string, reservationId: number, key: string, hash: string, now: number) =>
      // biome-ignore format: one argument per parameter of the procedure reads best on one line
      sql<{ outcome: string; body: string | null; price: number | null }>`call pay_reservation(${userId}, ${reservationId}, ${key}, ${hash}, ${now}, ${partitionFor(String(reservationId), outboxShards)})`,
  ),
);

/** Owner and schedule of a reservation: what the handler checks before the queue access. */
export async function reservationOwner(deps: PayDeps, reservationId: number) {
  const row = await deps.db
    .selectFrom('reservations')
    .select(['user_id', 'schedule_id', 'seat_id'])
    .where('id', '=', reservationId)
    .executeTakeFirst();
  return row
    ? { userId: row.user_id, scheduleId: Number(row.schedule_id), seatId: Number(row.seat_id) }
    : null;
}

/**
 * One transaction: the seat goes HELD→SOLD only while this reservation's hold is live (locked first, in
 * the order a hold takes its locks), the reservation HELD→CONFIRMED, the wallet is debited only if it
 * covers the price, and the payment row (unique per reservation), the ledger row and the outbox event
 * are written. Any refusal rolls all of it back. Retries with the same Idempotency-Key replay the answer.
 */
export async function payReservation(deps: PayDeps, input: PayInput): Promise<StoredResponse<PaymentBody>> {
  const now = deps.clock.now();
  const request = requestOf(input);
  // MySQL: the same transaction as below, as one stored procedure (migration 0004).
  const answer = await payInOneTripFor(deps.db)
    .call(input.userId, input.reservationId, input.idempotencyKey, requestHash(request.fingerprint), now)
    .catch((error: unknown) => {
      if (isUniqueViolation(error)) return replayAfterDuplicate<PaymentBody>(deps.db, request, error);
      throw error;
    });
  if (answer && 'replayed' in answer) return answer;
  if (answer) {
    if (answer.outcome !== 'PAID' || answer.body === null)
      throw refusal(answer.outcome, Number(answer.price));
    return { status: 201, body: JSON.parse(answer.body) as PaymentBody, replayed: false };
  }
  return runIdempotent<PaymentBody>(deps.db, request, now, async (trx) => {
    const reservation = await trx
      .selectFrom('reservations')
      .select(['id', 'user_id', 'schedule_id', 'seat_id', 'price', 'status', 'expires_at'])
      .where('id', '=', input.reservationId)
      .executeTakeFirst();
    if (!reservation) throw refusal('NOT_FOUND');
    if (reservation.user_id !== input.userId) throw refusal('FORBIDDEN');

    const sold = await trx
      .updateTable('seats')
      .set({ status: 'SOLD', hold_expires_at: null, updated_at: now })
      .where('id', '=', reservation.seat_id)
      .where('status', '=', 'HELD')
      .where('reservation_id', '=', reservation.id)
      .where('hold_expires_at', '>', now)
      .executeTakeFirst();
    if (Number(sold.numUpdatedRows) !== 1) {
      const current = await trx
        .selectFrom('reservations')
        .select('status')
        .where('id', '=', reservation.id)
        .executeTakeFirstOrThrow();
      if (current.status === 'CONFIRMED') throw refusal('ALREADY_PAID');
      if (current.status === 'CANCELLED') throw refusal('RESERVATION_NOT_ACTIVE');
      throw refusal('HOLD_EXPIRED');
    }
    const confirmed = await trx
      .updateTable('reservations')
      .set({ status: 'CONFIRMED', updated_at: now })
      .where('id', '=', reservation.id)
      .where('status', '=', 'HELD')
      .executeTakeFirst();
    if (Number(confirmed.numUpdatedRows) !== 1) throw refusal('HOLD_EXPIRED');

    const price = Number(reservation.price);
    const used = await debit(trx, { userId: input.userId, amount: price, now });
    if (!used) throw refusal('INSUFFICIENT_POINTS', price);
    const payment = await trx
      .insertInto('payments')
      .values({
        reservation_id: reservation.id,
        user_id: input.userId,
        amount: price,
        status: 'PAID',
        created_at: now,
      })
      .executeTakeFirstOrThrow();
    const paymentId = String(payment.insertId);
    const data: PaymentCompletedData = {
      paymentId,
      reservationId: String(reservation.id),
      scheduleId: String(reservation.schedule_id),
      seatId: String(reservation.seat_id),
      userId: input.userId,
      amount: price,
    };
    await appendToOutbox(
      trx,
      { topic: topics.paymentCompleted, key: data.reservationId, factId: paymentId, data },
      now,
    );
    return {
      status: 201,
      body: {
        paymentId,
        reservationId: data.reservationId,
        amount: price,
        status: 'PAID',
        balance: used.balanceAfter,
      },
    };
  });
}
