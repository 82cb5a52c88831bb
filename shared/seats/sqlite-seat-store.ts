import type { Kysely, Transaction } from 'kysely';
import type { DB } from '../db/schema.ts';
import { runIdempotent } from '../idempotency/idempotency.ts';
import { topics } from '../outbox/events.ts';
import { appendToOutbox } from '../outbox/outbox-writer.ts';
import { debit } from '../points/wallet-store.ts';
import { type ReservationRow, reservationColumns } from './reservation.ts';
import { type PaymentBody, paymentBody, paymentCompletedEvent, reservationEvent } from './seat-events.ts';
import { expireLapsedHold, seatStatements } from './seat-statements.ts';
import type { HoldAttempt, HoldOutcome, PayRefusal, SeatStore } from './seat-store.ts';

/**
 * The embedded adapter: the hot writes as transactions of statements, each what the MySQL procedure of
 * the same name does (shared/db/sql/). SQLite has one writer at a time, so a transaction excludes every
 * other writer and needs no row locks.
 */
export function createSqliteSeatStore(db: Kysely<DB>): SeatStore {
  return {
    ...seatStatements(db),

    hold: (attempt) => db.transaction().execute((trx) => holdSeat(trx, attempt)),

    async pay({ request, reservationId, now }) {
      try {
        const answer = await runIdempotent<PaymentBody>(db, request, now, async (trx) => ({
          status: 201,
          body: await payReservation(trx, request.userId, reservationId, now),
        }));
        return answer.ok
          ? { outcome: 'PAID', response: answer.value }
          : { outcome: 'KEY_REFUSED', refusal: answer };
      } catch (error) {
        if (error instanceof Refusal) return { outcome: error.outcome, price: error.price };
        throw error;
      }
    },

    missingProcedures: async () => [],
  };
}

async function holdSeat(trx: Transaction<DB>, a: HoldAttempt): Promise<HoldOutcome> {
  const taken = await trx
    .updateTable('seats')
    .set({ status: 'HELD', held_by: a.userId, hold_expires_at: a.expiresAt, updated_at: a.now })
    .where('id', '=', a.seatId)
    .where('schedule_id', '=', a.scheduleId)
    .where((eb) =>
      eb.or([
        eb('status', '=', 'AVAILABLE'),
        eb.and([eb('status', '=', 'HELD'), eb('hold_expires_at', '<', a.now)]),
      ]),
    )
    .executeTakeFirst();
  if (Number(taken.numUpdatedRows) !== 1) return whyNot(trx, a);

  await expireLapsedHold(trx, a.seatId, a.now);
  const seat = await trx
    .selectFrom('seats')
    .select('price')
    .where('id', '=', a.seatId)
    .executeTakeFirstOrThrow();
  const held = { user_id: a.userId, schedule_id: a.scheduleId, seat_id: a.seatId, price: Number(seat.price) };
  const inserted = await trx
    .insertInto('reservations')
    .values({ ...held, status: 'HELD', expires_at: a.expiresAt, created_at: a.now, updated_at: a.now })
    .executeTakeFirstOrThrow();
  const reservation: ReservationRow = {
    id: Number(inserted.insertId),
    ...held,
    status: 'HELD',
    expires_at: a.expiresAt,
  };
  await trx.updateTable('seats').set({ reservation_id: reservation.id }).where('id', '=', a.seatId).execute();
  await appendToOutbox(trx, reservationEvent(topics.reservationCreated, reservation), a.now);
  return { outcome: 'HELD', reservation };
}

/** Why the conditional write matched nothing, from the seat as it is now. */
async function whyNot(trx: Transaction<DB>, a: HoldAttempt): Promise<HoldOutcome> {
  const seat = await trx
    .selectFrom('seats')
    .select(['status', 'held_by', 'hold_expires_at', 'reservation_id'])
    .where('id', '=', a.seatId)
    .where('schedule_id', '=', a.scheduleId)
    .executeTakeFirst();
  if (!seat) return { outcome: 'NOT_FOUND' };
  if (seat.status === 'SOLD') return { outcome: 'SOLD' };
  const until = seat.hold_expires_at === null ? null : Number(seat.hold_expires_at);
  if (seat.status === 'HELD' && seat.held_by === a.userId && until !== null && until >= a.now) {
    const mine = await trx
      .selectFrom('reservations')
      .select(reservationColumns)
      .where('id', '=', Number(seat.reservation_id))
      .executeTakeFirst();
    if (mine) return { outcome: 'MINE', reservation: mine };
  }
  return { outcome: 'TAKEN', holder: seat.held_by, until };
}

/** A refusal inside the payment's transaction: thrown to roll it back, answered as a value. */
class Refusal extends Error {
  constructor(
    readonly outcome: PayRefusal,
    readonly price = 0,
  ) {
    super(outcome);
  }
}

async function payReservation(
  trx: Transaction<DB>,
  userId: string,
  reservationId: number,
  now: number,
): Promise<PaymentBody> {
  const reservation = await trx
    .selectFrom('reservations')
    .select(reservationColumns)
    .where('id', '=', reservationId)
    .executeTakeFirst();
  if (!reservation) throw new Refusal('NOT_FOUND');
  const price = Number(reservation.price);
  if (reservation.user_id !== userId) throw new Refusal('FORBIDDEN', price);

  const sold = await trx
    .updateTable('seats')
    .set({ status: 'SOLD', hold_expires_at: null, updated_at: now })
    .where('id', '=', reservation.seat_id)
    .where('status', '=', 'HELD')
    .where('reservation_id', '=', reservation.id)
    .where('hold_expires_at', '>', now)
    .executeTakeFirst();
  if (Number(sold.numUpdatedRows) !== 1) {
    if (reservation.status === 'CONFIRMED') throw new Refusal('ALREADY_PAID', price);
    if (reservation.status === 'CANCELLED') throw new Refusal('CANCELLED', price);
    throw new Refusal('HOLD_EXPIRED', price);
  }
  const confirmed = await trx
    .updateTable('reservations')
    .set({ status: 'CONFIRMED', updated_at: now })
    .where('id', '=', reservation.id)
    .where('status', '=', 'HELD')
    .executeTakeFirst();
  if (Number(confirmed.numUpdatedRows) !== 1) throw new Refusal('HOLD_EXPIRED', price);

  const used = await debit(trx, { userId, amount: price, now });
  if (!used) throw new Refusal('INSUFFICIENT_POINTS', price);
  const payment = await trx
    .insertInto('payments')
    .values({
      reservation_id: reservation.id,
      user_id: userId,
      amount: price,
      status: 'PAID',
      created_at: now,
    })
    .executeTakeFirstOrThrow();
  const paymentId = String(payment.insertId);
  const event = paymentCompletedEvent({
    paymentId,
    reservationId: String(reservation.id),
    scheduleId: String(reservation.schedule_id),
    seatId: String(reservation.seat_id),
    userId,
    amount: price,
  });
  await appendToOutbox(trx, event, now);
  return paymentBody({
    paymentId,
    reservationId: String(reservation.id),
    amount: price,
    balance: used.balanceAfter,
  });
}
