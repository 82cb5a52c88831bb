import type { Kysely } from 'kysely';
import { dialectOf } from '../db/dialect.ts';
import type { DB } from '../db/schema.ts';

/**
 * What the database can tell the queue when Redis has lost the line: whether a concert's line had been
 * started before, and whether a user already paid for that concert since a token was issued (the token
 * was used, so it must not be restored).
 */
export interface QueueRecords {
  /**
   * Notes that the concert's line starts now; true when it had been started before. A start recorded
   * moments ago counts as this one: replicas starting the same new line at once must not see a loss.
   */
  lineStarted(concertId: string, now: number): Promise<boolean>;
  /** True when the user paid a reservation of this concert at or after `since` (ms). */
  paidSince(concertId: string, userId: string, since: number): Promise<boolean>;
}

/** Starts closer together than this are the same start (replicas racing on a new line). */
const sameStartMs = 5000;

export function createQueueRecords(db: Kysely<DB>): QueueRecords {
  return {
    async lineStarted(concertId, now) {
      const id = Number(concertId);
      const row = await db
        .selectFrom('queue_lines')
        .select('started_at')
        .where('concert_id', '=', id)
        .executeTakeFirst();
      if (row) return Number(row.started_at) < now - sameStartMs;
      const insert = db.insertInto('queue_lines').values({ concert_id: id, started_at: now });
      // A replica inserting the same line in between is the same start, not an error.
      if (dialectOf(db) === 'sqlite')
        await insert.onConflict((oc) => oc.column('concert_id').doNothing()).execute();
      else await insert.ignore().execute();
      return false;
    },

    async paidSince(concertId, userId, since) {
      const row = await db
        .selectFrom('payments as p')
        .innerJoin('reservations as r', 'r.id', 'p.reservation_id')
        .innerJoin('schedules as s', 's.id', 'r.schedule_id')
        .select('p.id')
        .where('p.user_id', '=', userId)
        .where('s.concert_id', '=', Number(concertId))
        .where('p.created_at', '>=', since)
        .limit(1)
        .executeTakeFirst();
      return row !== undefined;
    },
  };
}
