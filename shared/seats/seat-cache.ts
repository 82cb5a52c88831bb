import type { Redis } from 'ioredis';

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

const key = (scheduleId: string) => `seats:{${scheduleId}}`;

export function createRedisSeatCache(redis: Redis): SeatCache {
  return {
    get: (scheduleId) => redis.get(key(scheduleId)),
    async set(scheduleId, json, ttlMs) {
      await redis.set(key(scheduleId), json, 'PX', Math.max(1, Math.floor(ttlMs)));
    },
    async invalidate(scheduleId) {
      await redis.del(key(scheduleId));
    },
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
