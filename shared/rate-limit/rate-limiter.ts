export interface RateDecision {
  allowed: boolean;
  remaining: number;
  retryAfterMs: number;
}

export interface RateLimitPolicy {
  perSecond: number;
  burst: number;
}

/** A token bucket per key. Real: a Lua script in Redis, shared by every replica. Embedded: in process. */
export interface RateLimiter {
  take(key: string, nowMs: number): Promise<RateDecision>;
}
