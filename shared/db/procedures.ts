import type { Kysely, RawBuilder } from 'kysely';
import { dialectOf } from './dialect.ts';
import { retryOnConflict } from './errors.ts';
import type { DB } from './schema.ts';

/** MySQL's "no such procedure": a schema not migrated that far, or a server without stored procedures. */
const noSuchProcedure = 1305;

export interface Procedure<Args extends unknown[], Row> {
  /** The procedure's answer row, or null where it cannot run (not MySQL, or not installed). */
  call(...args: Args): Promise<Row | null>;
}

/**
 * A stored procedure that answers one row (migrations 0003 and 0004), called as one round trip. Deadlock
 * victims are rerun like any transaction; where the procedure is missing it answers null from then on,
 * and the caller takes its statement path.
 */
export function storedProcedure<Args extends unknown[], Row>(
  db: Kysely<DB>,
  build: (...args: Args) => RawBuilder<Row>,
): Procedure<Args, Row> {
  let available = dialectOf(db) === 'mysql';
  return {
    async call(...args) {
      if (!available) return null;
      try {
        const result = await retryOnConflict(() => build(...args).execute(db));
        // CALL answers its result set, then the status of the call itself.
        const sets = result.rows as unknown[];
        const first = (Array.isArray(sets[0]) ? sets[0][0] : sets[0]) as Row | undefined;
        if (first === undefined) throw new Error('stored procedure answered no row');
        return first;
      } catch (error) {
        if ((error as { errno?: number } | null)?.errno === noSuchProcedure) {
          available = false;
          return null;
        }
        throw error;
      }
    },
  };
}

/** One Procedure per database handle, made on first use. */
export function perDatabase<T>(make: (db: Kysely<DB>) => T): (db: Kysely<DB>) => T {
  const made = new WeakMap<Kysely<DB>, T>();
  return (db) => {
    if (!made.has(db)) made.set(db, make(db));
    return made.get(db) as T;
  };
}
