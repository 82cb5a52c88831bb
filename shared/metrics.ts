import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Every metric of every function, in one registry per process. In the all-in-one server the functions
 * share it and are told apart by the `function` label, as they would be by pod in Knative.
 */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    httpRequests: new Counter({
      name: 'http_requests_total',
      help: 'HTTP requests answered, by function, route and status',
      labelNames: ['function', 'method', 'route', 'status'] as const,
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request latency, by function, route and status',
      labelNames: ['function', 'method', 'route', 'status'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    holds: new Counter({
      name: 'seat_holds_total',
      help: 'Seat hold attempts by outcome: won, lost_guard (refused by Redis), lost_db (refused by MySQL), repeat',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    payments: new Counter({
      name: 'payments_total',
      help: 'Payment attempts by outcome (paid, replayed, or the error code)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    dbPool: new Gauge({
      name: 'db_pool_connections',
      help: 'Database pool connections by state (total, idle, waiting, limit)',
      labelNames: ['state'] as const,
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
