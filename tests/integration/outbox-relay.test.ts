import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { holdSeat } from '../../functions/hold-seat/hold-seat.ts';
import { cancelReservation } from '../../functions/hold-seat/manage-reservation.ts';
import { payReservation } from '../../functions/pay/pay.ts';
import type { Database } from '../../shared/db/connect.ts';
import type { EventBus } from '../../shared/events/bus.ts';
import { allTopics } from '../../shared/events/subscriptions.ts';
import { recordActivations } from '../../shared/outbox/queue-activated.ts';
import { orThrow } from '../../shared/result.ts';
import { createMemoryHoldGuard } from '../../shared/seats/hold-guard.ts';
import { createMemorySeatCache } from '../../shared/seats/seat-cache.ts';
import { seatStoreFor } from '../../shared/seats/seat-store.ts';
import { expireLapsedHolds } from '../../triggers/expire-holds/expire.ts';
import { drainOutbox, outboxBacklog, relayOnce } from '../../triggers/outbox-relay/relay.ts';
import { releaseSeat } from '../../triggers/release-seat/release.ts';
import { collect, privateKafkaBus, waitFor } from '../support/events-fixture.ts';
import { manualClock } from '../support/harness.ts';
import { freshMysqlDatabase } from '../support/real-services.ts';
import { charge, freshSchedule } from '../support/reservation-fixture.ts';

describe('outbox relay to Kafka (real MariaDB and Kafka)', () => {
  let database: Database;
  let drop: () => Promise<void>;
  let bus: EventBus & { prefix: string };
  const clock = manualClock(Date.now());
  const guard = createMemoryHoldGuard(() => clock.now());
  const seatCache = createMemorySeatCache(() => clock.now());
  const deps = () => ({ seats: seatStoreFor(database.db), clock, holdTtlMs: 60_000, guard, seatCache });

  beforeAll(async () => {
    ({ database, drop } = await freshMysqlDatabase());
    bus = privateKafkaBus();
    await bus.ensureTopics(allTopics);
  });
  afterAll(async () => {
    await bus.close();
    await drop();
  });

  it('publishes each event type exactly once per fact, with its key, type and data', async () => {
    const { scheduleId, seatIds } = await freshSchedule(database, clock, 4, 1000);
    const [a, b, c] = seatIds as [number, number, number];
    const paid = await holdSeat(deps(), { userId: 'payer', scheduleId, seatId: a });
    const cancelled = await holdSeat(deps(), { userId: 'canceller', scheduleId, seatId: b });
    const lapsed = await holdSeat(
      { ...deps(), holdTtlMs: 1000 },
      { userId: 'sleeper', scheduleId, seatId: c },
    );
    if (!paid.ok || !cancelled.ok || !lapsed.ok) throw new Error('setup');
    await charge(database, 'payer', 1000, clock.now());
    const payment = await payReservation(
      { seats: seatStoreFor(database.db), clock },
      { userId: 'payer', reservationId: Number(paid.value.id), idempotencyKey: 'k' },
    ).then(orThrow);
    await cancelReservation(deps(), { userId: 'canceller', reservationId: Number(cancelled.value.id) });
    clock.advance(1001);
    await expireLapsedHolds({ seats: seatStoreFor(database.db), clock, seatCache });
    await expireLapsedHolds({ seats: seatStoreFor(database.db), clock, seatCache }); // a second sweep finds nothing new
    await recordActivations(database.db, clock)('7', ['queue-user'], clock.now());

    expect(await drainOutbox({ db: database.db, bus, clock, batch: 2 })).toBe(7);
    expect(await drainOutbox({ db: database.db, bus, clock, batch: 2 })).toBe(0);
    expect(await outboxBacklog(database.db, clock.now())).toEqual({ pending: 0, oldestAgeSeconds: 0 });

    const seen = await collect(bus, allTopics);
    await waitFor(() => seen.records.length >= 7, 30_000, 'seven events');
    await new Promise((r) => setTimeout(r, 500));
    await seen.stop();
    const summary = seen.records.map((r) => [
      r.topic,
      r.key,
      r.headers?.ce_type,
      r.headers?.ce_id,
      r.headers?.ce_specversion,
    ]);
    expect(summary).toHaveLength(7);
    expect(summary).toEqual(
      expect.arrayContaining([
        [
          'payment.completed',
          paid.value.id,
          'payment.completed',
          `payment.completed:${payment.body.paymentId}`,
          '1.0',
        ],
        [
          'queue.activated',
          'queue-user',
          'queue.activated',
          expect.stringMatching(/^queue\.activated:7:queue-user:/),
          '1.0',
        ],
        [
          'reservation.cancelled',
          String(b),
          'reservation.cancelled',
          `reservation.cancelled:${cancelled.value.id}`,
          '1.0',
        ],
        [
          'reservation.created',
          String(a),
          'reservation.created',
          `reservation.created:${paid.value.id}`,
          '1.0',
        ],
        [
          'reservation.created',
          String(b),
          'reservation.created',
          `reservation.created:${cancelled.value.id}`,
          '1.0',
        ],
        [
          'reservation.created',
          String(c),
          'reservation.created',
          `reservation.created:${lapsed.value.id}`,
          '1.0',
        ],
        [
          'reservation.expired',
          String(c),
          'reservation.expired',
          `reservation.expired:${lapsed.value.id}`,
          '1.0',
        ],
      ]),
    );
    const paidEvent = seen.records.find((r) => r.topic === 'payment.completed')!;
    expect(JSON.parse(paidEvent.value)).toMatchObject({
      reservationId: paid.value.id,
      userId: 'payer',
      amount: 1000,
      seatId: String(a),
    });
  });

  it('republishes after a crash between publish and mark-sent, and the consumer acts once', async () => {
    const { scheduleId, seatIds } = await freshSchedule(database, clock, 1, 1000);
    const held = await holdSeat(
      { ...deps(), holdTtlMs: 500 },
      { userId: 'crash', scheduleId, seatId: seatIds[0]! },
    );
    if (!held.ok) throw new Error('setup');
    clock.advance(501);
    await expireLapsedHolds({ seats: seatStoreFor(database.db), clock, seatCache });
    await drainOutbox({ db: database.db, bus, clock, batch: 100 }); // clear what came before

    const eventId = `reservation.expired:${held.value.id}`;
    // Not this one: it was published above. A new fact, then a relay that dies after publishing.
    const again = await holdSeat(
      { ...deps(), holdTtlMs: 500 },
      { userId: 'crash2', scheduleId, seatId: seatIds[0]! },
    );
    if (!again.ok) throw new Error('setup');
    clock.advance(501);
    await expireLapsedHolds({ seats: seatStoreFor(database.db), clock, seatCache });
    const crashing: EventBus = {
      ...bus,
      publish: async (records) => {
        await bus.publish(records);
        throw new Error('process killed after publish');
      },
    };
    await expect(relayOnce({ db: database.db, bus: crashing, clock, batch: 100 })).rejects.toThrow('killed');
    expect((await outboxBacklog(database.db, clock.now())).pending).toBe(2);
    expect(await relayOnce({ db: database.db, bus, clock, batch: 100 })).toBe(2);

    const newId = `reservation.expired:${again.value.id}`;
    const seen = await collect(bus, ['reservation.expired']);
    await waitFor(
      () => seen.records.filter((r) => r.headers?.ce_id === newId).length >= 2,
      30_000,
      'the republished event',
    );
    await seen.stop();
    expect(seen.records.filter((r) => r.headers?.ce_id === eventId)).toHaveLength(1);
    const copies = seen.records.filter((r) => r.headers?.ce_id === newId);
    expect(copies).toHaveLength(2);

    const releaseDeps = { seats: seatStoreFor(database.db), clock, seatCache, guard };
    const outcomes = [];
    for (const copy of copies) {
      outcomes.push(await releaseSeat(releaseDeps, { id: newId, data: JSON.parse(copy.value) }));
    }
    expect(outcomes).toEqual(['done', 'duplicate']);
  });

  it('keeps requests working while Kafka is unreachable; delivers everything, in order per key, when it is back', async () => {
    const down = privateKafkaBus(bus.prefix, '127.0.0.1:1');
    const { scheduleId, seatIds } = await freshSchedule(database, clock, 1, 1000);
    await drainOutbox({ db: database.db, bus, clock, batch: 100 });
    const seatId = seatIds[0]!;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const held = await holdSeat(deps(), { userId: `u${i}`, scheduleId, seatId });
      if (!held.ok) throw new Error('hold failed');
      await cancelReservation(deps(), { userId: `u${i}`, reservationId: Number(held.value.id) });
      ids.push(held.value.id);
      await expect(relayOnce({ db: database.db, bus: down, clock, batch: 100 })).rejects.toThrow();
    }
    await down.close();
    expect((await outboxBacklog(database.db, clock.now())).pending).toBe(10);

    expect(await drainOutbox({ db: database.db, bus, clock, batch: 3 })).toBe(10);
    const seen = await collect(bus, ['reservation.created', 'reservation.cancelled']);
    await waitFor(
      () => seen.records.filter((r) => r.key === String(seatId)).length >= 10,
      30_000,
      'the ten events of the seat',
    );
    await seen.stop();
    // Both topics are keyed by seat: within each topic the seat's events arrive in the order they happened.
    for (const topic of ['reservation.created', 'reservation.cancelled']) {
      const order = seen.records
        .filter((r) => r.key === String(seatId) && r.topic === topic)
        .map((r) => (JSON.parse(r.value) as { reservationId: string }).reservationId);
      expect(order).toEqual(ids);
    }
  });
});
