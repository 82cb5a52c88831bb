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
    outboxPublished: new Counter({
      name: 'outbox_published_total',
      help: 'Outbox events published to the event bus by the relay',
      registers: [registry],
    }),
    outboxRelayErrors: new Counter({
      name: 'outbox_relay_errors_total',
      help: 'Relay runs that failed (event bus or database unavailable); the rows wait',
      registers: [registry],
    }),
    outboxBacklog: new Gauge({
      name: 'outbox_backlog_events',
      help: 'Outbox events not yet published',
      registers: [registry],
    }),
    outboxOldestAge: new Gauge({
      name: 'outbox_oldest_pending_age_seconds',
      help: 'Age of the oldest unpublished outbox event',
      registers: [registry],
    }),
    expireBacklogHolds: new Gauge({
      name: 'expire_holds_backlog_holds',
      help: 'Holds past their expiry that the sweeper has not announced (reservation.expired) yet',
      registers: [registry],
    }),
    expireBacklogAge: new Gauge({
      name: 'expire_holds_backlog_oldest_age_seconds',
      help: 'Time since the oldest unannounced lapsed hold ran out (0 when there is none)',
      registers: [registry],
    }),
    expireRuns: new Counter({
      name: 'expire_holds_runs_total',
      help: 'Sweeper runs by result: drained, or budget (stopped by its time budget, the next run continues)',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    holdsExpired: new Counter({
      name: 'expire_holds_expired_total',
      help: 'Lapsed holds the sweeper marked EXPIRED and announced',
      registers: [registry],
    }),
    deliveries: new Counter({
      name: 'event_deliveries_total',
      help: 'CloudEvent deliveries to triggers by target and result (ok, retry, dead_letter)',
      labelNames: ['target', 'result'] as const,
      registers: [registry],
    }),
    deadLetters: new Counter({
      name: 'event_dead_letters_total',
      help: 'Events sent to the dead-letter topic after their retries ran out',
      labelNames: ['target', 'topic'] as const,
      registers: [registry],
    }),
    consumerLag: new Gauge({
      name: 'kafka_consumer_lag',
      help: 'Records not yet consumed, per consumer group, topic and partition',
      labelNames: ['group', 'topic', 'partition'] as const,
      registers: [registry],
    }),
    notifications: new Counter({
      name: 'notifications_total',
      help: 'Webhook notifications by result (sent, failed, skipped when no URL is configured)',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    queueWaiting: new Gauge({
      name: 'queue_waiting_users',
      help: 'Users waiting in line (including those registered before the opening), per concert',
      labelNames: ['concert'] as const,
      registers: [registry],
    }),
    queueActive: new Gauge({
      name: 'queue_active_users',
      help: 'Users holding an ACTIVE slot, per concert',
      labelNames: ['concert'] as const,
      registers: [registry],
    }),
    queueAdmitRate: new Gauge({
      name: 'queue_admit_per_second',
      help: 'Admissions per second a line allows now (fixed, or set by adaptive admission), per concert',
      labelNames: ['concert'] as const,
      registers: [registry],
    }),
    queueAdmissionChanges: new Counter({
      name: 'queue_admission_changes_total',
      help: 'Changes of the rate by adaptive admission, per concert and change (raise, cut); the log says why',
      labelNames: ['concert', 'change'] as const,
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
