import type { Kysely } from 'kysely';
import type { Clock } from '../clock.ts';
import type { DB } from '../db/schema.ts';
import type { OnActivated } from '../queue/activated.ts';
import type { Runtime } from '../runtime.ts';
import { topics } from './events.ts';
import { appendToOutbox } from './outbox-writer.ts';

/**
 * `queue.activated` through the outbox like every other event: admission happens in Redis, so the rows
 * are written right after it (one small transaction per admission step), and the relay publishes them.
 */
export function recordActivations(db: Kysely<DB>, clock: Clock): OnActivated {
  return async (concertId, userIds) => {
    const now = clock.now();
    await db.transaction().execute(async (trx) => {
      for (const userId of userIds) {
        await appendToOutbox(
          trx,
          {
            topic: topics.queueActivated,
            key: userId,
            factId: `${concertId}:${userId}:${now}`,
            data: { concertId, userId, activatedAt: new Date(now).toISOString() },
          },
          now,
        );
      }
    });
  };
}

/** The hook every admitting place uses (enter-queue, the status poll, admit-queue). */
export const activationHookFor = (rt: Pick<Runtime, 'database' | 'clock'>) =>
  recordActivations(rt.database.db, rt.clock);
