import type { MiddlewareHandler } from 'hono';
import type { Clock } from '../clock.ts';
import { AppError } from '../errors.ts';
import type { RateLimiter } from '../rate-limit/rate-limiter.ts';
import type { AppEnv } from './env.ts';

/** Per-user token bucket; runs after authentication so the key is the verified user id. */
export function rateLimitPerUser(limiter: RateLimiter, clock: Clock): MiddlewareHandler<AppEnv> {
  return async function limitUser(c, next) {
    const taken = limiter.take(`user:${c.get('user').id}`, clock.now());
    // The in-process limiter decides synchronously: no await, no extra turn of the microtask queue.
    const decision = taken instanceof Promise ? await taken : taken;
    if (!decision.allowed) {
      throw new AppError('RATE_LIMITED', 'Too many requests, slow down', {
        retryAfterSeconds: Math.max(1, Math.ceil(decision.retryAfterMs / 1000)),
      });
    }
    await next();
  };
}
