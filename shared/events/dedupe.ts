import { type Kysely, sql, type Transaction } from 'kysely';
import { dialectOf } from '../db/dialect.ts';
import { isUniqueViolation, retryOnConflict } from '../db/errors.ts';
import type { DB } from '../db/schema.ts';

/**
 * Runs `work` once per (consumer, CloudEvent id): the processed mark is written in the work's own
 * transaction, so a redelivered event (Kafka is at-least-once) finds the mark and does nothing.
 */
export async function oncePerEvent(
  db: Kysely<DB>,
  input: { consumer: string; eventId: string; now: number },
  work: (trx: Transaction<DB>) => Promise<void>,
): Promise<'done' | 'duplicate'> {
  try {
    await db.transaction().execute(async (trx) => {
      await trx
        .insertInto('processed_events')
        .values({ consumer: input.consumer, event_id: input.eventId, processed_at: input.now })
        .execute();
      await work(trx);
    });
    return 'done';
  } catch (error) {
    if (isUniqueViolation(error)) {
      const seen = await db
        .selectFrom('processed_events')
        .select('event_id')
        .where('consumer', '=', input.consumer)
        .where('event_id', '=', input.eventId)
        .executeTakeFirst();
      if (seen) return 'duplicate';
    }
    throw error;
  }
}

/** What a consumer has done, by CloudEvent id (the `processed_events` rows of one consumer). */
export interface ProcessedLog {
  /** Whether the event id is recorded. */
  has(eventId: string): Promise<boolean>;
  /** Records the event id; resolves once the row is committed. Recording an id again changes nothing. */
  add(eventId: string, now: number): Promise<void>;
}

/** Largest id list of one lookup or insert. */
const maxBatch = 500;

/**
 * The processed ids of a consumer that handles many events at once and acts outside a transaction
 * (notify: 32 deliveries per partition in parallel, and its work is a webhook). Lookups and inserts that
 * arrive in the same turn of the event loop go to the database as one `SELECT ... IN (...)` and one
 * multi-row insert, and each caller gets its own answer: two statements per batch instead of two per
 * event (under a burst of events the per-event pair was a large share of the server's CPU, in mysql2 and Kysely).
 * Each caller still waits for its own row to be committed (a multi-row insert commits all rows or none).
 */
export function processedLog(db: Kysely<DB>, consumer: string): ProcessedLog {
  const has = coalesce<string, boolean>(async (ids) => {
    const unique = [...new Set(ids)];
    const rows = await db
      .selectFrom('processed_events')
      .select('event_id')
      .where('consumer', '=', consumer)
      .where('event_id', 'in', unique)
      .execute();
    const seen = new Set(rows.map((r) => r.event_id));
    return ids.map((id) => seen.has(id));
  });
  const add = coalesce<{ eventId: string; now: number }, void>(
    async (items) => {
      // In key order, so two inserts that share ids (a redelivery racing its first delivery in another
      // process) lock them in the same order; a deadlock all the same is rerun, the insert being idempotent.
      const rows = [...new Map(items.map((i) => [i.eventId, i])).values()]
        .sort((a, b) => (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0))
        .map((i) => ({ consumer, event_id: i.eventId, processed_at: i.now }));
      const insert = db.insertInto('processed_events').values(rows);
      // Duplicates only: any other failure (a too-long id, say) fails the batch, as a single insert would.
      if (dialectOf(db) === 'sqlite')
        await insert.onConflict((oc) => oc.columns(['consumer', 'event_id']).doNothing()).execute();
      else
        await retryOnConflict(() =>
          insert.onDuplicateKeyUpdate({ processed_at: sql<number>`processed_at` }).execute(),
        );
      return items.map(() => undefined);
    },
    // One insert at a time: the next batch gathers while this one is in flight.
    { serial: true },
  );
  return { has, add: (eventId, now) => add({ eventId, now }) };
}

/**
 * Calls made in one turn of the event loop run as one `run` (up to `maxBatch` each); a failure fails them
 * all. `serial`: one run at a time; calls made meanwhile wait and go together in the next.
 */
function coalesce<I, O>(
  run: (items: I[]) => Promise<O[]>,
  options: { serial?: boolean } = {},
): (item: I) => Promise<O> {
  let waiting: { item: I; resolve(o: O): void; reject(e: unknown): void }[] = [];
  let scheduled = false;
  let running = 0;
  const flush = () => {
    scheduled = false;
    if (options.serial && running > 0) return; // the run in flight flushes when it ends
    const all = waiting;
    waiting = [];
    for (let i = 0; i < all.length; i += maxBatch) {
      const batch = all.slice(i, i + maxBatch);
      running++;
      run(batch.map((b) => b.item))
        .then(
          (outs) => {
            for (let j = 0; j < batch.length; j++) batch[j]!.resolve(outs[j]!);
          },
          (error: unknown) => {
            for (const b of batch) b.reject(error);
          },
        )
        .finally(() => {
          running--;
          if (running === 0 && waiting.length > 0 && !scheduled) flush();
        });
      if (options.serial && i + maxBatch < all.length) {
        // Serial: the rest waits for this run.
        waiting = [...all.slice(i + maxBatch), ...waiting];
        break;
      }
    }
  };
  return (item) =>
    new Promise<O>((resolve, reject) => {
      waiting.push({ item, resolve, reject });
      if (!scheduled && !(options.serial && running > 0)) {
        scheduled = true;
        setImmediate(flush);
      }
    });
}
