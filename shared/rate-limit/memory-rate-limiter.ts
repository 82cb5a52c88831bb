import type { RateDecision, RateLimiter, RateLimitPolicy } from './rate-limiter.ts';

interface Bucket {
  tokens: number;
  ts: number;
}

/** Decides at once, without a promise. */
export interface InProcessRateLimiter extends RateLimiter {
  take(key: string, nowMs: number): RateDecision;
}

/**
 * Same arithmetic as lua/rate-limit.lua, in process: the embedded mode's limiter, and every process's
 * with RATE_LIMIT_SCOPE=process, so a request costs no round trip to be counted (see RateLimiter).
 */
export function createMemoryRateLimiter(policy: RateLimitPolicy): InProcessRateLimiter {
  const buckets = new Map<string, Bucket>();
  const idleMs = Math.ceil((policy.burst * 1000) / policy.perSecond) + 1000;
  let lastSweep = 0;
  return {
    take(key, now): RateDecision {
      if (now - lastSweep > idleMs) {
        for (const [k, b] of buckets) if (now - b.ts > idleMs) buckets.delete(k);
        lastSweep = now;
      }
      const bucket = buckets.get(key) ?? { tokens: policy.burst, ts: now };
      if (now > bucket.ts) {
        bucket.tokens = Math.min(policy.burst, bucket.tokens + ((now - bucket.ts) * policy.perSecond) / 1000);
        bucket.ts = now;
      }
      let decision: RateDecision;
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        decision = { allowed: true, remaining: Math.floor(bucket.tokens), retryAfterMs: 0 };
      } else {
        const retryAfterMs = Math.ceil(((1 - bucket.tokens) * 1000) / policy.perSecond);
        decision = { allowed: false, remaining: 0, retryAfterMs };
      }
      buckets.set(key, bucket);
      return decision;
    },
  };
}
