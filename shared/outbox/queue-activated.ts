import type { Kysely } from 'kysely';
import type { Clock } from '../clock.ts';
import type { DB } from '../db/schema.ts';
import type { OnActivated } from '../queue/activated.ts';
import type { Runtime } from '../runtime.ts';
import { topics } from './events.ts';
import { appendAllToOutbox, type OutboxEvent } from './outbox-writer.ts';

/** Rows per INSERT: well under max_allowed_packet with the small queue.activated payloads. */
const maxRowsPerInsert = 500;

/**
 * `queue.activated` through the outbox like every other event: admission happens in Redis, so the rows are
 * written right after it and the relay publishes them. At an opening every request admits someone, so the
 * admissions of one turn of the event loop share one INSERT instead of a transaction each (the bench showed
 * a transaction per admission costing an eighth of enter-queue's CPU). Each caller's promise settles when
 * its own rows are written.
 */
export function recordActivations(db: Kysely<DB>, clock: Clock): OnActivated {
  interface Batch {
    rows: { event: OutboxEvent; now: number }[];
    done: Deferred;
  }
  let pending: Batch | null = null;

  const flush = async (batch: Batch) => {
    try {
      for (let i = 0; i < batch.rows.length; i += maxRowsPerInsert) {
        await appendAllToOutbox(db, batch.rows.slice(i, i + maxRowsPerInsert));
      }
      batch.done.resolve();
    } catch (error) {
      batch.done.reject(error);
    }
  };

  return (concertId, userIds) => {
    const now = clock.now();
    let batch = pending;
    if (!batch) {
      const fresh: Batch = { rows: [], done: deferred() };
      batch = pending = fresh;
      setImmediate(() => {
        pending = null;
        void flush(fresh);
      });
    }
    for (const userId of userIds) {
      batch.rows.push({
        event: {
          topic: topics.queueActivated,
          key: userId,
          factId: `${concertId}:${userId}:${now}`,
          data: { concertId, userId, activatedAt: new Date(now).toISOString() },
        },
        now,
      });
    }
    return batch.done.promise;
  };
}

interface Deferred {
  promise: Promise<void>;
  resolve(): void;
  reject(error: unknown): void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // Every caller gets this promise and reports its failure; an unobserved rejection must not crash.
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

/** The hook every admitting place uses (enter-queue, the status poll, admit-queue). */
export const activationHookFor = (rt: Pick<Runtime, 'database' | 'clock'>) =>
  recordActivations(rt.database.db, rt.clock);
