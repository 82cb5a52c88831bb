import { pino } from 'pino';
import type { DeliveredRecord, EventBus } from '../../shared/events/bus.ts';
import { createKafkaBus } from '../../shared/events/kafka-bus.ts';
import { serviceUrls, uniqueSuffix } from './real-services.ts';

/** A Kafka bus whose topics are private to this test run (a unique topic prefix on the shared broker). */
export function privateKafkaBus(
  prefix = `t${uniqueSuffix()}.`,
  brokers?: string,
): EventBus & { prefix: string } {
  const bus = createKafkaBus({
    brokers: (brokers ?? serviceUrls().kafkaBrokers).split(','),
    clientId: 'events-test',
    partitions: 3,
    replicationFactor: 1,
    logger: pino({ level: 'silent' }),
    topicPrefix: prefix,
  });
  return Object.assign(bus, { prefix });
}

export async function waitFor(
  predicate: () => boolean | Promise<boolean>,
  timeoutMs = 30_000,
  what = 'condition',
) {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Everything published on `topics`, read from the beginning by a fresh consumer group. */
export async function collect(bus: EventBus, topics: string[]) {
  const records: DeliveredRecord[] = [];
  const sub = await bus.subscribe({
    groupId: `collector-${uniqueSuffix()}`,
    topics,
    fromBeginning: true,
    handler: async (r) => void records.push(r),
  });
  return { records, stop: () => sub.stop() };
}
