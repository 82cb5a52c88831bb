import type { Kysely } from 'kysely';
import { dialectOf } from '../dialect.ts';
import { installProcedures } from '../procedures.ts';

/**
 * The concert of each outbox row, so the console's recent events of a concert are one backward range of
 * an index (concert, id) instead of a scan of an outbox that is never pruned. Written by every writer of
 * the outbox, the MySQL procedures included (re-created here from ../sql/). Rows written before this
 * migration keep a null concert and are not listed.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('outbox').addColumn('concert_id', 'bigint').execute();
  await db.schema.createIndex('idx_outbox_concert').on('outbox').columns(['concert_id', 'id']).execute();
  if (dialectOf(db) !== 'sqlite') await installProcedures(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('idx_outbox_concert').on('outbox').execute();
  await db.schema.alterTable('outbox').dropColumn('concert_id').execute();
}
