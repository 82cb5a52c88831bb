import { type Kysely, sql } from 'kysely';
import type { DB } from '../db/schema.ts';

type SeatView = { id: string; number: number; price: number; status: 'AVAILABLE' | 'HELD' | 'SOLD' };

/** Filters on a concert's schedules: a concert is listed when one of its schedules passes all of them. */
export interface ConcertFilter {
  /** A schedule that has not started yet. */
  upcoming?: boolean;
  /** An upcoming schedule with a seat a hold could win now (free, or held by a lapsed hold). */
  onSale?: boolean;
  /** Starts at or after (epoch ms). */
  from?: number;
  /** Starts before (epoch ms). */
  to?: number;
  minPrice?: number;
  maxPrice?: number;
}

export interface ConcertSummary {
  id: number;
  title: string;
  venue: string;
  /** Over the schedules that pass the filter; null only for a concert without schedules and no filter. */
  firstStartsAt: number | null;
  lastStartsAt: number | null;
  minPrice: number | null;
  maxPrice: number | null;
}

/** The schedules that pass every filter given (all schedules for an empty filter). */
function matchingSchedules(db: Kysely<DB>, filter: ConcertFilter, now: number) {
  let query = db.selectFrom('schedules as s');
  if (filter.upcoming || filter.onSale) query = query.where('s.starts_at', '>', now);
  if (filter.from !== undefined) query = query.where('s.starts_at', '>=', filter.from);
  if (filter.to !== undefined) query = query.where('s.starts_at', '<', filter.to);
  if (filter.minPrice !== undefined) query = query.where('s.price', '>=', filter.minPrice);
  if (filter.maxPrice !== undefined) query = query.where('s.price', '<=', filter.maxPrice);
  if (filter.onSale) {
    query = query.where(({ exists, selectFrom }) =>
      exists(
        selectFrom('seats as t')
          .select('t.id')
          .whereRef('t.schedule_id', '=', 's.id')
          .where(
            sql<boolean>`(t.status = 'AVAILABLE' or (t.status = 'HELD' and t.hold_expires_at < ${now}))`,
          ),
      ),
    );
  }
  return query;
}

/**
 * One page of concerts, newest first, after the concert `beforeId` when given. Keyset paging on the primary
 * key: a page is one index range however deep the caller is, and a concert added meanwhile cannot shift
 * later pages. One row more than asked tells whether another page follows. The page is chosen first and
 * summarised after, so the grouping covers the page's schedules only, not every concert's.
 */
export async function concertPage(
  db: Kysely<DB>,
  input: { limit: number; beforeId?: number | undefined; filter: ConcertFilter; now: number },
): Promise<{ concerts: ConcertSummary[]; more: boolean }> {
  const { filter, now } = input;
  const filtered = Object.values(filter).some((v) => v !== undefined && v !== false);
  let query = db.selectFrom('concerts as c').select(['c.id', 'c.title', 'c.venue']);
  if (input.beforeId !== undefined) query = query.where('c.id', '<', input.beforeId);
  if (filtered) query = query.where('c.id', 'in', matchingSchedules(db, filter, now).select('s.concert_id'));
  const rows = await query
    .orderBy('c.id', 'desc')
    .limit(input.limit + 1)
    .execute();
  const page = rows.slice(0, input.limit);
  const summaries =
    page.length === 0
      ? []
      : await matchingSchedules(db, filter, now)
          .where(
            's.concert_id',
            'in',
            page.map((r) => r.id),
          )
          .select(({ fn }) => [
            's.concert_id',
            fn.min('s.starts_at').as('first_starts_at'),
            fn.max('s.starts_at').as('last_starts_at'),
            fn.min('s.price').as('min_price'),
            fn.max('s.price').as('max_price'),
          ])
          .groupBy('s.concert_id')
          .execute();
  const byConcert = new Map(summaries.map((r) => [Number(r.concert_id), r]));
  const orNull = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  return {
    more: rows.length > input.limit,
    concerts: page.map((r) => {
      const summary = byConcert.get(Number(r.id));
      return {
        id: Number(r.id),
        title: r.title,
        venue: r.venue,
        firstStartsAt: orNull(summary?.first_starts_at),
        lastStartsAt: orNull(summary?.last_starts_at),
        minPrice: orNull(summary?.min_price),
        maxPrice: orNull(summary?.max_price),
      };
    }),
  };
}

export async function concertExists(db: Kysely<DB>, concertId: number): Promise<boolean> {
  return (
    (await db.selectFrom('concerts').select('id').where('id', '=', concertId).executeTakeFirst()) !==
    undefined
  );
}

/** Available = free, or held by a hold that ran out (lazy expiry): what a hold attempt would win now. */
export async function listSchedules(db: Kysely<DB>, concertId: number, now: number) {
  const rows = await db
    .selectFrom('schedules as s')
    .leftJoin('seats as t', 't.schedule_id', 's.id')
    .select([
      's.id',
      's.concert_id',
      's.starts_at',
      sql<number>`sum(case when t.status = 'AVAILABLE' or (t.status = 'HELD' and t.hold_expires_at < ${now}) then 1 else 0 end)`.as(
        'available',
      ),
    ])
    .where('s.concert_id', '=', concertId)
    .groupBy(['s.id', 's.concert_id', 's.starts_at'])
    // The id breaks ties so that equal data is always the same bytes, and so the same ETag.
    .orderBy('s.starts_at')
    .orderBy('s.id')
    .execute();
  return rows.map((r) => ({
    id: String(r.id),
    concertId: String(r.concert_id),
    startsAt: new Date(Number(r.starts_at)).toISOString(),
    availableSeats: Number(r.available ?? 0),
  }));
}

/** The seat map, and how long it stays true if nothing else changes (until the earliest live hold ends). */
export async function loadSeatMap(
  db: Kysely<DB>,
  scheduleId: number,
  now: number,
): Promise<{ items: SeatView[]; validForMs: number } | null> {
  const rows = await db
    .selectFrom('seats')
    .select(['id', 'number', 'price', 'status', 'hold_expires_at'])
    .where('schedule_id', '=', scheduleId)
    .orderBy('number')
    .execute();
  if (rows.length === 0) return null;
  let validForMs = Number.POSITIVE_INFINITY;
  const items = rows.map((r): SeatView => {
    let status = r.status;
    if (status === 'HELD') {
      const until = Number(r.hold_expires_at ?? 0);
      if (until < now) status = 'AVAILABLE';
      else validForMs = Math.min(validForMs, until - now + 1);
    }
    return { id: String(r.id), number: Number(r.number), price: Number(r.price), status };
  });
  return { items, validForMs };
}

/** Schedules never move between concerts, so the answer is cached for the life of the process. */
export function createScheduleConcertLookup(db: Kysely<DB>) {
  const known = new Map<number, number | null>();
  return async function concertOfSchedule(scheduleId: number): Promise<number | null> {
    const hit = known.get(scheduleId);
    if (hit !== undefined) return hit;
    const row = await db
      .selectFrom('schedules')
      .select('concert_id')
      .where('id', '=', scheduleId)
      .executeTakeFirst();
    const concertId = row ? Number(row.concert_id) : null;
    if (concertId !== null) {
      if (known.size > 50_000) known.clear();
      known.set(scheduleId, concertId);
    }
    return concertId;
  };
}

/**
 * Whether a concert exists, remembered: concerts are never deleted, so a yes holds for the life of the
 * process and the queue's hot path touches the database once per concert, not once per request.
 */
export function createConcertExistence(db: Kysely<DB>) {
  const known = new Set<string>();
  return async function concertKnown(concertId: string): Promise<boolean> {
    if (known.has(concertId)) return true;
    if (!/^\d{1,19}$/.test(concertId)) return false;
    const found = await concertExists(db, Number(concertId));
    if (found) known.add(concertId);
    return found;
  };
}
