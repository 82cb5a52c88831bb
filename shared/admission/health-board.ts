import type { Redis } from 'ioredis';
import { addCounts, type HealthCounts, type ShopHealth, summarize } from './shop-health.ts';

/**
 * Where serving processes leave their health counts per second and the admit trigger reads them: in
 * Knative hold-seat, pay and admit-queue are separate pods, so the real board is Redis.
 */
export interface HealthBoard {
  /** Adds one process's counts to a second (unix seconds); processes' counts add up. */
  add(second: number, counts: HealthCounts): Promise<void>;
  /** The sum over seconds from..to, both included. */
  read(fromSecond: number, toSecond: number): Promise<HealthCounts>;
}

/** Seconds a board keeps: more than any window the controller reads. */
export const healthRetentionSeconds = 120;

export function createMemoryHealthBoard(): HealthBoard {
  const seconds = new Map<number, HealthCounts>();
  return {
    async add(second, counts) {
      for (const old of seconds.keys()) if (old <= second - healthRetentionSeconds) seconds.delete(old);
      seconds.set(second, addCounts(seconds.get(second) ?? {}, counts));
    },
    async read(fromSecond, toSecond) {
      const sum: HealthCounts = {};
      for (let s = fromSecond; s <= toSecond; s++) {
        const counts = seconds.get(s);
        if (counts) addCounts(sum, counts);
      }
      return sum;
    },
  };
}

/** One small hash per second (`health:<second>`), counted into with HINCRBY and expired with the second. */
export function createRedisHealthBoard(redis: Redis, prefix = 'health'): HealthBoard {
  const keyOf = (second: number) => `${prefix}:${second}`;
  return {
    async add(second, counts) {
      const tx = redis.multi();
      for (const [field, n] of Object.entries(counts)) tx.hincrby(keyOf(second), field, n);
      tx.expire(keyOf(second), healthRetentionSeconds);
      await tx.exec();
    },
    async read(fromSecond, toSecond) {
      const pipeline = redis.pipeline();
      for (let s = fromSecond; s <= toSecond; s++) pipeline.hgetall(keyOf(s));
      const sum: HealthCounts = {};
      for (const [error, hash] of (await pipeline.exec()) ?? []) {
        if (error) throw error;
        for (const [field, n] of Object.entries(hash as Record<string, string>))
          sum[field] = (sum[field] ?? 0) + Number(n);
      }
      return sum;
    },
  };
}

/**
 * The shop's health over the last `windowSeconds` whole seconds before `now`: the second still running
 * is left out, since its counts are not all published yet.
 */
export async function readShopHealth(
  board: HealthBoard,
  now: number,
  windowSeconds: number,
): Promise<ShopHealth> {
  const current = Math.floor(now / 1000);
  return summarize(await board.read(current - windowSeconds, current - 1), windowSeconds);
}
