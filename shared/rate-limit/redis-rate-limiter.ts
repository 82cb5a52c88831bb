import type { Redis } from 'ioredis';
import { defineLuaScript } from '../redis/scripts.ts';
import type { RateDecision, RateLimiter, RateLimitPolicy } from './rate-limiter.ts';

export function createRedisRateLimiter(redis: Redis, policy: RateLimitPolicy, prefix = 'rl'): RateLimiter {
  const script = defineLuaScript('rate-limit');
  return {
    async take(key, now): Promise<RateDecision> {
      const reply = (await script.run(
        redis,
        [`${prefix}:{${key}}`],
        [now, policy.perSecond, policy.burst],
      )) as [number, number, number];
      return { allowed: reply[0] === 1, remaining: reply[1], retryAfterMs: reply[2] };
    },
  };
}
