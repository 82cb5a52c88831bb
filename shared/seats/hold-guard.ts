import type { Redis } from 'ioredis';
import { defineLuaScript } from '../redis/scripts.ts';

/**
 * The stampede guard in front of MySQL: the first claimant of a seat sets `hold:{schedule/seat}`; everyone
 * else is answered SEAT_TAKEN without a database round trip. It never decides a sale: a claimant that passes
 * still needs the database's conditional write, and a lost guard (Redis failover) only lets more
 * claimants through to the database, which still admits exactly one.
 */
export interface HoldGuard {
  /** True when this user may go on to the database (guard taken now, or already theirs). */
  claim(seat: string, userId: string, ttlMs: number): Promise<boolean>;
  /** Makes the guard say what the database said: who holds the seat, for as long as it does. */
  settle(seat: string, holder: string, ttlMs: number): Promise<void>;
  release(seat: string, userId: string): Promise<void>;
}

/**
 * The guard's name for a seat (the `seat` of HoldGuard's methods). It names the schedule asked for too:
 * a seat asked for through another schedule must reach the database, which answers NOT_FOUND, instead
 * of being turned away as taken by the guard of the real seat.
 */
export function seatGuardKey(scheduleId: string | number, seatId: string | number): string {
  return `${scheduleId}/${seatId}`;
}

/**
 * A claim lives this long until the database has answered. Short, so a claim whose request died (a client
 * timeout, a command replayed after a Redis reconnect) blocks its seat for seconds, not for a whole hold;
 * the answer of the database then sets the real duration (settle).
 */
export const claimTtlMs = 5000;

/**
 * How long a process turns contenders away from a seat it has seen taken without asking Redis: the
 * negative cache that keeps a stampede's losers off Redis. Never longer than the guard itself has to run,
 * and dropped at once by a release in the same process; a seat released through another process may be
 * refused here for up to this long (docs/api.md).
 */
export const knownTakenMs = 1000;

export function createRedisHoldGuard(
  redis: Redis,
  prefix = 'hold',
  options: { now?: () => number; knownTakenMs?: number } = {},
): HoldGuard {
  const key = (seatId: string) => `${prefix}:{${seatId}}`;
  const release = defineLuaScript('hold-guard-release');
  const claim = defineLuaScript('hold-guard-claim');
  const now = options.now ?? Date.now;
  const localMs = options.knownTakenMs ?? knownTakenMs;
  const taken = new Map<string, { holder: string; until: number }>();
  const remember = (seatId: string, holder: string, ttlMs: number) => {
    if (localMs <= 0 || ttlMs <= 0) return;
    const t = now();
    if (taken.size >= 100_000) for (const [k, g] of taken) if (g.until <= t) taken.delete(k);
    if (taken.size >= 100_000) taken.clear();
    taken.set(seatId, { holder, until: t + Math.min(localMs, ttlMs) });
  };
  return {
    async claim(seatId, userId, ttlMs) {
      const known = taken.get(seatId);
      if (known) {
        if (known.until <= now()) taken.delete(seatId);
        else if (known.holder !== userId) return false;
      }
      // One command: SET NX GET (Redis ≥ 7) says whether we took it or whose it is, and the guard's PTTL how
      // long a refusal may be remembered here.
      const answer = (await claim.run(redis, [key(seatId)], [userId, Math.max(1, ttlMs)])) as
        | [string, number]
        | null;
      if (answer === null || answer[0] === userId) return true;
      remember(seatId, answer[0], answer[1]);
      return false;
    },
    async settle(seatId, holder, ttlMs) {
      remember(seatId, holder, ttlMs);
      await redis.set(key(seatId), holder, 'PX', Math.max(1, Math.floor(ttlMs)));
    },
    async release(seatId, userId) {
      if (taken.get(seatId)?.holder === userId) taken.delete(seatId);
      await release.run(redis, [key(seatId)], [userId]);
    },
  };
}

export function createMemoryHoldGuard(now: () => number): HoldGuard {
  const guards = new Map<string, { userId: string; until: number }>();
  return {
    async claim(seatId, userId, ttlMs) {
      const current = guards.get(seatId);
      const t = now();
      if (current && current.until > t && current.userId !== userId) return false;
      if (!current || current.until <= t) guards.set(seatId, { userId, until: t + ttlMs });
      if (guards.size > 100_000) for (const [k, g] of guards) if (g.until <= t) guards.delete(k);
      return true;
    },
    async settle(seatId, holder, ttlMs) {
      guards.set(seatId, { userId: holder, until: now() + ttlMs });
    },
    async release(seatId, userId) {
      if (guards.get(seatId)?.userId === userId) guards.delete(seatId);
    },
  };
}
