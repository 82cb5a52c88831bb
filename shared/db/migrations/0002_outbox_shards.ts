import { type Kysely, sql } from 'kysely';
import { outboxShards } from '../../outbox/outbox-writer.ts';
import { dialectOf } from '../dialect.ts';

/**
 * Outbox rows get a shard from their key, and each shard a lock row. A relay locks a set of shards with
 * `FOR UPDATE SKIP LOCKED` and publishes their pending rows in id order: several relays work in parallel,
 * yet one key's events (always one shard) are never published by two relays at once, so order per key holds.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('outbox')
    .addColumn('shard', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .createIndex('idx_outbox_shard_pending')
    .on('outbox')
    .columns(['shard', 'sent_at', 'id'])
    .execute();
  const create = db.schema
    .createTable('outbox_shards')
    .addColumn('shard', 'integer', (c) => c.primaryKey())
    .addColumn('relayed_at', 'bigint');
  await (dialectOf(db) === 'sqlite' ? create : create.modifyEnd(sql`engine=InnoDB`)).execute();
  const rows = Array.from({ length: outboxShards }, (_, shard) => ({ shard, relayed_at: null }));
  await db
    .insertInto('outbox_shards' as never)
    .values(rows as never)
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('outbox_shards').execute();
  await db.schema.dropIndex('idx_outbox_shard_pending').on('outbox').execute();
  await db.schema.alterTable('outbox').dropColumn('shard').execute();
}
