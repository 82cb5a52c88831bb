import type { Kysely } from 'kysely';
import type { Clock } from '../../shared/clock.ts';
import type { DB } from '../../shared/db/schema.ts';
import { AppError } from '../../shared/errors.ts';
import {
  findStoredResponse,
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
  return runIdempotent<PaymentBody>(deps.db, requestOf(input), now, async (trx) => {
    const reservation = await trx
      .selectFrom('reservations')
      .select(['id', 'user_id', 'schedule_id', 'seat_id', 'price', 'status', 'expires_at'])
      .where('id', '=', input.reservationId)
      .executeTakeFirst();
    if (!reservation) throw new AppError('NOT_FOUND', 'No such reservation');
    if (reservation.user_id !== input.userId)
      throw new AppError('FORBIDDEN', 'This reservation belongs to another user');

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
      if (current.status === 'CONFIRMED')
        throw new AppError('ALREADY_PAID', 'The reservation is already paid');
      if (current.status === 'CANCELLED')
        throw new AppError('RESERVATION_NOT_ACTIVE', 'The reservation was cancelled');
      throw new AppError('HOLD_EXPIRED', 'The hold ran out before payment');
    }
    const confirmed = await trx
      .updateTable('reservations')
      .set({ status: 'CONFIRMED', updated_at: now })
      .where('id', '=', reservation.id)
      .where('status', '=', 'HELD')
      .executeTakeFirst();
    if (Number(confirmed.numUpdatedRows) !== 1)
      throw new AppError('HOLD_EXPIRED', 'The hold ran out before payment');

    const price = Number(reservation.price);
    const used = await debit(trx, { userId: input.userId, amount: price, now });
    if (!used) throw new AppError('INSUFFICIENT_POINTS', `The balance does not cover ${price} points`);
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
