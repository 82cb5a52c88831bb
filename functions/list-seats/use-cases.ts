import type { ConcertFilter } from '../../shared/catalog/catalog-queries.ts';
import type { CatalogStore } from '../../shared/catalog/catalog-store.ts';
import type { Clock } from '../../shared/clock.ts';
import type { SeatCache } from '../../shared/seats/seat-cache.ts';

export interface CatalogDeps {
  catalog: CatalogStore;
  clock: Clock;
  seatCache: SeatCache;
  seatCacheTtlMs: number;
}

/**
 * A concert cursor is the id of the last concert a page showed, in decimal: the OpenAPI pattern then
 * describes exactly the cursors the API accepts, and every value it allows is a valid place to resume.
 */
export const concertCursorPattern = /^[0-9]{1,15}$/;

export interface ConcertListInput {
  limit: number;
  beforeId?: number;
  filter: ConcertFilter;
}

/** The validated query as the listing takes it (crossed ranges were refused by the route's schema). */
export function concertListInput(query: {
  limit: number;
  cursor?: string | undefined;
  upcoming?: 'true' | 'false' | undefined;
  onSale?: 'true' | 'false' | undefined;
  from?: string | undefined;
  to?: string | undefined;
  minPrice?: number | undefined;
  maxPrice?: number | undefined;
}): ConcertListInput {
  const from = query.from === undefined ? undefined : Date.parse(query.from);
  const to = query.to === undefined ? undefined : Date.parse(query.to);
  const filter: ConcertFilter = {};
  if (query.upcoming === 'true') filter.upcoming = true;
  if (query.onSale === 'true') filter.onSale = true;
  if (from !== undefined) filter.from = from;
  if (to !== undefined) filter.to = to;
  if (query.minPrice !== undefined) filter.minPrice = query.minPrice;
  if (query.maxPrice !== undefined) filter.maxPrice = query.maxPrice;
  return {
    limit: query.limit,
    ...(query.cursor === undefined ? {} : { beforeId: Number(query.cursor) }),
    filter,
  };
}

const isoOrNull = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export async function concerts(deps: CatalogDeps, input: ConcertListInput) {
  const page = await deps.catalog.concertPage({ ...input, now: deps.clock.now() });
  const last = page.concerts.at(-1);
  return {
    items: page.concerts.map((c) => ({
      id: String(c.id),
      title: c.title,
      venue: c.venue,
      firstStartsAt: isoOrNull(c.firstStartsAt),
      lastStartsAt: isoOrNull(c.lastStartsAt),
      minPrice: c.minPrice,
      maxPrice: c.maxPrice,
    })),
    nextCursor: page.more && last ? String(last.id) : null,
  };
}

export const schedules = (deps: CatalogDeps, concertId: number) =>
  deps.catalog.schedules(concertId, deps.clock.now());

/**
 * The seat map as JSON text, from the cache when it is there. Concurrent misses for one schedule in this
 * process share one database read, so a cold cache under a stampede costs one query, not thousands.
 */
export function createSeatMapReader(deps: CatalogDeps) {
  const inflight = new Map<number, Promise<string | null>>();
  const load = async (scheduleId: number): Promise<string | null> => {
    const now = deps.clock.now();
    const map = await deps.catalog.seatMap(scheduleId, now);
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
