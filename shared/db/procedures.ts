import { readFileSync } from 'node:fs';
import { type Kysely, type RawBuilder, sql } from 'kysely';
import { DependencyUnavailableError } from '../errors.ts';
import { retryOnConflict } from './errors.ts';
import type { DB } from './schema.ts';

/**
 * The MySQL stored procedures: each hot write (a hold, a payment) is one of them, one round trip. Their
 * SQL lives in ./sql/<name>.sql, read once per process; the build copies the directory next to each
 * bundle (as it does the Lua scripts), which is why the path is resolved from import.meta.url. SQLite
 * has none: its store runs the same transactions as statements.
 */
export const procedureNames = ['hold_seat', 'pay_reservation'] as const;

export type ProcedureName = (typeof procedureNames)[number];

const sources = new Map<ProcedureName, string>();

export function procedureSource(name: ProcedureName): string {
  let source = sources.get(name);
  if (source === undefined) {
    source = readFileSync(new URL(`./sql/${name}.sql`, import.meta.url), 'utf8');
    sources.set(name, source);
  }
  return source;
}

/** (Re)creates every procedure from its file: a migration that changes one is a plain re-run. */
export async function installProcedures(db: Kysely<unknown>): Promise<void> {
  for (const name of procedureNames) {
    await sql`drop procedure if exists ${sql.id(name)}`.execute(db);
    await sql.raw(procedureSource(name)).execute(db);
  }
}

/** The procedures this schema lacks (not migrated that far): /readyz names them. */
export async function missingProcedures(db: Kysely<DB>): Promise<ProcedureName[]> {
  const { rows } = await sql<{ name: string }>`select routine_name as name from information_schema.routines
    where routine_schema = database() and routine_type = 'PROCEDURE'`.execute(db);
  const present = new Set(rows.map((row) => row.name.toLowerCase()));
  return procedureNames.filter((name) => !present.has(name));
}

/** MySQL's "no such procedure". */
const noSuchProcedure = 1305;

/**
 * Calls a procedure that answers one row. Deadlock victims are rerun like any transaction. A missing
 * procedure is an outage of this process's schema, not a reason to run another path: 503, and /readyz
 * (missingProcedures) takes the process out of rotation until migrations have run.
 */
export async function callProcedure<Row>(name: ProcedureName, db: Kysely<DB>, call: RawBuilder<Row>) {
  try {
    const result = await retryOnConflict(() => call.execute(db));
    // CALL answers its result set, then the status of the call itself.
    const sets = result.rows as unknown[];
    const first = (Array.isArray(sets[0]) ? sets[0][0] : sets[0]) as Row | undefined;
    if (first === undefined) throw new Error(`stored procedure ${name} answered no row`);
    return first;
  } catch (error) {
    if ((error as { errno?: number } | null)?.errno === noSuchProcedure)
      throw new DependencyUnavailableError(`database procedure ${name}`, error);
    throw error;
  }
}
