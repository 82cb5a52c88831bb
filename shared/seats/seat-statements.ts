import { type Kysely, sql, type Transaction } from 'kysely';
import { dialectOf, lockForUpdate } from '../db/dialect.ts';
import { retryOnConflict } from '../db/errors.ts';
import type { DB } from '../db/schema.ts';
import { oncePerEvent } from '../events/dedupe.ts';
import { storedAnswer } from '../idempotency/idempotency.ts';
import { topics } from '../outbox/events.ts';
import { appendAllToOutbox, appendToOutbox } from '../outbox/outbox-writer.ts';
import { ok } from '../result.ts';
import { type ReservationRow, reservationColumns } from './reservation.ts';
import { reservationPage } from './reservation-list.ts';
import { type PaymentBody, reservationEvent } from './seat-events.ts';
import type { PaymentContext, SeatStore } from './seat-store.ts';

/**
 * The seat store's statements both dialects share: everything but the two hot writes. Each transaction
 * locks the seat rows first, by primary key, in the order a hold and a payment take their locks, so none
 * of them can deadlock another.
 */
export function seatStatements(db: Kysely<DB>): Omit<SeatStore, 'hold' | 'pay' | 'missingProcedures'> {
  return {
    reservation: (id) =>
      db
        .selectFrom('reservations')
        .select(reservationColumns)
        .where('id', '=', id)
        .executeTakeFirst()
        .then((row) => row ?? null),

    reservationsOf: (query) => reservationPage(db, query),

    cancel: ({ reservationId, seatId, now }) =>
      retryOnConflict(() =>
        db.transaction().execute(async (trx) => {
          await lockForUpdate(trx.selectFrom('seats').select('id').where('id', '=', seatId), trx).execute();
          const row = await lockForUpdate(
            trx.selectFrom('reservations').select(reservationColumns).where('id', '=', reservationId),
            trx,
          ).executeTakeFirstOrThrow();
          if (row.status === 'CANCELLED') return { outcome: 'CANCELLED' as const, reservation: row };
          if (row.status === 'CONFIRMED') return { outcome: 'ALREADY_PAID' as const };
          if (row.status === 'EXPIRED' || Number(row.expires_at) <= now)
            return { outcome: 'HOLD_EXPIRED' as const };
          await trx
            .updateTable('reservations')
            .set({ status: 'CANCELLED', updated_at: now })
            .where('id', '=', row.id)
            .execute();
          await freeSeats(trx, [row], now, { lapsedOnly: false });
          await appendToOutbox(trx, reservationEvent(topics.reservationCancelled, row), now);
          return { outcome: 'CANCELLED' as const, reservation: { ...row, status: 'CANCELLED' as const } };
        }),
      ),

    releaseLapsed: ({ consumer, eventId, seatId, reservationId, now }) =>
      oncePerEvent(db, { consumer, eventId, now }, (trx) =>
        freeSeats(trx, [{ id: reservationId, seat_id: seatId }], now, { lapsedOnly: true }),
      ),

    lapsedHolds: (now, limit) =>
      db
        .selectFrom('reservations')
        .select(reservationColumns)
        .where('status', '=', 'HELD')
        .where('expires_at', '<', now)
        .orderBy('expires_at')
        .orderBy('id')
        .limit(limit)
        .execute(),

    // Seats are freed first, by primary key, so the batch never locks another seat's rows whatever plan
    // the engine picks; the reservations are then re-read under lock, because a payment or a lazy takeover
    // may have settled some of them since the batch was chosen. Each event id is the reservation's, so a
    // lazy expiry that wrote it first leaves nothing to add.
    expire: async (chosen, now) => {
      if (chosen.length === 0) return [];
      return retryOnConflict(() =>
        db.transaction().execute(async (trx) => {
          await freeSeats(trx, chosen, now, { lapsedOnly: true });
          const ids = chosen.map((row) => Number(row.id));
          const locked = await lockForUpdate(
            trx.selectFrom('reservations').select(reservationColumns).where('id', 'in', ids),
            trx,
          ).execute();
          const still = locked.filter((row) => row.status === 'HELD' && Number(row.expires_at) < now);
          if (still.length === 0) return [];
          await trx
            .updateTable('reservations')
            .set({ status: 'EXPIRED', updated_at: now })
            .where(
              'id',
              'in',
              still.map((row) => Number(row.id)),
            )
            .execute();
          await appendAllToOutbox(
            trx,
            still.map((row) => ({ event: reservationEvent(topics.reservationExpired, row), now })),
          );
          return still;
        }),
      );
    },

    // Through the status/expiry index, so a scrape costs one range count.
    async lapsedBacklog(now) {
      const row = await db
        .selectFrom('reservations')
        .select((eb) => [eb.fn.countAll<number>().as('holds'), eb.fn.min('expires_at').as('oldest')])
        .where('status', '=', 'HELD')
        .where('expires_at', '<', now)
        .executeTakeFirst();
      const holds = Number(row?.holds ?? 0);
      const oldest = row?.oldest === null || row?.oldest === undefined ? null : Number(row.oldest);
      return { holds, oldest: holds === 0 ? null : oldest };
    },

    // One pass over each schedule's seats through the (schedule, status, …) index.
    async salesOf(concertId, now) {
      const live = sql<number>`case when t.status = 'HELD' and t.hold_expires_at >= ${now} then 1 else 0 end`;
      const rows = await db
        .selectFrom('schedules as s')
        .leftJoin('seats as t', 't.schedule_id', 's.id')
        .select((eb) => [
          's.id',
          's.starts_at',
          eb.fn.count<number>('t.id').as('seats'),
          sql<number>`sum(${live})`.as('held'),
          sql<number>`sum(case when t.status = 'SOLD' then 1 else 0 end)`.as('sold'),
        ])
        .where('s.concert_id', '=', concertId)
        .groupBy(['s.id', 's.starts_at'])
        .orderBy('s.starts_at')
        .orderBy('s.id')
        .execute();
      return rows.map((row) => {
        const held = Number(row.held ?? 0);
        const sold = Number(row.sold ?? 0);
        return {
          scheduleId: Number(row.id),
          startsAt: Number(row.starts_at),
          available: Number(row.seats) - held - sold,
          held,
          sold,
        };
      });
    },

    async paymentContext(request, reservationId): Promise<PaymentContext> {
      // One row whatever exists: the two lookups are outer joins on a row of nothing.
      const { rows } = await sql<{
        user_id: string | null;
        schedule_id: number | string | null;
        request_hash: string | null;
        status_code: number | null;
        response_body: string | null;
      }>`select r.user_id, r.schedule_id, i.request_hash, i.status_code, i.response_body
         from (select 1 as one) as base
         left join reservations r on r.id = ${reservationId}
         left join idempotency_records i
           on i.user_id = ${request.userId} and i.scope = ${request.scope} and i.idem_key = ${request.key}`.execute(
        db,
      );
      const row = rows[0];
      const stored =
        row?.request_hash != null
          ? storedAnswer<PaymentBody>(
              {
                request_hash: row.request_hash,
                status_code: row.status_code,
                response_body: row.response_body,
              },
              request,
            )
          : ok(null);
      const reservation =
        row?.user_id != null && row.schedule_id != null
          ? { user_id: row.user_id, schedule_id: Number(row.schedule_id) }
          : null;
      return { stored, reservation };
    },
  };
}

/**
 * Gives seats back to sale: those still linked to the given reservations and HELD (with a lapsed hold,
 * when `lapsedOnly`: a release or a sweep must never free a hold that is still live).
 */
async function freeSeats(
  trx: Transaction<DB>,
  reservations: readonly Pick<ReservationRow, 'id' | 'seat_id'>[],
  now: number,
  { lapsedOnly }: { lapsedOnly: boolean },
): Promise<void> {
  let update = trx
    .updateTable('seats')
    .set({ status: 'AVAILABLE', held_by: null, hold_expires_at: null, reservation_id: null, updated_at: now })
    .where(
      'id',
      'in',
      reservations.map((row) => Number(row.seat_id)),
    )
    .where(
      'reservation_id',
      'in',
      reservations.map((row) => Number(row.id)),
    )
    .where('status', '=', 'HELD');
  if (lapsedOnly) update = update.where('hold_expires_at', '<', now);
  await update.execute();
}

/**
 * A hold that lapsed on this seat becomes EXPIRED, with its event (once per fact): the takeover's part of
 * a hold. The live reservation is read through the unique index of the seat's live reservation and, on
 * MySQL, forced to it and locked: a plan through the status index would lock and wait on other seats'
 * holds (a payment in flight), deadlock against payments and stall unrelated seats. SQLite has one writer
 * at a time and needs no lock.
 */
export async function expireLapsedHold(
  trx: Transaction<DB>,
  seatId: number,
  now: number,
): Promise<ReservationRow | null> {
  const lapsed =
    dialectOf(trx) === 'sqlite'
      ? await trx
          .selectFrom('reservations')
          .select(reservationColumns)
          .where('active_seat_id', '=', seatId)
          .where('status', '=', 'HELD')
          .executeTakeFirst()
      : (
          await sql<ReservationRow>`select ${sql.join(reservationColumns.map((c) => sql.ref(c)))}
            from reservations force index (uq_reservations_active_seat)
            where active_seat_id = ${seatId} and status = 'HELD' for update`.execute(trx)
        ).rows[0];
  if (!lapsed) return null;
  await trx
    .updateTable('reservations')
    .set({ status: 'EXPIRED', updated_at: now })
    .where('id', '=', lapsed.id)
    .where('status', '=', 'HELD')
    .execute();
  await appendToOutbox(trx, reservationEvent(topics.reservationExpired, lapsed), now);
  return lapsed;
}
