import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.ts';
import { createConcert } from './create-concert.ts';

const day = 24 * 3600 * 1000;

/** A concert to try the API on, created only when the database has none. */
export async function seedDemoConcert(db: Kysely<DB>, now: number): Promise<string | null> {
  const existing = await db.selectFrom('concerts').select('id').limit(1).executeTakeFirst();
  if (existing) return null;
  const created = await createConcert(
    db,
    {
      title: 'Demo Concert',
      venue: 'Olympic Hall, Seoul',
      schedules: [
        { startsAt: now + 30 * day, seatCount: 50, price: 80_000 },
        { startsAt: now + 31 * day, seatCount: 50, price: 80_000 },
      ],
    },
    now,
  );
  return created.id;
}
