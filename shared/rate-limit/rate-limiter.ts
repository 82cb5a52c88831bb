export interface RateDecision {
  allowed: boolean;
  remaining: number;
  retryAfterMs: number;
}

export interface RateLimitPolicy {
  perSecond: number;
  burst: number;
}

/**
 * A token bucket per key. `RATE_LIMIT_SCOPE=process` (the default, and the embedded mode): each process
 * keeps its own buckets and decides at once, with no round trip; a user whose requests are spread over P
 * processes gets up to P times the budget. `redis`: one bucket per key in Redis (a Lua script), shared by
 * every replica, at one round trip per request.
 */
export interface RateLimiter {
  /** The in-process limiter answers synchronously; callers take either. */
  take(key: string, nowMs: number): RateDecision | Promise<RateDecision>;
}
