import { type Kysely, sql, type Transaction } from 'kysely';
import { afterCommit } from '../../shared/after-commit.ts';
import type { Clock } from '../../shared/clock.ts';
import { dialectOf } from '../../shared/db/dialect.ts';
import { retryOnConflict } from '../../shared/db/errors.ts';
import type { DB } from '../../shared/db/schema.ts';
import { type ReservationEventData, topics } from '../../shared/outbox/events.ts';
import { appendToOutbox } from '../../shared/outbox/outbox-writer.ts';
import { claimTtlMs, type HoldGuard, seatGuardKey } from '../../shared/seats/hold-guard.ts';
import { oneTripHoldFor } from './hold-available-seat.ts';

/** A sold seat never frees: contenders are turned away by Redis for an hour at a time. */
const soldGuardMs = 3_600_000;

import type { SeatCache } from '../../shared/seats/seat-cache.ts';
import {
  type ReservationRow,
  type ReservationView,
  reservationColumns,
  reservationView,
} from './reservation-view.ts';

export interface HoldDeps {
  db: Kysely<DB>;
  clock: Clock;
  holdTtlMs: number;
  guard: HoldGuard;
  seatCache: SeatCache;
  onOutcome?(outcome: 'won' | 'lost_guard' | 'lost_db' | 'repeat'): void;
}

export type HoldResult =
  | { ok: true; reservation: ReservationView }
  | { ok: false; code: 'SEAT_TAKEN' | 'NOT_FOUND' };

/**
 * Holds a seat for HOLD_TTL_SECONDS. The Redis guard turns away the losers of a stampede cheaply; the
 * database decides with one conditional UPDATE whose affected-row count says who won. A hold that ran
 * out is free to take even if no sweeper has run (lazy expiry): the winner's transaction marks the old
 * reservation EXPIRED and records its event.
 */
export async function holdSeat(
  deps: HoldDeps,
  input: { userId: string; scheduleId: number; seatId: number },
): Promise<HoldResult> {
  const now = deps.clock.now();
  const expiresAt = now + deps.holdTtlMs;
  const guardKey = seatGuardKey(input.scheduleId, input.seatId);
  // The guard only saves the database work; if Redis cannot answer, the database decides alone.
  const passed = await deps.guard
    .claim(guardKey, input.userId, Math.min(deps.holdTtlMs, claimTtlMs))
    .catch(() => true);
  if (!passed) {
    deps.onOutcome?.('lost_guard');
    return { ok: false, code: 'SEAT_TAKEN' };
  }

  const outcome =
    (await oneTripHoldFor(deps.db).hold({ ...input, now, expiresAt })) ??
    (await holdInTransaction(deps, input, now, expiresAt));

  if (outcome) {
    deps.onOutcome?.('won');
    // Both go out in one Redis pipeline (auto-pipelining).
    await afterCommit([
      deps.guard.settle(guardKey, input.userId, deps.holdTtlMs),
      deps.seatCache.invalidate(String(input.scheduleId)),
    ]);
    return { ok: true, reservation: reservationView(outcome, now) };
  }
  return explainRefusal(deps, input, now);
}

/**
 * The conditional write as a transaction of statements: every dialect, and on MySQL the cases the one-trip
 * procedure leaves to it (taking over a lapsed hold, and every refusal).
 */
function holdInTransaction(
  deps: HoldDeps,
  input: { userId: string; scheduleId: number; seatId: number },
  now: number,
  expiresAt: number,
): Promise<ReservationRow | null> {
  return retryOnConflict(() =>
    deps.db.transaction().execute(async (trx) => {
      const taken = await trx
        .updateTable('seats')
        .set({ status: 'HELD', held_by: input.userId, hold_expires_at: expiresAt, updated_at: now })
        .where('id', '=', input.seatId)
        .where('schedule_id', '=', input.scheduleId)
        .where((eb) =>
          eb.or([
            eb('status', '=', 'AVAILABLE'),
            eb.and([eb('status', '=', 'HELD'), eb('hold_expires_at', '<', now)]),
          ]),
        )
        .executeTakeFirst();
      if (Number(taken.numUpdatedRows) !== 1) return null;
      await expireLapsedHold(trx, input.seatId, now);
      const inserted = await trx
        .insertInto('reservations')
        .values({
          user_id: input.userId,
          schedule_id: input.scheduleId,
          seat_id: input.seatId,
          price: trx.selectFrom('seats').select('price').where('id', '=', input.seatId),
          status: 'HELD',
          expires_at: expiresAt,
          created_at: now,
          updated_at: now,
        })
        .executeTakeFirstOrThrow();
      const reservationId = Number(inserted.insertId);
      await trx
        .updateTable('seats')
        .set({ reservation_id: reservationId })
        .where('id', '=', input.seatId)
        .execute();
      const row = await trx
        .selectFrom('reservations')
        .select(reservationColumns)
        .where('id', '=', reservationId)
        .executeTakeFirstOrThrow();
      await appendToOutbox(
        trx,
        {
          topic: topics.reservationCreated,
          key: String(input.seatId),
          factId: String(reservationId),
          data: eventData(row),
        },
        now,
      );
      return row;
    }),
  );
}

/** Why the conditional write matched nothing: no such seat, the caller's own live hold, or someone else's. */
async function explainRefusal(
  deps: HoldDeps,
  input: { userId: string; scheduleId: number; seatId: number },
  now: number,
): Promise<HoldResult> {
  const guardKey = seatGuardKey(input.scheduleId, input.seatId);
  const seat = await deps.db
    .selectFrom('seats')
    .select(['status', 'held_by', 'hold_expires_at', 'reservation_id'])
    .where('id', '=', input.seatId)
    .where('schedule_id', '=', input.scheduleId)
    .executeTakeFirst();
  if (!seat) {
    await deps.guard.release(guardKey, input.userId).catch(() => undefined);
    return { ok: false, code: 'NOT_FOUND' };
  }
  if (seat.status === 'HELD' && seat.held_by === input.userId && Number(seat.hold_expires_at) >= now) {
    // A retried request (or a second tab) of the holder gets its hold back rather than SEAT_TAKEN.
    const mine = await deps.db
      .selectFrom('reservations')
      .select(reservationColumns)
      .where('id', '=', Number(seat.reservation_id))
      .executeTakeFirst();
    if (mine) {
      deps.onOutcome?.('repeat');
      return { ok: true, reservation: reservationView(mine, now) };
    }
  }
  // Lost in the database though the guard let us through (no guard yet, a lost guard after a failover, a
  // stale one that lapsed): the guard now names the real holder for the rest of the hold, so the next
  // contenders are turned away by Redis again.
  const holder = seat.status === 'SOLD' ? 'sold' : (seat.held_by ?? '');
  const remaining = seat.status === 'SOLD' ? soldGuardMs : Number(seat.hold_expires_at) - now;
  if (holder && remaining > 0) await deps.guard.settle(guardKey, holder, remaining).catch(() => undefined);
  else await deps.guard.release(guardKey, input.userId).catch(() => undefined);
  deps.onOutcome?.('lost_db');
  return { ok: false, code: 'SEAT_TAKEN' };
}

/**
 * The live reservation of one seat, locked. Read through the unique index of the seat's live reservation
 * and forced to it: a plan through the status index would lock and wait on other seats' holds (a payment
 * in flight), deadlock against payments and stall unrelated seats, and the planner picks plans from
 * statistics we do not control. SQLite has one writer at a time and needs no lock.
 */
function lockLiveHold(trx: Transaction<DB>, seatId: number): Promise<ReservationRow[]> {
  if (dialectOf(trx) === 'sqlite')
    return trx
      .selectFrom('reservations')
      .select(reservationColumns)
      .where('active_seat_id', '=', seatId)
      .where('status', '=', 'HELD')
      .execute();
  return sql<ReservationRow>`select ${sql.join(reservationColumns.map((c) => sql.ref(c)))}
    from reservations force index (uq_reservations_active_seat)
    where active_seat_id = ${seatId} and status = 'HELD' for update`
    .execute(trx)
    .then((result) => result.rows);
}

/** The reservation whose hold lapsed on this seat becomes EXPIRED, with its event (once per fact). */
export async function expireLapsedHold(trx: Transaction<DB>, seatId: number, now: number): Promise<void> {
  const lapsed = await lockLiveHold(trx, seatId);
  for (const row of lapsed) {
    await trx
      .updateTable('reservations')
      .set({ status: 'EXPIRED', updated_at: now })
      .where('id', '=', row.id)
      .where('status', '=', 'HELD')
      .execute();
    await appendToOutbox(
      trx,
      { topic: topics.reservationExpired, key: String(seatId), factId: String(row.id), data: eventData(row) },
      now,
    );
  }
}

export function eventData(row: ReservationRow): ReservationEventData {
  return {
    reservationId: String(row.id),
    scheduleId: String(row.schedule_id),
    seatId: String(row.seat_id),
    userId: row.user_id,
    price: Number(row.price),
    expiresAt: new Date(Number(row.expires_at)).toISOString(),
  };
}
