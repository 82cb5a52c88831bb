import type { PoolStats } from '../db/connect.ts';

/**
 * The health of the shop behind the line, as the admission controller reads it: latency of holds and
 * payments, their 503s, and how saturated the database pool is. Each serving process counts into an
 * in-process recorder (a few map increments per request) and publishes the counts once a second to a
 * board (Redis, or process memory when embedded); the admit trigger adds up the board's last seconds.
 *
 * Counts are kept as flat named integers so that boards can add them up field by field: `h<i>` and `p<i>`
 * are hold and pay latency histogram buckets, `u` 503s, `n` pool samples, `b` their saturation in permille.
 */
export type HealthCounts = Record<string, number>;
export type ShopRoute = 'hold' | 'pay';

/** Buckets about 10% wide from 1 ms: histograms add up across processes, p99s would not. */
const growth = 1.1;
const logGrowth = Math.log(growth);
const lastBucket = 130;

export function bucketOf(ms: number): number {
  if (!(ms > 1)) return 0;
  return Math.min(lastBucket, Math.ceil(Math.log(ms) / logGrowth - 1e-9));
}

/** A bucket's upper bound: a p99 read from the histogram errs high by at most one bucket. */
export function bucketUpperMs(bucket: number): number {
  return growth ** bucket;
}

export interface HealthRecorder {
  record(route: ShopRoute, ms: number, status: number): void;
  /** The counts since the last take, and a fresh start; null when nothing was recorded. */
  take(): HealthCounts | null;
}

const prefixOf: Record<ShopRoute, string> = { hold: 'h', pay: 'p' };

/** `pool`: read on every request (a few property reads) since saturation is a moment's state. */
export function createHealthRecorder(pool?: () => PoolStats | null): HealthRecorder {
  let counts = new Map<string, number>();
  const bump = (field: string, by = 1) => counts.set(field, (counts.get(field) ?? 0) + by);
  return {
    record(route, ms, status) {
      bump(prefixOf[route] + bucketOf(ms));
      if (status === 503) bump('u');
      const stats = pool?.();
      if (stats && stats.limit > 0) {
        bump('n');
        bump('b', Math.round(((stats.total - stats.idle + stats.waiting) / stats.limit) * 1000));
      }
    },
    take() {
      if (counts.size === 0) return null;
      const taken = Object.fromEntries(counts);
      counts = new Map();
      return taken;
    },
  };
}

export function addCounts(into: HealthCounts, more: HealthCounts): HealthCounts {
  for (const [field, n] of Object.entries(more)) into[field] = (into[field] ?? 0) + n;
  return into;
}

export interface RouteHealth {
  count: number;
  /** null without requests. */
  p99Ms: number | null;
}

export interface ShopHealth {
  windowSeconds: number;
  hold: RouteHealth;
  pay: RouteHealth;
  unavailable: number;
  /** Mean (in use + waiting) / size of the database pools; null without a pool (embedded SQLite). */
  poolSaturation: number | null;
}

function routeHealth(counts: HealthCounts, prefix: string): RouteHealth {
  const buckets: Array<[number, number]> = [];
  let count = 0;
  for (const [field, n] of Object.entries(counts)) {
    if (field[0] !== prefix || n <= 0) continue;
    const bucket = Number(field.slice(1));
    if (!Number.isInteger(bucket)) continue;
    buckets.push([bucket, n]);
    count += n;
  }
  if (count === 0) return { count: 0, p99Ms: null };
  buckets.sort((a, b) => a[0] - b[0]);
  const rank = Math.ceil(count * 0.99);
  let seen = 0;
  for (const [bucket, n] of buckets) {
    seen += n;
    if (seen >= rank) return { count, p99Ms: Math.round(bucketUpperMs(bucket)) };
  }
  return { count, p99Ms: Math.round(bucketUpperMs(buckets.at(-1)![0])) };
}

export function summarize(counts: HealthCounts, windowSeconds: number): ShopHealth {
  const samples = counts.n ?? 0;
  return {
    windowSeconds,
    hold: routeHealth(counts, 'h'),
    pay: routeHealth(counts, 'p'),
    unavailable: counts.u ?? 0,
    poolSaturation: samples > 0 ? (counts.b ?? 0) / 1000 / samples : null,
  };
}
