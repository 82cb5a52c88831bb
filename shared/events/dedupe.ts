import type { Kysely, Transaction } from 'kysely';
import { isUniqueViolation } from '../db/errors.ts';
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

export async function alreadyProcessed(db: Kysely<DB>, consumer: string, eventId: string): Promise<boolean> {
  const row = await db
    .selectFrom('processed_events')
    .select('event_id')
    .where('consumer', '=', consumer)
    .where('event_id', '=', eventId)
    .executeTakeFirst();
  return row !== undefined;
}

export async function markProcessed(
  db: Kysely<DB>,
  consumer: string,
  eventId: string,
  now: number,
): Promise<void> {
  try {
    await db
      .insertInto('processed_events')
      .values({ consumer, event_id: eventId, processed_at: now })
      .execute();
  } catch (error) {
    if (!isUniqueViolation(error)) throw error;
  }
}
