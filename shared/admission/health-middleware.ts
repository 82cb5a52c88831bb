import type { MiddlewareHandler } from 'hono';
import { AppError } from '../errors.ts';
import type { AppEnv } from '../http/env.ts';
import type { ShopHealthRecording } from './for-runtime.ts';
import type { ShopRoute } from './shop-health.ts';

/**
 * Counts a hold or payment request's latency and status for adaptive admission: first on the route, so
 * it sees what the fan waited for, refusals included. In process only; published once a second.
 */
export function recordShopHealth(health: ShopHealthRecording, route: ShopRoute): MiddlewareHandler<AppEnv> {
  return async function shopHealth(c, next) {
    const start = performance.now();
    try {
      await next();
      health.record(route, performance.now() - start, c.res.status);
    } catch (error) {
      health.record(route, performance.now() - start, error instanceof AppError ? error.status : 500);
      throw error;
    }
  };
}
