import type { PaymentCompletedData, ReservationEventData, topics } from '../outbox/events.ts';
import type { OutboxEvent } from '../outbox/outbox-writer.ts';
import type { ReservationRow } from './reservation.ts';

/**
 * The seat events and the payment answer as the SQLite store writes them. The MySQL procedures build the
 * same rows in SQL (shared/db/sql/); tests/integration/stored-procedures.test.ts holds the two paths to
 * byte-identical output, so key order here is part of the contract.
 */
export function reservationEvent(
  topic:
    | typeof topics.reservationCreated
    | typeof topics.reservationExpired
    | typeof topics.reservationCancelled,
  row: ReservationRow,
): OutboxEvent {
  const data = reservationEventData(row);
  return {
    topic,
    key: data.seatId,
    factId: data.reservationId,
    data,
    concert: { scheduleId: Number(row.schedule_id) },
  };
}

export function reservationEventData(row: ReservationRow): ReservationEventData {
  return {
    reservationId: String(row.id),
    scheduleId: String(row.schedule_id),
    seatId: String(row.seat_id),
    userId: row.user_id,
    price: Number(row.price),
    expiresAt: new Date(Number(row.expires_at)).toISOString(),
  };
}

export function paymentCompletedEvent(data: PaymentCompletedData): OutboxEvent {
  return {
    topic: 'payment.completed',
    key: data.reservationId,
    factId: data.paymentId,
    data,
    concert: { scheduleId: Number(data.scheduleId) },
  };
}

export interface PaymentBody {
  paymentId: string;
  reservationId: string;
  amount: number;
  status: 'PAID';
  balance: number;
}

export function paymentBody(payment: {
  paymentId: string;
  reservationId: string;
  amount: number;
  balance: number;
}): PaymentBody {
  return {
    paymentId: payment.paymentId,
    reservationId: payment.reservationId,
    amount: payment.amount,
    status: 'PAID',
    balance: payment.balance,
  };
}
