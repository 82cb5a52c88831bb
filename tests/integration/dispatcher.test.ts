import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventBus } from '../../shared/events/bus.ts';
import { toKafkaRecord } from '../../shared/events/cloudevents.ts';
import { deadLetterTopic, startDispatcher } from '../../shared/events/dispatcher.ts';
import { createMemoryBus } from '../../shared/events/memory-bus.ts';
import { createMetrics } from '../../shared/metrics.ts';
import { collect, privateKafkaBus, waitFor } from '../support/events-fixture.ts';

const record = (n: number, key: string) =>
  toKafkaRecord({
    event_id: `reservation.cancelled:${n}`,
    topic: 'reservation.cancelled',
    event_key: key,
    type: 'reservation.cancelled',
    payload: JSON.stringify({ n }),
    created_at: Date.now(),
  });

const targets: { name: string; make(): EventBus }[] = [
  { name: 'Kafka', make: () => privateKafkaBus() },
  { name: 'in-process bus', make: () => createMemoryBus({ partitions: 3 }) },
];

describe.each(targets)('dispatcher on $name', (target) => {
  let bus: EventBus;
  beforeAll(async () => {
    bus = target.make();
    await bus.ensureTopics(['reservation.cancelled', deadLetterTopic]);
  });
  afterAll(() => bus.close());

  it('retries a failing delivery, dead-letters a poison event with its error, and keeps the partition moving', async () => {
    const attempts = new Map<string, number>();
    const delivered: number[] = [];
    const metrics = createMetrics();
    const stop = await startDispatcher(
      { bus, logger: pino({ level: 'silent' }), metrics, maxAttempts: 4, backoffMs: 10 },
      [
        {
          name: 'flaky',
          topics: ['reservation.cancelled'],
          deliver: async ({ headers, body }) => {
            const id = headers['ce-id'] ?? '';
            const n = JSON.parse(body) as { n: number };
            const tries = (attempts.get(id) ?? 0) + 1;
            attempts.set(id, tries);
            if (headers['ce-specversion'] !== '1.0') return { status: 400, body: 'not binary mode' };
            if (n.n === 2) return { status: 500, body: 'poison' }; // always fails
            if (n.n === 1 && tries <= 2) return { status: 503, body: 'busy' }; // fails twice, then works
            delivered.push(n.n);
            return { status: 202 };
          },
        },
      ],
    );
    const dead = await collect(bus, [deadLetterTopic]);
    await bus.publish([record(0, 'seat-9'), record(1, 'seat-9'), record(2, 'seat-9'), record(3, 'seat-9')]);
    await waitFor(
      () => delivered.length >= 3 && dead.records.length >= 1,
      45_000,
      'deliveries and the dead letter',
    );
    await stop();
    await dead.stop();

    expect(delivered).toEqual([0, 1, 3]);
    expect(attempts.get('reservation.cancelled:1')).toBe(3);
    expect(attempts.get('reservation.cancelled:2')).toBe(4);
    expect(dead.records).toHaveLength(1);
    expect(dead.records[0]!.headers).toMatchObject({
      ce_id: 'reservation.cancelled:2',
      'dispatch-target': 'flaky',
      'dispatch-source-topic': 'reservation.cancelled',
    });
    expect(dead.records[0]!.headers?.['dispatch-error']).toContain('HTTP 500 poison');
    const text = await metrics.registry.getSingleMetricAsString('event_deliveries_total');
    expect(text).toContain('event_deliveries_total{target="flaky",result="dead_letter"} 1');
    expect(text).toContain('event_deliveries_total{target="flaky",result="ok"} 3');
  });

  it('delivers an unordered subscription several at a time, every record at least once', async () => {
    let inFlight = 0;
    let peak = 0;
    const seen = new Set<string>();
    const stop = await startDispatcher(
      { bus, logger: pino({ level: 'silent' }), maxAttempts: 3, backoffMs: 10 },
      [
        {
          name: 'parallel',
          topics: ['reservation.cancelled'],
          ordering: 'unordered',
          deliver: async ({ headers }) => {
            inFlight++;
            peak = Math.max(peak, inFlight);
            await new Promise((r) => setTimeout(r, 20));
            seen.add(headers['ce-id'] ?? '');
            inFlight--;
            return { status: 200 };
          },
        },
      ],
    );
    await bus.publish(Array.from({ length: 60 }, (_, i) => record(1000 + i, 'one-key')));
    await waitFor(
      () => [...Array(60).keys()].every((i) => seen.has(`reservation.cancelled:${1000 + i}`)),
      45_000,
      'all 60',
    );
    await stop();
    expect(peak).toBeGreaterThan(1);
  });

  it('does not retry an answer that will not change (400), but dead-letters it at once', async () => {
    let calls = 0;
    const stop = await startDispatcher(
      { bus, logger: pino({ level: 'silent' }), maxAttempts: 5, backoffMs: 10 },
      [
        {
          name: 'strict',
          topics: ['reservation.cancelled'],
          deliver: async () => {
            calls++;
            return { status: 400, body: 'bad' };
          },
        },
      ],
    );
    const dead = await collect(bus, [deadLetterTopic]);
    await bus.publish([record(77, 'seat-x')]);
    const strictDead = () => dead.records.filter((r) => r.headers?.['dispatch-target'] === 'strict');
    await waitFor(
      () =>
        strictDead().some((r) => r.headers?.ce_id === 'reservation.cancelled:77') &&
        strictDead().length === calls,
      45_000,
      'dead letters',
    );
    await stop();
    await dead.stop();
    // The group reads the topic from the beginning: every record it saw was tried exactly once.
    expect(calls).toBe(strictDead().length);
  });
});
