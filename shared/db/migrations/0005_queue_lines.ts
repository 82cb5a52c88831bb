import { type Kysely, sql } from 'kysely';
import { dialectOf } from '../dialect.ts';

/**
 * Concerts whose waiting line was ever started, kept outside Redis: a line found empty after Redis lost
 * its data is then told apart from a line that never existed, and the queue holds admissions back for a
 * moment so the old fans can come back to their places before newcomers take the free slots.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const create = db.schema
    .createTable('queue_lines')
    .addColumn('concert_id', 'bigint', (c) => c.primaryKey())
    .addColumn('started_at', 'bigint', (c) => c.notNull());
  await (dialectOf(db) === 'sqlite' ? create : create.modifyEnd(sql`engine=InnoDB`)).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('queue_lines').execute();
}
