import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { oneTripHoldFor } from '../../functions/hold-seat/hold-available-seat.ts';
import { payReservation } from '../../functions/pay/pay.ts';
import type { Database } from '../../shared/db/connect.ts';
import { outboxShards } from '../../shared/db/migrations/0002_outbox_shards.ts';
import { partitionFor } from '../../shared/events/bus.ts';
import { embeddedDatabase, manualClock } from '../support/harness.ts';
import { freshMysqlDatabase } from '../support/real-services.ts';
import { charge, freshSchedule, hold, outboxFor } from '../support/reservation-fixture.ts';

/**
 * The one-round-trip hold and payment (procedures of migrations 0003 and 0004) must leave exactly what
 * the statement-by-statement paths leave: the same rows, events, stored answers and refusals.
 */
let database: Database;
let drop: () => Promise<void>;
beforeAll(async () => {
  ({ database, drop } = await freshMysqlDatabase());
});
afterAll(async () => {
  await drop();
});

describe('hold in one round trip (MariaDB procedure)', () => {
  const seat = (id: number) =>
    database.db
      .selectFrom('seats')
      .select(['status', 'held_by', 'hold_expires_at', 'reservation_id'])
      .where('id', '=', id)
      .executeTakeFirstOrThrow();

  const createdEvent = async (seatId: number, reservationId: string) => {
    const rows = await outboxFor(database, String(seatId));
    const created = rows.filter((r) => r.event_id === `reservation.created:${reservationId}`);
    expect(created).toHaveLength(1);
    const shard = await database.db
      .selectFrom('outbox')
      .select('shard')
      .where('event_id', '=', created[0]!.event_id)
      .executeTakeFirstOrThrow();
    expect(shard.shard).toBe(partitionFor(String(seatId), outboxShards));
    return { eventId: created[0]!.event_id, data: JSON.parse(created[0]!.payload) as unknown };
  };

  it('holds an AVAILABLE seat and writes the same rows as the statement path', async () => {
    const clock = manualClock();
    const { scheduleId, seatIds } = await freshSchedule(database, clock, 3, 77_000);
    const [fast, lapsed] = [seatIds[0]!, seatIds[1]!];

    // One round trip: the seat is AVAILABLE.
    const viaProcedure = await hold(database, clock, 'alice', scheduleId, fast);
    expect(viaProcedure.ok).toBe(true);
    // The statement path: taking over a lapsed hold is left to it.
    await hold(database, clock, 'carol', scheduleId, lapsed, { ttlMs: 1000 });
    clock.advance(2000);
    const viaStatements = await hold(database, clock, 'bob', scheduleId, lapsed);
    expect(viaStatements.ok).toBe(true);
    if (!viaProcedure.ok || !viaStatements.ok) return;

    for (const [result, seatId, user, now] of [
      [viaProcedure, fast, 'alice', clock.now() - 2000],
      [viaStatements, lapsed, 'bob', clock.now()],
    ] as const) {
      const r = result.reservation;
      expect(r).toEqual({
        id: r.id,
        scheduleId: String(scheduleId),
        seatId: String(seatId),
        status: 'HELD',
        price: 77_000,
        expiresAt: new Date(now + 300_000).toISOString(),
      });
      expect(await seat(seatId)).toEqual({
        status: 'HELD',
        held_by: user,
        hold_expires_at: now + 300_000,
        reservation_id: Number(r.id),
      });
      expect(await createdEvent(seatId, r.id)).toEqual({
        eventId: `reservation.created:${r.id}`,
        data: {
          reservationId: r.id,
          scheduleId: String(scheduleId),
          seatId: String(seatId),
          userId: user,
          price: 77_000,
          expiresAt: r.expiresAt,
        },
      });
    }
  });

  it('answers null, writing nothing, for a seat that is held, sold or not in the schedule', async () => {
    const clock = manualClock();
    const { scheduleId, seatIds } = await freshSchedule(database, clock, 2);
    const oneTrip = oneTripHoldFor(database.db);
    const attempt = (userId: string, schedule: number, seatId: number) =>
      oneTrip.hold({
        userId,
        scheduleId: schedule,
        seatId,
        now: clock.now(),
        expiresAt: clock.now() + 1000,
      });
    expect(await attempt('a', scheduleId, seatIds[0]!)).toMatchObject({ user_id: 'a', status: 'HELD' });
    expect(await attempt('b', scheduleId, seatIds[0]!)).toBeNull();
    expect(await attempt('b', scheduleId + 1, seatIds[1]!)).toBeNull();
    expect(await outboxFor(database, String(seatIds[1]!))).toEqual([]);
    expect((await seat(seatIds[1]!)).status).toBe('AVAILABLE');
  });

  it('falls back to the statement path where the procedure is missing', async () => {
    const other = await freshMysqlDatabase();
    try {
      await sql`drop procedure hold_available_seat`.execute(other.database.db);
      const clock = manualClock();
      const { scheduleId, seatIds } = await freshSchedule(other.database, clock, 1);
      const result = await hold(other.database, clock, 'dave', scheduleId, seatIds[0]!);
      expect(result).toMatchObject({ ok: true, reservation: { status: 'HELD' } });
    } finally {
      await other.drop();
    }
  });
});

describe('payment in one round trip (MariaDB procedure)', () => {
  it('pays, stores the answer for replays, and writes payment.completed with its data', async () => {
    const clock = manualClock();
    const { scheduleId, seatIds } = await freshSchedule(database, clock, 1, 30_000);
    await charge(database, 'erin', 50_000, clock.now());
    const held = await hold(database, clock, 'erin', scheduleId, seatIds[0]!);
    if (!held.ok) throw new Error('hold failed');
    const input = { userId: 'erin', reservationId: Number(held.reservation.id), idempotencyKey: 'k1' };
    const paid = await payReservation({ db: database.db, clock }, input);
    expect(paid).toEqual({
      status: 201,
      replayed: false,
      body: {
        paymentId: paid.body.paymentId,
        reservationId: held.reservation.id,
        amount: 30_000,
        status: 'PAID',
        balance: 20_000,
      },
    });
    expect(await payReservation({ db: database.db, clock }, input)).toEqual({ ...paid, replayed: true });
    const events = (await outboxFor(database, held.reservation.id)).filter(
      (r) => r.topic === 'payment.completed',
    );
    expect(events.map((e) => [e.event_id, JSON.parse(e.payload)])).toEqual([
      [
        `payment.completed:${paid.body.paymentId}`,
        {
          paymentId: paid.body.paymentId,
          reservationId: held.reservation.id,
          scheduleId: String(scheduleId),
          seatId: String(seatIds[0]),
          userId: 'erin',
          amount: 30_000,
        },
      ],
    ]);
  });

  it('refuses with the same codes and messages as the statement path (embedded)', async () => {
    const refusals = async (target: Database) => {
      const clock = manualClock();
      const { scheduleId, seatIds } = await freshSchedule(target, clock, 2, 30_000);
      await charge(target, 'poor', 10_000, clock.now());
      const mine = await hold(target, clock, 'poor', scheduleId, seatIds[0]!);
      if (!mine.ok) throw new Error('hold failed');
      const pay = (userId: string, reservationId: number, key: string) =>
        payReservation({ db: target.db, clock }, { userId, reservationId, idempotencyKey: key }).then(
          () => 'paid',
          (error: { code: string; message: string }) => `${error.code}: ${error.message}`,
        );
      const id = Number(mine.reservation.id);
      const answers = [
        await pay('poor', id + 1000, 'a'),
        await pay('thief', id, 'b'),
        await pay('poor', id, 'c'),
      ];
      clock.advance(400_000);
      answers.push(await pay('poor', id, 'd'));
      return answers;
    };
    const embedded = await embeddedDatabase();
    try {
      const expected = await refusals(embedded);
      expect(expected).toEqual([
        'NOT_FOUND: No such reservation',
        'FORBIDDEN: This reservation belongs to another user',
        'INSUFFICIENT_POINTS: The balance does not cover 30000 points',
        'HOLD_EXPIRED: The hold ran out before payment',
      ]);
      expect(await refusals(database)).toEqual(expected);
    } finally {
      await embedded.close();
    }
  });
});
