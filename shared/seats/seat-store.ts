import type { Kysely } from 'kysely';
import { dialectOf } from '../db/dialect.ts';
import type { DB } from '../db/schema.ts';
import type {
  IdempotencyRefusal,
  Idempotent,
  IdempotentRequest,
  StoredResponse,
} from '../idempotency/idempotency.ts';
import type { Refused } from '../result.ts';
import { createMysqlSeatStore } from './mysql-seat-store.ts';
import type { ReservationRow } from './reservation.ts';
import type { ReservationPage, ReservationQuery } from './reservation-list.ts';
import type { PaymentBody } from './seat-events.ts';
import { createSqliteSeatStore } from './sqlite-seat-store.ts';

/**
 * The only reader and writer of seat and reservation state. Every change is one transaction that also
 * writes its outbox event, so an event exists if and only if its change committed. Two adapters: MySQL
 * runs each hot write (hold, pay) as one stored procedure, SQLite as statements; the rest is shared
 * statements (./seat-statements.ts). The contract suites hold both to the same answers.
 */
export interface SeatStore {
  /** Holds the seat if it is AVAILABLE or its hold lapsed (the lapsed reservation becomes EXPIRED). */
  hold(attempt: HoldAttempt): Promise<HoldOutcome>;
  reservation(id: number): Promise<ReservationRow | null>;
  /** One page of a user's reservations, newest first (./reservation-list.ts). */
  reservationsOf(query: ReservationQuery): Promise<ReservationPage>;
  /** The live hold of a reservation on its seat ends at once: seat AVAILABLE, reservation CANCELLED. */
  cancel(input: { reservationId: number; seatId: number; now: number }): Promise<CancelOutcome>;
  /**
   * After reservation.expired / reservation.cancelled: the seat is AVAILABLE again if it still names that
   * reservation with a lapsed hold. Once per (consumer, event id).
   */
  releaseLapsed(input: {
    consumer: string;
    eventId: string;
    seatId: number;
    reservationId: number;
    now: number;
  }): Promise<'done' | 'duplicate'>;
  /** Lapsed holds still HELD, oldest first. */
  lapsedHolds(now: number, limit: number): Promise<ReservationRow[]>;
  /** Those of `chosen` still lapsed become EXPIRED with their events and seats AVAILABLE; answers them. */
  expire(chosen: readonly ReservationRow[], now: number): Promise<ReservationRow[]>;
  lapsedBacklog(now: number): Promise<{ holds: number; oldest: number | null }>;
  /**
   * What a payment checks before it pays, in one round trip: the key's stored answer of a completed payment (null: none, or the key's refusal)
   * and the owner and schedule of the reservation (null: none).
   */
  paymentContext(request: IdempotentRequest, reservationId: number): Promise<PaymentContext>;
  pay(attempt: PayAttempt): Promise<PayOutcome>;
  /**
   * Per schedule of a concert, by start time: seats available (free, or held by a lapsed hold: what a hold
   * would win now), held (a hold still live at `now`) and sold. Empty for a concert without schedules.
   */
  salesOf(concertId: number, now: number): Promise<ScheduleSales[]>;
  /** The stored procedures this adapter needs and the schema lacks (none on SQLite). */
  missingProcedures(): Promise<string[]>;
}

export interface ScheduleSales {
  scheduleId: number;
  startsAt: number;
  available: number;
  held: number;
  sold: number;
}

export interface HoldAttempt {
  userId: string;
  scheduleId: number;
  seatId: number;
  now: number;
  expiresAt: number;
}

export type HoldOutcome =
  | { outcome: 'HELD'; reservation: ReservationRow }
  /** The caller's own live hold: a retried request gets it back. */
  | { outcome: 'MINE'; reservation: ReservationRow }
  | { outcome: 'TAKEN'; holder: string | null; until: number | null }
  | { outcome: 'SOLD' }
  | { outcome: 'NOT_FOUND' };

export type CancelOutcome =
  | { outcome: 'CANCELLED'; reservation: ReservationRow }
  | { outcome: 'ALREADY_PAID' | 'HOLD_EXPIRED' };

export interface PaymentContext {
  stored: Idempotent<StoredResponse<PaymentBody> | null>;
  reservation: Pick<ReservationRow, 'user_id' | 'schedule_id'> | null;
}

export interface PayAttempt {
  request: IdempotentRequest;
  reservationId: number;
  now: number;
}

export type PayRefusal =
  | 'NOT_FOUND'
  | 'FORBIDDEN'
  | 'ALREADY_PAID'
  | 'CANCELLED'
  | 'HOLD_EXPIRED'
  | 'INSUFFICIENT_POINTS';

export const payRefusals: readonly PayRefusal[] = [
  'NOT_FOUND',
  'FORBIDDEN',
  'ALREADY_PAID',
  'CANCELLED',
  'HOLD_EXPIRED',
  'INSUFFICIENT_POINTS',
];

export type PayOutcome =
  | { outcome: 'PAID'; response: StoredResponse<PaymentBody> }
  | { outcome: PayRefusal; price: number }
  /** The Idempotency-Key's own refusal: reused with another request, or its first request still runs. */
  | { outcome: 'KEY_REFUSED'; refusal: Refused<IdempotencyRefusal> };

const stores = new WeakMap<Kysely<DB>, SeatStore>();

/** The store of a database handle, made on first use. */
export function seatStoreFor(db: Kysely<DB>): SeatStore {
  let store = stores.get(db);
  if (!store) {
    store = dialectOf(db) === 'mysql' ? createMysqlSeatStore(db) : createSqliteSeatStore(db);
    stores.set(db, store);
  }
  return store;
}
