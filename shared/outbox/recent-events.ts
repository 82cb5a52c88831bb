import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.ts';

export interface RecentEvent {
  id: number;
  topic: string;
  key: string;
  createdAt: number;
  /** When the relay published it; null while it waits in the outbox. */
  sentAt: number | null;
  data: unknown;
}

/** Longer payloads are not shown: every event this project writes is far below it. */
const maxPayloadChars = 2000;

/**
 * A concert's latest events from the outbox, newest first: one backward range of the (concert, id) index
 * (migration 0007), whatever the size of the outbox.
 */
export async function recentEvents(db: Kysely<DB>, concertId: number, limit: number): Promise<RecentEvent[]> {
  const rows = await db
    .selectFrom('outbox')
    .select(['id', 'topic', 'event_key', 'payload', 'created_at', 'sent_at'])
    .where('concert_id', '=', concertId)
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return rows.map((row) => ({
    id: Number(row.id),
    topic: row.topic,
    key: row.event_key,
    createdAt: Number(row.created_at),
    sentAt: row.sent_at === null ? null : Number(row.sent_at),
    data: row.payload.length <= maxPayloadChars ? (JSON.parse(row.payload) as unknown) : null,
  }));
}
