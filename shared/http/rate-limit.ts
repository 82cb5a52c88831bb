import type { Context, MiddlewareHandler } from 'hono';
import type { Clock } from '../clock.ts';
import { AppError } from '../errors.ts';
import type { RateDecision, RateLimiter } from '../rate-limit/rate-limiter.ts';
import type { AppEnv } from './env.ts';

export interface RateLimitOptions {
  /**
   * Take the token while the handler runs instead of before it, and answer 429 in its place when there
   * was none. Only for handlers whose work is a Redis read (or as cheap to repeat as the bucket itself):
   * the bucket's script and the handler's first commands then leave in one pipeline, so the request costs
   * one Redis round trip of latency instead of two. A request over the limit is still answered 429; its
   * work was done and is thrown away.
   */
  alongside?: boolean;
}

/** Per-user token bucket; runs after authentication so the key is the verified user id. */
export function rateLimitPerUser(
  limiter: RateLimiter,
  clock: Clock,
  options: RateLimitOptions = {},
): MiddlewareHandler<AppEnv> {
  const take = (c: Context<AppEnv>) => limiter.take(`user:${c.get('user').id}`, clock.now());
  if (options.alongside) {
    return async function limitUserAlongside(c, next) {
      // Settled at once so that a Redis error while the handler still runs is not an unhandled rejection.
      const decision = take(c).then(
        (value) => ({ value }),
        (error: unknown) => ({ error }),
      );
      await next();
      const settled = await decision;
      if ('error' in settled) throw settled.error;
      refuseWhenEmpty(settled.value);
    };
  }
  return async function limitUser(c, next) {
    refuseWhenEmpty(await take(c));
    await next();
  };
}

function refuseWhenEmpty(decision: RateDecision) {
  if (!decision.allowed) {
    throw new AppError('RATE_LIMITED', 'Too many requests, slow down', {
      retryAfterSeconds: Math.max(1, Math.ceil(decision.retryAfterMs / 1000)),
    });
  }
}
