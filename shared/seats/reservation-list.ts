import { type Kysely, sql } from 'kysely';
import type { DB, ReservationStatus } from '../db/schema.ts';

/**
 * One page of a user's reservations, newest first, after the reservation `beforeId` when given. The status
 * filter means the status the API shows: a HELD row past its expiry reads EXPIRED before the sweeper marks
 * it, so it is listed under EXPIRED and not under HELD. One row more than asked tells whether more follow.
 */
export interface ReservationQuery {
  userId: string;
  limit: number;
  now: number;
  status?: ReservationStatus | undefined;
  beforeId?: number | undefined;
}

export type ReservationPage = Awaited<ReturnType<typeof reservationPage>>;

export async function reservationPage(db: Kysely<DB>, input: ReservationQuery) {
  let query = db
    .selectFrom('reservations')
    .select(['id', 'user_id', 'schedule_id', 'seat_id', 'price', 'status', 'expires_at'])
    .where('user_id', '=', input.userId);
  if (input.status === 'HELD') {
    query = query.where('status', '=', 'HELD').where('expires_at', '>', input.now);
  } else if (input.status === 'EXPIRED') {
    query = query.where(
      sql<boolean>`(status = 'EXPIRED' or (status = 'HELD' and expires_at <= ${input.now}))`,
    );
  } else if (input.status !== undefined) {
    query = query.where('status', '=', input.status);
  }
  if (input.beforeId !== undefined) query = query.where('id', '<', input.beforeId);
  const rows = await query
    .orderBy('id', 'desc')
    .limit(input.limit + 1)
    .execute();
  return {
    more: rows.length > input.limit,
    rows: rows.slice(0, input.limit).map((r) => ({
      ...r,
      id: Number(r.id),
      schedule_id: Number(r.schedule_id),
      seat_id: Number(r.seat_id),
      price: Number(r.price),
      expires_at: Number(r.expires_at),
    })),
  };
}
