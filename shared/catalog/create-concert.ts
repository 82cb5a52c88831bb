import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.ts';

export interface NewConcert {
  title: string;
  venue: string;
  schedules: { startsAt: number; seatCount: number; price: number }[];
}

export interface CreatedConcert {
  id: string;
  title: string;
  venue: string;
  schedules: { id: string; startsAt: string; seatCount: number; price: number }[];
}

/** A concert, its schedules and their seats (numbered 1..seatCount), all or nothing. */
export async function createConcert(db: Kysely<DB>, input: NewConcert, now: number): Promise<CreatedConcert> {
  return db.transaction().execute(async (trx) => {
    const concert = await trx
      .insertInto('concerts')
      .values({ title: input.title, venue: input.venue, created_at: now })
      .executeTakeFirstOrThrow();
    const concertId = Number(concert.insertId);
    const schedules: CreatedConcert['schedules'] = [];
    for (const s of input.schedules) {
      const schedule = await trx
        .insertInto('schedules')
        .values({ concert_id: concertId, starts_at: s.startsAt, seat_count: s.seatCount, price: s.price })
        .executeTakeFirstOrThrow();
      const scheduleId = Number(schedule.insertId);
      const seats = Array.from({ length: s.seatCount }, (_, i) => ({
        schedule_id: scheduleId,
        number: i + 1,
        price: s.price,
        status: 'AVAILABLE' as const,
        updated_at: now,
      }));
      for (let i = 0; i < seats.length; i += 500) {
        await trx
          .insertInto('seats')
          .values(seats.slice(i, i + 500))
          .execute();
      }
      schedules.push({
        id: String(scheduleId),
        startsAt: new Date(s.startsAt).toISOString(),
        seatCount: s.seatCount,
        price: s.price,
      });
    }
    return { id: String(concertId), title: input.title, venue: input.venue, schedules };
  });
}
