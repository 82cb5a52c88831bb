import type { Kysely } from 'kysely';
import type { Clock } from '../clock.ts';
import type { DB } from '../db/schema.ts';
import type { Logger } from '../logger.ts';
import type { OnActivated } from '../queue/activated.ts';
import type { JournalWriter } from '../queue/activation-journal.ts';
import type { Runtime } from '../runtime.ts';
import { topics } from './events.ts';
import { appendAllToOutbox, type OutboxEvent } from './outbox-writer.ts';

/** Rows per INSERT: well under max_allowed_packet with the small queue.activated payloads. */
const maxRowsPerInsert = 500;

export interface ActivationRecordOptions {
  logger?: Logger | undefined;
  /** Backoff between attempts to write rows the database refused, doubling from `first` up to `max`. */
  retryDelayMs?: { first: number; max: number };
}

interface Batch {
  rows: { event: OutboxEvent; now: number }[];
  done: Deferred;
}

/**
 * `queue.activated` through the outbox like every other event: admission happens in Redis, so the rows are
 * written right after it and the relay publishes them. At an opening every request admits someone, so the
 * admissions of one turn of the event loop share one INSERT instead of a transaction each. Each
 * caller's promise settles when its own rows are written.
 *
 * The admission itself cannot be taken back, so rows the database refuses (an outage) are kept and written
 * again with backoff until it answers: the fan is ACTIVE either way, and the notice follows late rather
 * than never. Writing a fact twice is harmless (the insert skips an event id already there).
 */
export function recordActivations(
  db: Kysely<DB>,
  clock: Clock,
  options: ActivationRecordOptions = {},
): OnActivated {
  const { first, max } = options.retryDelayMs ?? { first: 250, max: 5000 };
  let pending: Batch | null = null;
  let refused: Batch[] = [];
  let retryScheduled = false;
  let delay = first;

  const write = async (rows: Batch['rows']) => {
    await writeRows(db, rows);
  };

  const keepForRetry = (batch: Batch, error: unknown) => {
    if (refused.length === 0 && !retryScheduled) {
      options.logger?.warn(
        { err: error instanceof Error ? error.message : String(error), users: batch.rows.length },
        'queue.activated rows kept in memory until the database answers',
      );
    }
    refused.push(batch);
    scheduleRetry();
  };

  const scheduleRetry = () => {
    if (retryScheduled) return;
    retryScheduled = true;
    setTimeout(() => void retry(), delay).unref();
  };

  const retry = async () => {
    const batches = refused;
    refused = [];
    const rows = batches.flatMap((batch) => batch.rows);
    try {
      await write(rows);
      for (const batch of batches) batch.done.resolve();
      options.logger?.info(
        { users: rows.length },
        'queue.activated rows written after the database came back',
      );
      delay = first;
    } catch {
      refused = batches.concat(refused);
      delay = Math.min(delay * 2, max);
    }
    retryScheduled = false;
    if (refused.length > 0) scheduleRetry();
  };

  const flush = async (batch: Batch) => {
    try {
      await write(batch.rows);
      batch.done.resolve();
    } catch (error) {
      keepForRetry(batch, error);
    }
  };

  return (concertId, userIds, at) => {
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
    for (const userId of userIds) batch.rows.push({ event: activationEvent(concertId, userId, at), now });
    return batch.done.promise;
  };
}

/** One admission's event; its identity is the concert, the user and the admission time. */
function activationEvent(concertId: string, userId: string, at: number): OutboxEvent {
  return {
    topic: topics.queueActivated,
    key: userId,
    factId: `${concertId}:${userId}:${at}`,
    data: { concertId, userId, activatedAt: new Date(at).toISOString() },
    concert: { concertId: Number(concertId) },
  };
}

/**
 * Writes activations now, resolving with how many were not in the outbox yet (the journal's sweep: it
 * keeps what a failed write left and tries again on its next run).
 */
export function writeActivations(db: Kysely<DB>, clock: Clock): JournalWriter {
  return (concertId, activations) => {
    const now = clock.now();
    return writeRows(
      db,
      activations.map((a) => ({ event: activationEvent(concertId, a.userId, a.at), now })),
    );
  };
}

/** Returns how many rows were new (the others were written before). */
async function writeRows(db: Kysely<DB>, rows: { event: OutboxEvent; now: number }[]): Promise<number> {
  let inserted = 0;
  for (let i = 0; i < rows.length; i += maxRowsPerInsert) {
    inserted += await appendAllToOutbox(db, rows.slice(i, i + maxRowsPerInsert));
  }
  return inserted;
}

interface Deferred {
  promise: Promise<void>;
  resolve(): void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  const promise = new Promise<void>((res) => {
    resolve = res;
  });
  return { promise, resolve };
}

/** The hook every admitting place uses (enter-queue, the status poll, admit-queue). */
export const activationHookFor = (rt: Pick<Runtime, 'database' | 'clock' | 'logger'>) =>
  recordActivations(rt.database.db, rt.clock, { logger: rt.logger });

/** The journal's sweep writer (admit-queue). */
export const activationWriterFor = (rt: Pick<Runtime, 'database' | 'clock'>) =>
  writeActivations(rt.database.db, rt.clock);
