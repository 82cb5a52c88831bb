import { type Kysely, sql } from 'kysely';
import { dialectOf } from '../dialect.ts';
import { installProcedures, procedureNames } from '../procedures.ts';

/**
 * MySQL only: the seat procedures from their files in ../sql/ (shared/db/procedures.ts). hold_seat
 * replaces hold_available_seat: it also takes over lapsed holds and says why it refused, so a hold is one
 * round trip whatever its outcome. SQLite needs none: its store runs the statements.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  if (dialectOf(db) === 'sqlite') return;
  await sql`drop procedure if exists hold_available_seat`.execute(db);
  await installProcedures(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  if (dialectOf(db) === 'sqlite') return;
  for (const name of procedureNames) await sql`drop procedure if exists ${sql.id(name)}`.execute(db);
}
