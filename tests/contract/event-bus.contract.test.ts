import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import type { DeliveredRecord, EventBus } from '../../shared/events/bus.ts';
import { createKafkaBus } from '../../shared/events/kafka-bus.ts';
import { createMemoryBus } from '../../shared/events/memory-bus.ts';
import { serviceUrls, uniqueSuffix } from '../support/real-services.ts';

const targets: { name: string; make(): EventBus }[] = [
  { name: 'in-process', make: () => createMemoryBus({ partitions: 3 }) },
  {
    name: 'Kafka',
    make: () =>
      createKafkaBus({
        brokers: serviceUrls().kafkaBrokers.split(','),
        clientId: 'contract-test',
        partitions: 3,
        replicationFactor: 1,
        logger: pino({ level: 'silent' }),
      }),
  },
];

async function waitFor(predicate: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe.each(targets)('event bus contract: $name', (target) => {
  const bus = target.make();
  afterAll(() => bus.close());

  it('delivers every record to each consumer group, in order per key', async () => {
    const topic = `contract.order.${uniqueSuffix()}`;
    await bus.ensureTopics([topic]);
    const records = Array.from({ length: 30 }, (_, i) => ({
      topic,
      key: `seat-${i % 4}`,
      value: JSON.stringify({ n: i }),
      headers: { 'ce-id': `e${i}` },
    }));
    await bus.publish(records.slice(0, 15));
    await bus.publish(records.slice(15));

    const groups = ['a', 'b'].map(() => [] as DeliveredRecord[]);
    const subs = await Promise.all(
      groups.map((got, g) =>
        bus.subscribe({
          groupId: `contract-${g}-${uniqueSuffix()}`,
          topics: [topic],
          fromBeginning: true,
          handler: async (r) => void got.push(r),
        }),
      ),
    );
    await waitFor(() => groups.every((got) => got.length >= 30), 45_000);
    await Promise.all(subs.map((s) => s.stop()));
    for (const got of groups) {
      expect(got).toHaveLength(30);
      expect(got[0]!.headers?.['ce-id']).toMatch(/^e\d+$/);
      for (let k = 0; k < 4; k++) {
        const ns = got
          .filter((r) => r.key === `seat-${k}`)
          .map((r) => (JSON.parse(r.value) as { n: number }).n);
        expect(ns).toEqual([...ns].sort((x, y) => x - y));
        expect(ns).toHaveLength(records.filter((r) => r.key === `seat-${k}`).length);
      }
    }
  });

  it('offers a record again when its handler fails, holding back the rest of its key', async () => {
    const topic = `contract.retry.${uniqueSuffix()}`;
    await bus.ensureTopics([topic]);
    const seen: number[] = [];
    let failedOnce = false;
    const sub = await bus.subscribe({
      groupId: `contract-retry-${uniqueSuffix()}`,
      topics: [topic],
      fromBeginning: true,
      handler: async (r) => {
        const n = (JSON.parse(r.value) as { n: number }).n;
        if (n === 1 && !failedOnce) {
          failedOnce = true;
          throw new Error('transient');
        }
        seen.push(n);
      },
    });
    await bus.publish([0, 1, 2].map((n) => ({ topic, key: 'same', value: JSON.stringify({ n }) })));
    await waitFor(() => seen.length >= 3, 45_000);
    await sub.stop();
    expect(failedOnce).toBe(true);
    expect(seen).toEqual([0, 1, 2]);
  });
});
