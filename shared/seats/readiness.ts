import { dialectOf } from '../db/dialect.ts';
import type { Runtime } from '../runtime.ts';
import { seatStoreFor } from './seat-store.ts';

export const proceduresCheck = 'stored procedures';

/**
 * Puts the seat store's stored procedures in this process's /readyz (MySQL; SQLite has none): a schema not migrated far enough
 * takes the process out of rotation, naming what is missing, instead of failing each hold or payment.
 * Once all are there the answer is kept: nothing drops them but a person.
 */
export function reportSeatProcedures(rt: Pick<Runtime, 'database' | 'readiness'>): void {
  if (dialectOf(rt.database.db) === 'sqlite') return;
  if (rt.readiness.some((r) => r.name === proceduresCheck)) return;
  const store = seatStoreFor(rt.database.db);
  let present = false;
  rt.readiness.push({
    name: proceduresCheck,
    async check() {
      if (present) return;
      let missing: string[];
      try {
        missing = await store.missingProcedures();
      } catch {
        // A database that does not answer is the database check's to report, not this one's.
        return;
      }
      if (missing.length > 0)
        throw new Error(`missing in the database: ${missing.join(', ')} (run the migrations)`);
      present = true;
    },
  });
}
