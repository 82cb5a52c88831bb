/** The topics of docs/api.md; each topic carries one CloudEvent type of the same name. */
export const topics = {
  reservationCreated: 'reservation.created',
  reservationExpired: 'reservation.expired',
  reservationCancelled: 'reservation.cancelled',
  paymentCompleted: 'payment.completed',
  queueActivated: 'queue.activated',
} as const;

export type Topic = (typeof topics)[keyof typeof topics];

export interface ReservationEventData {
  reservationId: string;
  scheduleId: string;
  seatId: string;
  userId: string;
  price: number;
  expiresAt: string;
}

export interface PaymentCompletedData {
  paymentId: string;
  reservationId: string;
  scheduleId: string;
  seatId: string;
  userId: string;
  amount: number;
}

export interface QueueActivatedData {
  concertId: string;
  userId: string;
  activeUntil: string;
}
