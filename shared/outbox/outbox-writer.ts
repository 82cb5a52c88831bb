import { type Kysely, sql, type Transaction } from 'kysely';
import { dialectOf } from '../db/dialect.ts';
import type { DB } from '../db/schema.ts';
import { partitionFor } from '../events/bus.ts';
import type { Topic } from './events.ts';

/** Shards of the outbox (migration 0002 creates one lock row each): a relay locks shards, not rows. */
export const outboxShards = 64;

export interface OutboxEvent {
  topic: Topic;
  /** Partition key (docs/api.md): events of one key keep their order. */
  key: string;
  /** The business fact's own id (e.g. the reservation id): the CloudEvent id is derived from it, so the
   * same fact written twice (sweeper and lazy expiry both noticing one expiry) is one event. */
  factId: string;
  data: object;
  /**
   * Whose event it is, for the console's recent events of a concert: the concert, or one of its schedules.
   * Every product event names one; a row without it is not listed.
   */
  concert?: { concertId: number } | { scheduleId: number };
}

export function eventIdFor(topic: Topic, factId: string): string {
  return `${topic}:${factId}`;
}

export function outboxRow(event: OutboxEvent, now: number) {
  return {
    event_id: eventIdFor(event.topic, event.factId),
    topic: event.topic,
    event_key: event.key,
    type: event.topic,
    payload: JSON.stringify(event.data),
    created_at: now,
    sent_at: null,
    shard: partitionFor(event.key, outboxShards),
    // Looked up inside the INSERT, so a seat event costs no extra round trip for its concert.
    concert_id: concertIdOf(event.concert),
  };
}

function concertIdOf(concert: OutboxEvent['concert']) {
  if (concert === undefined) return null;
  if ('concertId' in concert) return concert.concertId;
  return sql<number>`(select concert_id from schedules where id = ${concert.scheduleId})`;
}

/** Written in the caller's transaction: the event exists if and only if the state change committed. */
export async function appendToOutbox(trx: Transaction<DB>, event: OutboxEvent, now: number): Promise<void> {
  await appendAllToOutbox(trx, [{ event, now }]);
}

/**
 * Several events in one INSERT (one statement is atomic on its own); a fact already written is skipped.
 * Returns how many rows were new.
 */
export async function appendAllToOutbox(
  db: Kysely<DB>,
  events: readonly { event: OutboxEvent; now: number }[],
): Promise<number> {
  if (events.length === 0) return 0;
  const insert = db.insertInto('outbox').values(events.map(({ event, now }) => outboxRow(event, now)));
  const results =
    dialectOf(db) === 'sqlite'
      ? await insert.onConflict((oc) => oc.column('event_id').doNothing()).execute()
      : await insert.ignore().execute();
  return results.reduce((sum, r) => sum + Number(r.numInsertedOrUpdatedRows ?? 0n), 0);
}
