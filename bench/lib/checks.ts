import { type Kysely, sql } from 'kysely';
import type { DB } from '../../shared/db/schema.ts';

export interface HoldState {
  /** Live (HELD or CONFIRMED) reservations on these schedules: the holds won. */
  live: number;
  /** Seats with more than one live reservation. */
  doubleBooked: number;
  /** Live reservations whose seat does not name them (another reservation, or not HELD/SOLD). */
  unnamed: number;
  /** Seats HELD or SOLD without a live reservation behind them (a seat blocked for nobody). */
  phantom: number;
}

/** Read from the database after a hold scenario: oversold = doubleBooked + unnamed, which must be 0. */
export async function holdState(db: Kysely<DB>, scheduleIds: number[]): Promise<HoldState> {
  const live = ['HELD', 'CONFIRMED'] as const;
  const [count, doubled, unnamed, phantom] = await Promise.all([
    db
      .selectFrom('reservations')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('schedule_id', 'in', scheduleIds)
      .where('status', 'in', live)
      .executeTakeFirstOrThrow(),
    db
      .selectFrom(
        db
          .selectFrom('reservations')
          .select('seat_id')
          .where('schedule_id', 'in', scheduleIds)
          .where('status', 'in', live)
          .groupBy('seat_id')
          .having(sql`count(*)`, '>', 1)
          .as('d'),
      )
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow(),
    db
      .selectFrom('reservations as r')
      .innerJoin('seats as s', 's.id', 'r.seat_id')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('r.schedule_id', 'in', scheduleIds)
      .where('r.status', 'in', live)
      .where((eb) =>
        eb.or([
          eb('s.reservation_id', 'is', null),
          eb('s.reservation_id', '!=', eb.ref('r.id')),
          eb('s.status', 'not in', ['HELD', 'SOLD']),
        ]),
      )
      .executeTakeFirstOrThrow(),
    db
      .selectFrom('seats as s')
      .leftJoin('reservations as r', (join) =>
        join.onRef('r.id', '=', 's.reservation_id').on('r.status', 'in', live),
      )
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('s.schedule_id', 'in', scheduleIds)
      .where('s.status', 'in', ['HELD', 'SOLD'])
      .where('r.id', 'is', null)
      .executeTakeFirstOrThrow(),
  ]);
  return {
    live: Number(count.n),
    doubleBooked: Number(doubled.n),
    unnamed: Number(unnamed.n),
    phantom: Number(phantom.n),
  };
}
