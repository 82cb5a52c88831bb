import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { payReservation } from '../../functions/pay/pay.ts';
import type { Database } from '../../shared/db/connect.ts';
import type { ReadinessCheck } from '../../shared/http/create-http-app.ts';
import { createHttpApp } from '../../shared/http/create-http-app.ts';
import { reportSeatProcedures } from '../../shared/seats/readiness.ts';
import {
  type HoldOutcome,
  type PayOutcome,
  payRefusals,
  seatStoreFor,
} from '../../shared/seats/seat-store.ts';
import { embeddedDatabase, httpOptions, manualClock } from '../support/harness.ts';
import { freshMysqlDatabase } from '../support/real-services.ts';
import { charge, freshSchedule, hold } from '../support/reservation-fixture.ts';

/**
 * The MySQL store runs each hot write as one stored procedure (shared/db/sql/), the SQLite store as
 * statements (shared/seats/sqlite-seat-store.ts). Given the same inputs on the same seats (a fresh
 * database of each kind: the same ids), every outcome, every row and every event must come out the same,
 * byte for byte.
 */
interface Pair {
  mysql: Database;
  sqlite: Database;
  close(): Promise<void>;
}

async function pair(): Promise<Pair> {
  const mysql = await freshMysqlDatabase();
  const sqlite = await embeddedDatabase();
  return {
    mysql: mysql.database,
    sqlite,
    async close() {
      await sqlite.close();
      await mysql.drop();
    },
  };
}

/** What a path leaves behind (both drivers hand back BIGINT columns as numbers). */
async function written(database: Database) {
  const db = database.db;
  return {
    outbox: await db
      .selectFrom('outbox')
      .select([
        'event_id',
        'topic',
        'event_key',
        'type',
        'payload',
        'created_at',
        'sent_at',
        'shard',
        'concert_id',
      ])
      .orderBy('id')
      .execute(),
    seats: await db.selectFrom('seats').selectAll().orderBy('id').execute(),
    reservations: await db
      .selectFrom('reservations')
      .select([
        'id',
        'user_id',
        'schedule_id',
        'seat_id',
        'price',
        'status',
        'expires_at',
        'created_at',
        'updated_at',
      ])
      .orderBy('id')
      .execute(),
    payments: await db.selectFrom('payments').selectAll().orderBy('id').execute(),
    wallets: await db.selectFrom('point_wallets').selectAll().orderBy('user_id').execute(),
    ledger: await db.selectFrom('point_ledger').selectAll().orderBy('id').execute(),
    answers: await db
      .selectFrom('idempotency_records')
      .select(['user_id', 'idem_key', 'status_code', 'response_body'])
      .orderBy('user_id')
      .orderBy('idem_key')
      .execute(),
  };
}

const t0 = 1_800_000_000_123;
const ttl = 300_000;

type Step =
  | { hold: { userId: string; schedule: 'a' | 'b'; seat: number; at: number } }
  | { pay: { userId: string; reservation: number; key: string; at: number } }
  | { cancel: { reservation: number; seat: number; at: number } }
  | { charge: { userId: string; amount: number } };

/** Runs the steps on one database; answers each hold's and payment's outcome. */
async function run(database: Database, steps: Step[]): Promise<Array<HoldOutcome | PayOutcome>> {
  const clock = manualClock(t0);
  const a = await freshSchedule(database, clock, 3, 30_000);
  const b = await freshSchedule(database, clock, 1, 30_000);
  const store = seatStoreFor(database.db);
  const outcomes: Array<HoldOutcome | PayOutcome> = [];
  for (const step of steps) {
    if ('hold' in step) {
      const { userId, schedule, seat, at } = step.hold;
      const scheduleId = schedule === 'a' ? a.scheduleId : b.scheduleId;
      outcomes.push(await store.hold({ userId, scheduleId, seatId: seat, now: at, expiresAt: at + ttl }));
    } else if ('pay' in step) {
      const { userId, reservation, key, at } = step.pay;
      const request = { userId, scope: 'payment', key, fingerprint: { reservationId: reservation } };
      outcomes.push(await store.pay({ request, reservationId: reservation, now: at }));
    } else if ('cancel' in step) {
      const { reservation, seat, at } = step.cancel;
      await store.cancel({ reservationId: reservation, seatId: seat, now: at });
    } else {
      await charge(database, step.charge.userId, step.charge.amount, t0);
    }
  }
  return outcomes;
}

async function samePaths(steps: Step[]) {
  const both = await pair();
  try {
    const viaStatements = await run(both.sqlite, steps);
    const viaProcedures = await run(both.mysql, steps);
    expect(viaProcedures).toEqual(viaStatements);
    expect(await written(both.mysql)).toEqual(await written(both.sqlite));
    return { outcomes: viaStatements, rows: await written(both.sqlite) };
  } finally {
    await both.close();
  }
}

describe('hold_seat procedure vs SQLite statements', () => {
  it('answers every outcome alike and writes the same rows and events, on the same seats', async () => {
    // Seats 1–3 are schedule a's, seat 4 schedule b's; reservation ids follow the holds that win.
    const later = t0 + ttl + 1;
    const { outcomes, rows } = await samePaths([
      { hold: { userId: 'alice', schedule: 'a', seat: 1, at: t0 } }, // HELD, reservation 1
      { hold: { userId: 'bob', schedule: 'a', seat: 1, at: t0 + 1 } }, // TAKEN
      { hold: { userId: 'alice', schedule: 'a', seat: 1, at: t0 + 2 } }, // MINE
      { hold: { userId: 'carol', schedule: 'b', seat: 1, at: t0 } }, // NOT_FOUND: another schedule's seat
      { hold: { userId: 'carol', schedule: 'a', seat: 999, at: t0 } }, // NOT_FOUND: no such seat
      { hold: { userId: 'o"brien\\', schedule: 'a', seat: 1, at: later } }, // HELD over a lapsed hold: 2
      { hold: { userId: 'frank', schedule: 'a', seat: 2, at: t0 } }, // HELD, reservation 3
      { charge: { userId: 'frank', amount: 30_000 } },
      { pay: { userId: 'frank', reservation: 3, key: 'k', at: t0 + 5 } }, // PAID
      { hold: { userId: 'gina', schedule: 'a', seat: 2, at: t0 + 6 } }, // SOLD
      { hold: { userId: 'gina', schedule: 'a', seat: 3, at: t0 + 7 } }, // HELD, reservation 4
      { cancel: { reservation: 4, seat: 3, at: t0 + 8 } },
      { hold: { userId: 'hank', schedule: 'a', seat: 3, at: t0 + 9 } }, // HELD after a cancel: 5
    ]);
    expect(outcomes.map((o) => o.outcome)).toEqual([
      'HELD',
      'TAKEN',
      'MINE',
      'NOT_FOUND',
      'NOT_FOUND',
      'HELD',
      'HELD',
      'PAID',
      'SOLD',
      'HELD',
      'HELD',
    ]);
    expect(outcomes[1]).toEqual({ outcome: 'TAKEN', holder: 'alice', until: t0 + ttl });
    expect(rows.outbox.map((r) => r.event_id)).toEqual([
      'reservation.created:1',
      'reservation.expired:1',
      'reservation.created:2',
      'reservation.created:3',
      'payment.completed:1',
      'reservation.created:4',
      'reservation.cancelled:4',
      'reservation.created:5',
    ]);
    expect(rows.outbox[1]!.payload).toBe(
      `{"reservationId":"1","scheduleId":"1","seatId":"1","userId":"alice","price":30000,"expiresAt":"${new Date(t0 + ttl).toISOString()}"}`,
    );
  });
});

describe('pay_reservation procedure vs SQLite statements', () => {
  it('answers PAID and each of the six refusals alike, rolling every refusal back', async () => {
    const late = t0 + ttl + 1;
    const { outcomes, rows } = await samePaths([
      { hold: { userId: 'rich', schedule: 'a', seat: 1, at: t0 } }, // reservation 1
      { hold: { userId: 'poor', schedule: 'a', seat: 2, at: t0 } }, // reservation 2
      { hold: { userId: 'late', schedule: 'a', seat: 3, at: t0 } }, // reservation 3
      { charge: { userId: 'rich', amount: 100_000 } },
      { charge: { userId: 'poor', amount: 10_000 } },
      { charge: { userId: 'late', amount: 100_000 } },
      { pay: { userId: 'rich', reservation: 999, key: 'a', at: t0 + 1 } }, // NOT_FOUND
      { pay: { userId: 'rich', reservation: 2, key: 'b', at: t0 + 1 } }, // FORBIDDEN
      { pay: { userId: 'poor', reservation: 2, key: 'c', at: t0 + 1 } }, // INSUFFICIENT_POINTS
      { pay: { userId: 'late', reservation: 3, key: 'd', at: late } }, // HOLD_EXPIRED
      { pay: { userId: 'rich', reservation: 1, key: 'e', at: t0 + 2 } }, // PAID
      { pay: { userId: 'rich', reservation: 1, key: 'f', at: t0 + 3 } }, // ALREADY_PAID
      { cancel: { reservation: 2, seat: 2, at: t0 + 4 } },
      { pay: { userId: 'poor', reservation: 2, key: 'g', at: t0 + 5 } }, // CANCELLED
    ]);
    const refusals = outcomes.slice(3).map((o) => o.outcome);
    expect(refusals).toEqual([
      'NOT_FOUND',
      'FORBIDDEN',
      'INSUFFICIENT_POINTS',
      'HOLD_EXPIRED',
      'PAID',
      'ALREADY_PAID',
      'CANCELLED',
    ]);
    expect(new Set(refusals)).toEqual(new Set([...payRefusals, 'PAID']));
    // Only the payment left anything behind: one answer, one payment, one debit, one event.
    expect(rows.answers).toEqual([
      {
        user_id: 'rich',
        idem_key: 'e',
        status_code: 201,
        response_body: '{"paymentId":"1","reservationId":"1","amount":30000,"status":"PAID","balance":70000}',
      },
    ]);
    expect(rows.payments).toHaveLength(1);
    expect(rows.outbox.filter((r) => r.topic === 'payment.completed').map((r) => r.payload)).toEqual([
      '{"paymentId":"1","reservationId":"1","scheduleId":"1","seatId":"1","userId":"rich","amount":30000}',
    ]);
  });

  it('refuses with the same codes and messages through the use case', async () => {
    const refusals = async (target: Database) => {
      const clock = manualClock();
      const { scheduleId, seatIds } = await freshSchedule(target, clock, 2, 30_000);
      await charge(target, 'poor', 10_000, clock.now());
      const mine = await hold(target, clock, 'poor', scheduleId, seatIds[0]!);
      if (!mine.ok) throw new Error('hold failed');
      const pay = (userId: string, reservationId: number, key: string) =>
        payReservation(
          { seats: seatStoreFor(target.db), clock },
          { userId, reservationId, idempotencyKey: key },
        ).then((result) => (result.ok ? 'paid' : `${result.code}: ${result.message}`));
      const id = Number(mine.value.id);
      const answers = [
        await pay('poor', id + 1000, 'a'),
        await pay('thief', id, 'b'),
        await pay('poor', id, 'c'),
      ];
      clock.advance(400_000);
      answers.push(await pay('poor', id, 'd'));
      return answers;
    };
    const both = await pair();
    try {
      const expected = await refusals(both.sqlite);
      expect(expected).toEqual([
        'NOT_FOUND: No such reservation',
        'FORBIDDEN: This reservation belongs to another user',
        'INSUFFICIENT_POINTS: The balance does not cover 30000 points',
        'HOLD_EXPIRED: The hold ran out before payment',
      ]);
      expect(await refusals(both.mysql)).toEqual(expected);
    } finally {
      await both.close();
    }
  });
});

describe('a schema without the procedures', () => {
  let other: Awaited<ReturnType<typeof freshMysqlDatabase>>;
  beforeAll(async () => {
    other = await freshMysqlDatabase();
    await sql`drop procedure hold_seat`.execute(other.database.db);
  });
  afterAll(() => other.drop());

  it('is not ready, naming what is missing, and a hold answers 503 instead of taking another path', async () => {
    const rt = { database: other.database, readiness: [] as ReadinessCheck[] };
    reportSeatProcedures(rt);
    reportSeatProcedures(rt);
    const app = createHttpApp({ ...httpOptions(), name: 'test', routes: [], readiness: rt.readiness });
    const ready = await app.request('/readyz');
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({
      status: 'unavailable',
      checks: [
        {
          name: 'stored procedures',
          status: 'unavailable',
          error: 'missing in the database: hold_seat (run the migrations)',
        },
      ],
    });
    const clock = manualClock();
    const { scheduleId, seatIds } = await freshSchedule(other.database, clock, 1);
    await expect(hold(other.database, clock, 'dave', scheduleId, seatIds[0]!)).rejects.toMatchObject({
      code: 'DEPENDENCY_UNAVAILABLE',
      status: 503,
    });
  });
});
