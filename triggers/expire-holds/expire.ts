import type { Clock } from '../../shared/clock.ts';
import type { SeatCache } from '../../shared/seats/seat-cache.ts';
import type { SeatStore } from '../../shared/seats/seat-store.ts';

export interface ExpireDeps {
  seats: SeatStore;
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
    const lapsed = await deps.seats.lapsedHolds(now, size);
    // One short transaction per batch: it holds its seat locks only briefly.
    const done = await deps.seats.expire(lapsed, now);
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
 * How far the announcements lag: holds past their expiry still marked HELD, and how long ago the oldest
 * of them lapsed. Read through the status/expiry index, so a scrape costs one range count.
 */
export async function lapsedBacklog(
  seats: SeatStore,
  now: number,
): Promise<{ holds: number; oldestAgeSeconds: number }> {
  const { holds, oldest } = await seats.lapsedBacklog(now);
  if (holds === 0 || oldest === null) return { holds: 0, oldestAgeSeconds: 0 };
  return { holds, oldestAgeSeconds: Math.max(0, (now - oldest) / 1000) };
}
