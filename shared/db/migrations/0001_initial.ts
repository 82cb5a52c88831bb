import { type ColumnDefinitionBuilder, type CreateTableBuilder, type Kysely, sql } from 'kysely';
import { dialectOf } from '../dialect.ts';

type Column = (col: ColumnDefinitionBuilder) => ColumnDefinitionBuilder;

/**
 * The whole data model. Times are BIGINT epoch ms and money is BIGINT KRW, so comparisons and sums mean the
 * same on MySQL 8, MariaDB 10.11 and the embedded SQLite.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const sqlite = dialectOf(db) === 'sqlite';
  // SQLite only auto-increments an INTEGER PRIMARY KEY; MySQL wants BIGINT AUTO_INCREMENT.
  const idType = sqlite ? 'integer' : 'bigint';
  const id: Column = (col) => col.primaryKey().autoIncrement();
  const withEngine = (t: CreateTableBuilder<string, never>) =>
    sqlite ? t : t.modifyEnd(sql`engine=InnoDB default charset=utf8mb4 collate=utf8mb4_bin`);
  const userId = 'varchar(64)';

  await withEngine(
    db.schema
      .createTable('concerts')
      .addColumn('id', idType, id)
      .addColumn('title', 'varchar(200)', (c) => c.notNull())
      .addColumn('venue', 'varchar(200)', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull()),
  ).execute();

  await withEngine(
    db.schema
      .createTable('schedules')
      .addColumn('id', idType, id)
      .addColumn('concert_id', 'bigint', (c) => c.notNull().references('concerts.id'))
      .addColumn('starts_at', 'bigint', (c) => c.notNull())
      .addColumn('seat_count', 'integer', (c) => c.notNull())
      .addColumn('price', 'bigint', (c) => c.notNull()),
  ).execute();
  await db.schema
    .createIndex('idx_schedules_concert_starts')
    .on('schedules')
    .columns(['concert_id', 'starts_at'])
    .execute();

  await withEngine(
    db.schema
      .createTable('seats')
      .addColumn('id', idType, id)
      .addColumn('schedule_id', 'bigint', (c) => c.notNull().references('schedules.id'))
      .addColumn('number', 'integer', (c) => c.notNull())
      .addColumn('price', 'bigint', (c) => c.notNull())
      .addColumn('status', 'varchar(16)', (c) => c.notNull().defaultTo('AVAILABLE'))
      .addColumn('held_by', userId)
      .addColumn('hold_expires_at', 'bigint')
      .addColumn('reservation_id', 'bigint')
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addUniqueConstraint('uq_seats_schedule_number', ['schedule_id', 'number']),
  ).execute();
  // Covers the seat map and the available count per schedule without touching the rows.
  await db.schema
    .createIndex('idx_seats_schedule_status')
    .on('seats')
    .columns(['schedule_id', 'status', 'number', 'price'])
    .execute();

  await withEngine(
    db.schema
      .createTable('reservations')
      .addColumn('id', idType, id)
      .addColumn('user_id', userId, (c) => c.notNull())
      .addColumn('schedule_id', 'bigint', (c) => c.notNull())
      .addColumn('seat_id', 'bigint', (c) => c.notNull().references('seats.id'))
      .addColumn('price', 'bigint', (c) => c.notNull())
      .addColumn('status', 'varchar(16)', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      // MySQL has no partial index: a generated column that is the seat id only while the reservation is
      // live, under a UNIQUE index (NULLs do not collide), is the same safety net.
      .addColumn('active_seat_id', 'bigint', (c) =>
        c
          .generatedAlwaysAs(sql`case when status in ('HELD', 'CONFIRMED') then seat_id else null end`)
          .stored(),
      ),
  ).execute();
  await db.schema
    .createIndex('uq_reservations_active_seat')
    .on('reservations')
    .column('active_seat_id')
    .unique()
    .execute();
  await db.schema
    .createIndex('idx_reservations_user_status')
    .on('reservations')
    .columns(['user_id', 'status'])
    .execute();
  await db.schema
    .createIndex('idx_reservations_status_expires')
    .on('reservations')
    .columns(['status', 'expires_at'])
    .execute();
  await db.schema.createIndex('idx_reservations_seat').on('reservations').column('seat_id').execute();

  await withEngine(
    db.schema
      .createTable('point_wallets')
      .addColumn('user_id', userId, (c) => c.primaryKey())
      .addColumn('balance', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('updated_at', 'bigint', (c) => c.notNull()),
  ).execute();

  await withEngine(
    db.schema
      .createTable('point_ledger')
      .addColumn('id', idType, id)
      .addColumn('user_id', userId, (c) => c.notNull())
      .addColumn('type', 'varchar(16)', (c) => c.notNull())
      .addColumn('amount', 'bigint', (c) => c.notNull())
      .addColumn('balance_after', 'bigint', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull()),
  ).execute();
  // History pages walk (user_id, id) backwards from a cursor.
  await db.schema
    .createIndex('idx_point_ledger_user_id')
    .on('point_ledger')
    .columns(['user_id', 'id'])
    .execute();

  await withEngine(
    db.schema
      .createTable('payments')
      .addColumn('id', idType, id)
      .addColumn('reservation_id', 'bigint', (c) => c.notNull().unique())
      .addColumn('user_id', userId, (c) => c.notNull())
      .addColumn('amount', 'bigint', (c) => c.notNull())
      .addColumn('status', 'varchar(16)', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull()),
  ).execute();
  await db.schema.createIndex('idx_payments_user').on('payments').column('user_id').execute();

  await withEngine(
    db.schema
      .createTable('idempotency_records')
      .addColumn('user_id', userId, (c) => c.notNull())
      .addColumn('scope', 'varchar(32)', (c) => c.notNull())
      .addColumn('idem_key', 'varchar(64)', (c) => c.notNull())
      .addColumn('request_hash', 'char(64)', (c) => c.notNull())
      .addColumn('status_code', 'integer')
      .addColumn('response_body', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('pk_idempotency_records', ['user_id', 'scope', 'idem_key']),
  ).execute();

  await withEngine(
    db.schema
      .createTable('outbox')
      .addColumn('id', idType, id)
      .addColumn('event_id', 'varchar(64)', (c) => c.notNull().unique())
      .addColumn('topic', 'varchar(64)', (c) => c.notNull())
      .addColumn('event_key', 'varchar(64)', (c) => c.notNull())
      .addColumn('type', 'varchar(64)', (c) => c.notNull())
      .addColumn('payload', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('sent_at', 'bigint'),
  ).execute();
  await db.schema.createIndex('idx_outbox_pending').on('outbox').columns(['sent_at', 'id']).execute();

  await withEngine(
    db.schema
      .createTable('processed_events')
      .addColumn('consumer', 'varchar(64)', (c) => c.notNull())
      .addColumn('event_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('processed_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('pk_processed_events', ['consumer', 'event_id']),
  ).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const name of [
    'processed_events',
    'outbox',
    'idempotency_records',
    'payments',
    'point_ledger',
    'point_wallets',
    'reservations',
    'seats',
    'schedules',
    'concerts',
  ]) {
    await db.schema.dropTable(name).ifExists().execute();
  }
}
