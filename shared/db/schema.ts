import type { Generated } from 'kysely';

/** Times are epoch milliseconds (BIGINT) so MySQL, MariaDB and SQLite compare them the same way. */
export type EpochMs = number;

export interface ConcertsTable {
  id: Generated<number>;
  title: string;
  venue: string;
  created_at: EpochMs;
}

export interface SchedulesTable {
  id: Generated<number>;
  concert_id: number;
  starts_at: EpochMs;
  seat_count: number;
  price: number;
}

export type SeatStatus = 'AVAILABLE' | 'HELD' | 'SOLD';

export interface SeatsTable {
  id: Generated<number>;
  schedule_id: number;
  number: number;
  price: number;
  status: SeatStatus;
  held_by: string | null;
  hold_expires_at: EpochMs | null;
  reservation_id: number | null;
  updated_at: EpochMs;
}

export type ReservationStatus = 'HELD' | 'CONFIRMED' | 'EXPIRED' | 'CANCELLED';

export interface ReservationsTable {
  id: Generated<number>;
  user_id: string;
  schedule_id: number;
  seat_id: number;
  price: number;
  status: ReservationStatus;
  expires_at: EpochMs;
  created_at: EpochMs;
  updated_at: EpochMs;
  /** Generated: seat_id while HELD or CONFIRMED, else NULL; UNIQUE, so a seat has one live reservation. */
  active_seat_id: Generated<number | null>;
}

export interface PointWalletsTable {
  user_id: string;
  balance: number;
  updated_at: EpochMs;
}

export type LedgerType = 'CHARGE' | 'USE' | 'REFUND';

export interface PointLedgerTable {
  id: Generated<number>;
  user_id: string;
  type: LedgerType;
  amount: number;
  balance_after: number;
  created_at: EpochMs;
}

export interface PaymentsTable {
  id: Generated<number>;
  reservation_id: number;
  user_id: string;
  amount: number;
  status: 'PAID';
  created_at: EpochMs;
}

export interface IdempotencyRecordsTable {
  user_id: string;
  scope: string;
  idem_key: string;
  request_hash: string;
  status_code: number | null;
  response_body: string | null;
  created_at: EpochMs;
}

export interface OutboxTable {
  id: Generated<number>;
  event_id: string;
  topic: string;
  event_key: string;
  type: string;
  payload: string;
  created_at: EpochMs;
  sent_at: EpochMs | null;
  shard: number;
  /** Null on rows written before migration 0007. */
  concert_id: number | null;
}

export interface OutboxShardsTable {
  shard: number;
  relayed_at: EpochMs | null;
}

export interface ProcessedEventsTable {
  consumer: string;
  event_id: string;
  processed_at: EpochMs;
}

export interface QueueLinesTable {
  concert_id: number;
  started_at: EpochMs;
}

export interface DB {
  concerts: ConcertsTable;
  schedules: SchedulesTable;
  seats: SeatsTable;
  reservations: ReservationsTable;
  point_wallets: PointWalletsTable;
  point_ledger: PointLedgerTable;
  payments: PaymentsTable;
  idempotency_records: IdempotencyRecordsTable;
  outbox: OutboxTable;
  outbox_shards: OutboxShardsTable;
  processed_events: ProcessedEventsTable;
  queue_lines: QueueLinesTable;
}
