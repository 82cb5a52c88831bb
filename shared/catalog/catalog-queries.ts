import { type Kysely, sql } from 'kysely';
import type { DB } from '../db/schema.ts';

type SeatView = { id: string; number: number; price: number; status: 'AVAILABLE' | 'HELD' | 'SOLD' };

export async function listConcerts(db: Kysely<DB>) {
  const rows = await db
    .selectFrom('concerts')
    .select(['id', 'title', 'venue'])
    .orderBy('id')
    .limit(500)
    .execute();
  return rows.map((r) => ({ id: String(r.id), title: r.title, venue: r.venue }));
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
    .orderBy('s.starts_at')
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
