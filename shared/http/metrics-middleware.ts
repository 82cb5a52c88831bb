import type { MiddlewareHandler } from 'hono';
import type { Metrics } from '../metrics.ts';
import type { AppEnv } from './env.ts';

/** Labels by route pattern (not raw path) so ids in URLs do not explode the series count. */
export function metricsMiddleware(metrics: Metrics, fn: string): MiddlewareHandler<AppEnv> {
  return async function recordMetrics(c, next) {
    const start = performance.now();
    try {
      await next();
    } finally {
      const route = c.req.routePath && c.req.routePath !== '/*' ? c.req.routePath : 'unmatched';
      const labels = { function: fn, method: c.req.method, route, status: String(c.res.status) };
      metrics.httpRequests.inc(labels);
      metrics.httpDuration.observe(labels, (performance.now() - start) / 1000);
    }
  };
}
