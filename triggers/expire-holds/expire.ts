import type { Kysely } from 'kysely';
import { eventData } from '../../functions/hold-seat/hold-seat.ts';
import { type ReservationRow, reservationColumns } from '../../functions/hold-seat/reservation-view.ts';
import type { Clock } from '../../shared/clock.ts';
import { lockForUpdate } from '../../shared/db/dialect.ts';
import { retryOnConflict } from '../../shared/db/errors.ts';
import type { DB } from '../../shared/db/schema.ts';
import { topics } from '../../shared/outbox/events.ts';
import { appendAllToOutbox } from '../../shared/outbox/outbox-writer.ts';
import { freedSeat } from '../../shared/seats/freed-seat.ts';
import type { SeatCache } from '../../shared/seats/seat-cache.ts';

export interface ExpireDeps {
  db: Kysely<DB>;
  clock: Clock;
  seatCache: SeatCache;
  /** Holds per transaction: small enough that a batch holds its seat locks only briefly. */
  batch?: number;
  /** Wall time a run may spend; kept below the ping interval so runs do not pile up behind each other. */
  budgetMs?: number;
  /** Monotonic milliseconds for the budget; the business clock may stand still (tests) or jump. */
  stopwatch?: () => number;
  onRun?: (run: SweepRun) => void;
}

export interface SweepRun {
  expired: number;
  /** False when the budget ran out first: the next run continues from the oldest hold left. */
  drained: boolean;
}

export const defaultSweepBatch = 200;
export const defaultSweepBudgetMs = 5000;

/**
 * The sweeper: lapsed holds become EXPIRED with their `reservation.expired` event and their seats
 * AVAILABLE. Correctness never waits for it (a lapsed hold is already free to the next claimant); it
 * makes the event timely, so after a mass lapse it keeps taking batches, oldest first, until nothing
 * lapsed before the run's start is left or the budget would be overrun by one more batch.
 */
export async function expireLapsedHolds(deps: ExpireDeps): Promise<SweepRun> {
  const now = deps.clock.now();
  const size = deps.batch ?? defaultSweepBatch;
  const budgetMs = deps.budgetMs ?? defaultSweepBudgetMs;
  const watch = deps.stopwatch ?? (() => performance.now());
  const started = watch();
  let slowestBatchMs = 0;
  let expired = 0;
  let drained = false;
  for (;;) {
    const batchStarted = watch();
    const lapsed = await deps.db
      .selectFrom('reservations')
      .select(reservationColumns)
      .where('status', '=', 'HELD')
      .where('expires_at', '<', now)
      .orderBy('expires_at')
      .orderBy('id')
      .limit(size)
      .execute();
    const done = lapsed.length > 0 ? await expireBatch(deps.db, lapsed, now) : [];
    expired += done.length;
    const schedules = new Set(done.map((row) => String(row.schedule_id)));
    await Promise.all([...schedules].map((id) => deps.seatCache.invalidate(id)));
    if (lapsed.length < size) {
      drained = true;
      break;
    }
    const finished = watch();
    slowestBatchMs = Math.max(slowestBatchMs, finished - batchStarted);
    // Always at least one batch, so a run makes progress however small the budget.
    if (finished - started + slowestBatchMs > budgetMs) break;
  }
  const run = { expired, drained };
  deps.onRun?.(run);
  return run;
}

/**
 * One short transaction for a batch. Seats are locked first, as a hold, a payment and a cancel lock
 * them, and only by primary key, so the batch never locks another seat's rows whatever plan the engine
 * picks; the reservations are then re-read under lock, because a payment or a lazy takeover may have
 * settled some of them since the batch was chosen. Each event id is the reservation's, so a lazy expiry
 * that wrote it first leaves nothing to add.
 */
async function expireBatch(db: Kysely<DB>, chosen: ReservationRow[], now: number): Promise<ReservationRow[]> {
  const ids = chosen.map((row) => Number(row.id));
  const seatIds = chosen.map((row) => Number(row.seat_id));
  return retryOnConflict(() =>
    db.transaction().execute(async (trx) => {
      await trx
        .updateTable('seats')
        .set(freedSeat(now))
        .where('id', 'in', seatIds)
        .where('reservation_id', 'in', ids)
        .where('status', '=', 'HELD')
        .where('hold_expires_at', '<', now)
        .execute();
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
        still.map((row) => ({
          event: {
            topic: topics.reservationExpired,
            key: String(row.seat_id),
            factId: String(row.id),
            data: eventData(row),
          },
          now,
        })),
      );
      return still;
    }),
  );
}

/**
 * How far the announcements lag: holds past their expiry still marked HELD, and how long ago the oldest
 * of them lapsed. Read through the status/expiry index, so a scrape costs one range count.
 */
export async function lapsedBacklog(
  db: Kysely<DB>,
  now: number,
): Promise<{ holds: number; oldestAgeSeconds: number }> {
  const row = await db
    .selectFrom('reservations')
    .select((eb) => [eb.fn.countAll<number>().as('holds'), eb.fn.min('expires_at').as('oldest')])
    .where('status', '=', 'HELD')
    .where('expires_at', '<', now)
    .executeTakeFirst();
  const holds = Number(row?.holds ?? 0);
  if (holds === 0 || row?.oldest === null || row?.oldest === undefined)
    return { holds: 0, oldestAgeSeconds: 0 };
  return { holds, oldestAgeSeconds: Math.max(0, (now - Number(row.oldest)) / 1000) };
}
