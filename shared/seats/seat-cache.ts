import type { Redis } from 'ioredis';
import { defineLuaScript } from '../redis/scripts.ts';

/**
 * The seat map of a schedule, cached as the JSON the API returns. Invalidated on every hold, release
 * and sale; entries also expire no later than the earliest live hold in them, so lazy expiry shows up
 * without anyone invalidating.
 */
export interface SeatCache {
  get(scheduleId: string): Promise<string | null>;
  set(scheduleId: string, json: string, ttlMs: number): Promise<void>;
  invalidate(scheduleId: string): Promise<void>;
}

/**
 * How long a process serves a seat map from its own memory without asking Redis: the staleness docs/api.md
 * allows a seat map ("up to 1 s old"). Invalidations reach other processes sooner through pub/sub; this
 * bound holds even when a message is lost (a subscriber reconnecting).
 */
export const localSeatMapMs = 1000;

const maxLocalMaps = 1000;

const key = (scheduleId: string) => `seats:{${scheduleId}}`;

/** Pub/sub channels are not prefixed by ioredis: the key prefix is added here, so namespaces stay apart. */
export const seatInvalidationChannel = (redis: Redis) => `${redis.options.keyPrefix ?? ''}seats:invalidated`;

/** A Redis seat cache with a per-process layer in front; `forget` drops a copy another process invalidated. */
export interface LayeredSeatCache extends SeatCache {
  forget(scheduleId: string): void;
}

/**
 * Redis holds the map for every process; each process keeps the JSON it last served for at most
 * `localMs` (never past the entry's own TTL when it set it), so a read of a hot map costs no round trip.
 * Concurrent local misses of one schedule share one Redis GET. An invalidation drops the local copy at
 * once, deletes the shared one and, when there was one, is published for the other processes
 * (`followSeatInvalidations`): holds of maps nobody read cost no message.
 */
export function createRedisSeatCache(
  redis: Redis,
  options: {
    now?: () => number;
    localMs?: number;
    /**
     * Called once, when the first copy is kept: start following invalidations then, so that a process that
     * never serves seat maps (most functions) holds no subscription and hears no messages.
     */
    follow?: (cache: LayeredSeatCache) => void;
  } = {},
): LayeredSeatCache {
  const now = options.now ?? Date.now;
  const localMs = options.localMs ?? localSeatMapMs;
  const channel = seatInvalidationChannel(redis);
  const dropShared = defineLuaScript('seat-map-invalidate');
  const local = new Map<string, { json: string; expiresAt: number }>();
  const reading = new Map<string, Promise<string | null>>();
  // Bumped by every invalidation: a Redis answer that was on its way across one is not kept locally, since
  // it may be the copy that was just invalidated.
  let generation = 0;

  // Bounded: a map of a large hall is tens of kilobytes, and only the schedules on sale right now are hot.
  let following = false;
  const keep = (scheduleId: string, json: string, ttlMs: number) => {
    if (localMs <= 0) return;
    if (!following) {
      following = true;
      options.follow?.(cache);
    }
    const t = now();
    if (local.size >= maxLocalMaps)
      for (const [id, entry] of local) if (entry.expiresAt <= t) local.delete(id);
    if (local.size >= maxLocalMaps) local.clear();
    local.set(scheduleId, { json, expiresAt: t + Math.min(localMs, ttlMs) });
  };
  const readShared = async (scheduleId: string) => {
    const started = generation;
    const json = await redis.get(key(scheduleId));
    if (json !== null && started === generation) keep(scheduleId, json, localMs);
    return json;
  };

  const cache: LayeredSeatCache = {
    get(scheduleId) {
      const entry = local.get(scheduleId);
      if (entry) {
        if (entry.expiresAt > now()) return Promise.resolve(entry.json);
        local.delete(scheduleId);
      }
      let pending = reading.get(scheduleId);
      if (!pending) {
        pending = readShared(scheduleId).finally(() => reading.delete(scheduleId));
        reading.set(scheduleId, pending);
      }
      return pending;
    },
    async set(scheduleId, json, ttlMs) {
      const ms = Math.max(1, Math.floor(ttlMs));
      const started = generation;
      await redis.set(key(scheduleId), json, 'PX', ms);
      if (started === generation) keep(scheduleId, json, ms);
    },
    async invalidate(scheduleId) {
      generation++;
      local.delete(scheduleId);
      await dropShared.run(redis, [key(scheduleId)], [channel, scheduleId]);
    },
    forget(scheduleId) {
      generation++;
      local.delete(scheduleId);
    },
  };
  return cache;
}

/**
 * Drops the local copies other processes invalidate. `subscriber` is a connection of its own (a subscribed
 * connection runs no other commands). Answers a function that stops following.
 */
export async function followSeatInvalidations(
  subscriber: Redis,
  channel: string,
  cache: Pick<LayeredSeatCache, 'forget'>,
): Promise<() => Promise<void>> {
  const onMessage = (from: string, scheduleId: string) => {
    if (from === channel) cache.forget(scheduleId);
  };
  subscriber.on('message', onMessage);
  await subscriber.subscribe(channel);
  return async () => {
    subscriber.off('message', onMessage);
    await subscriber.unsubscribe(channel).catch(() => undefined);
  };
}

export function createMemorySeatCache(now: () => number): SeatCache {
  const entries = new Map<string, { json: string; expiresAt: number }>();
  return {
    async get(scheduleId) {
      const entry = entries.get(scheduleId);
      if (!entry) return null;
      if (entry.expiresAt <= now()) {
        entries.delete(scheduleId);
        return null;
      }
      return entry.json;
    },
    async set(scheduleId, json, ttlMs) {
      entries.set(scheduleId, { json, expiresAt: now() + ttlMs });
    },
    async invalidate(scheduleId) {
      entries.delete(scheduleId);
    },
  };
}
