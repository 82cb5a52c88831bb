import type { Kysely } from 'kysely';
import { listConcerts, listSchedules, loadSeatMap } from '../../shared/catalog/catalog-queries.ts';
import type { Clock } from '../../shared/clock.ts';
import type { DB } from '../../shared/db/schema.ts';
import type { SeatCache } from '../../shared/seats/seat-cache.ts';

export interface CatalogDeps {
  /** Primary: seat maps are cached, so they are read where holds are decided. */
  db: Kysely<DB>;
  /** Replica when configured: concert and schedule lists tolerate replication lag. */
  read: Kysely<DB>;
  clock: Clock;
  seatCache: SeatCache;
  seatCacheTtlMs: number;
}

export const concerts = (deps: CatalogDeps) => listConcerts(deps.read);

export const schedules = (deps: CatalogDeps, concertId: number) =>
  listSchedules(deps.read, concertId, deps.clock.now());

/**
 * The seat map as JSON text, from the cache when it is there. Concurrent misses for one schedule in this
 * process share one database read, so a cold cache under a stampede costs one query, not thousands.
 */
export function createSeatMapReader(deps: CatalogDeps) {
  const inflight = new Map<number, Promise<string | null>>();
  const load = async (scheduleId: number): Promise<string | null> => {
    const now = deps.clock.now();
    const map = await loadSeatMap(deps.db, scheduleId, now);
    if (!map) return null;
    const json = JSON.stringify({ scheduleId: String(scheduleId), items: map.items });
    await deps.seatCache.set(String(scheduleId), json, Math.min(deps.seatCacheTtlMs, map.validForMs));
    return json;
  };
  return {
    /** The cached JSON, or null: cheap, so a caller may start it alongside its access checks. */
    cached: (scheduleId: number) => deps.seatCache.get(String(scheduleId)),
    /** From the database (once at a time per schedule), caching it; null for an unknown schedule. */
    load(scheduleId: number): Promise<string | null> {
      let pending = inflight.get(scheduleId);
      if (!pending) {
        pending = load(scheduleId).finally(() => inflight.delete(scheduleId));
        inflight.set(scheduleId, pending);
      }
      return pending;
    },
  };
}
