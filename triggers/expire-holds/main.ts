import type { Runtime } from '../../shared/runtime.ts';
import { seatStoreFor } from '../../shared/seats/seat-store.ts';
import { isEntryPoint, type Mount, serveFunctions } from '../../shared/serve.ts';
import { expireHoldsRoutes } from './app.ts';
import { type ExpireDeps, lapsedBacklog } from './expire.ts';

export const expireDeps = (
  rt: Pick<Runtime, 'config' | 'database' | 'clock' | 'seatCache' | 'metrics'>,
): ExpireDeps => ({
  seats: seatStoreFor(rt.database.db),
  clock: rt.clock,
  seatCache: rt.seatCache,
  budgetMs: rt.config.EXPIRE_HOLDS_BUDGET_MS,
  onRun: (run) => {
    rt.metrics.holdsExpired.inc(run.expired);
    rt.metrics.expireRuns.inc({ result: run.drained ? 'drained' : 'budget' });
  },
});

/**
 * The backlog gauges are read at scrape time from the database, not left by the last run, so they keep
 * growing (and the alert fires) when the sweeper stops running at all.
 */
export function watchLapsedBacklog(
  rt: Pick<Runtime, 'database' | 'clock' | 'metrics' | 'gaugeRefreshers'>,
): void {
  rt.gaugeRefreshers.push(async () => {
    const backlog = await lapsedBacklog(seatStoreFor(rt.database.db), rt.clock.now());
    rt.metrics.expireBacklogHolds.set(backlog.holds);
    rt.metrics.expireBacklogAge.set(backlog.oldestAgeSeconds);
  });
}

export const mount: Mount = (rt) => {
  watchLapsedBacklog(rt);
  return expireHoldsRoutes(expireDeps(rt));
};

if (isEntryPoint(import.meta.url)) await serveFunctions({ name: 'expire-holds', mounts: [mount] });
