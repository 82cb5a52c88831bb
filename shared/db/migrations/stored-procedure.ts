import { type Kysely, type RawBuilder, sql } from 'kysely';
import { dialectOf } from '../dialect.ts';

/**
 * A migration that (re)creates one stored procedure on MySQL and does nothing on SQLite, whose statement
 * paths need none. Dropping first makes a later migration that changes the procedure a plain re-run.
 */
export function storedProcedureMigration(name: string, create: RawBuilder<unknown>) {
  const drop = sql`drop procedure if exists ${sql.id(name)}`;
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      if (dialectOf(db) === 'sqlite') return;
      await drop.execute(db);
      await create.execute(db);
    },
    async down(db: Kysely<unknown>): Promise<void> {
      if (dialectOf(db) === 'sqlite') return;
      await drop.execute(db);
    },
  };
}
