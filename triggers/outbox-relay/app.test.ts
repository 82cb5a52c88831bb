import { describe, expect, it } from 'vitest';
import type { DeliveredRecord } from '../../shared/events/bus.ts';
import { deadLetterTopic } from '../../shared/events/dispatcher.ts';
import { createMemoryBus } from '../../shared/events/memory-bus.ts';
import { embeddedDatabase, httpOptions, manualClock } from '../../tests/support/harness.ts';
import { createApp } from './app.ts';

describe('outbox-relay POST /dead-letter (the KafkaSources dead-letter sink)', () => {
  async function setup() {
    const database = await embeddedDatabase();
    const bus = createMemoryBus({ partitions: 1 });
    const app = createApp({ db: database.db, bus, clock: manualClock(), batch: 10 }, httpOptions());
    const kept: DeliveredRecord[] = [];
    await bus.subscribe({
      groupId: 'inspect',
      topics: [deadLetterTopic],
      fromBeginning: true,
      handler: async (record) => void kept.push(record),
    });
    return { app, kept };
  }

  it('keeps the failed event on the dead-letter topic with its CloudEvent and error headers', async () => {
    const { app, kept } = await setup();
    const res = await app.request('/dead-letter', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'ce-id': 'evt-1',
        'ce-type': 'reservation.expired',
        'ce-source': '/concert-reservations',
        'ce-specversion': '1.0',
        'ce-knativeerrorcode': '500',
      },
      body: '{"reservationId":"r1"}',
    });
    expect(res.status).toBe(202);
    await expect.poll(() => kept.length).toBe(1);
    expect(kept[0]).toMatchObject({
      topic: deadLetterTopic,
      key: 'evt-1',
      value: '{"reservationId":"r1"}',
      headers: { 'ce-type': 'reservation.expired', 'ce-knativeerrorcode': '500' },
    });
  });

  it('refuses a body that is not a binary-mode CloudEvent', async () => {
    const { app, kept } = await setup();
    const res = await app.request('/dead-letter', { method: 'POST', body: 'x' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('VALIDATION_FAILED');
    expect(kept).toEqual([]);
  });
});
