import type { Runtime } from '../runtime.ts';

/**
 * Puts Kafka in this process's /readyz. Processes whose whole job is Kafka (the relay, the dispatcher)
 * are `unavailable` without it; the API is only `degraded`, since its writes land in the outbox and go
 * out when Kafka is back. The embedded bus lives in the process, so it has nothing to report.
 */
export function reportKafkaReadiness(
  rt: Pick<Runtime, 'bus' | 'config' | 'readiness'>,
  whenDown: 'unavailable' | 'degraded',
): void {
  if (!rt.config.KAFKA_BROKERS) return;
  const existing = rt.readiness.find((r) => r.name === 'kafka');
  if (existing) {
    existing.whenDown = whenDown;
    return;
  }
  rt.readiness.push({ name: 'kafka', check: () => rt.bus.ping(), whenDown });
}
