import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../shared/db/connect.ts';
import { manualClock } from '../support/harness.ts';
import { freshMysqlDatabase } from '../support/real-services.ts';
import { freshSchedule, hold, outboxFor } from '../support/reservation-fixture.ts';

/**
 * Taking over a lapsed hold locks the seat's live reservation. It must lock that row only: a plan that
 * walks the reservations by status would wait on (and deadlock with) other seats' holds that a payment
 * has locked. Which plan the server picks depends on statistics, so the test takes the seat index away
 * from the planner, as its statistics sometimes do, in a database of its own.
 */
describe('lapsed-hold takeover on MariaDB/MySQL', () => {
  let database: Database;
  let url: string;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    const fresh = await freshMysqlDatabase();
    ({ database, url, drop } = fresh);
  });
  afterAll(async () => drop?.());

  it("does not wait on another seat's reservation locked by a payment in flight", async () => {
    const clock = manualClock(Date.now());
    const { scheduleId, seatIds } = await freshSchedule(database, clock, 2);
    const [lapsing, paying] = seatIds as [number, number];
    const old = await hold(database, clock, 'old', scheduleId, lapsing, { ttlMs: 1000 });
    const payer = await hold(database, clock, 'payer', scheduleId, paying, { ttlMs: 600_000 });
    if (!old.ok || !payer.ok) throw new Error('setup');
    clock.advance(1001);

    const { createConnection } = await import('mysql2/promise');
    const admin = await createConnection({ uri: url });
    const locker = await createConnection({ uri: url });
    try {
      const [[version]] = (await admin.query('select version() as v')) as unknown as [[{ v: string }]];
      await admin.query(
        /mariadb/i.test(version!.v)
          ? 'alter table reservations alter index idx_reservations_seat ignored'
          : 'alter table reservations alter index idx_reservations_seat invisible',
      );
      // What a payment of the other seat holds while it runs.
      await locker.query('set session transaction isolation level read committed');
      await locker.query('begin');
      await locker.query('select id from reservations where id = ? for update', [Number(payer.value.id)]);

      const takeover = hold(database, clock, 'taker', scheduleId, lapsing);
      const waited = new Promise<'still waiting'>((r) => setTimeout(() => r('still waiting'), 3000));
      const outcome = await Promise.race([takeover, waited]);
      // Let a blocked takeover finish before the assertion, so the test ends by itself either way.
      await locker.query('commit');
      await takeover.catch(() => undefined);
      expect(outcome).toMatchObject({ ok: true, value: { status: 'HELD' } });
    } finally {
      await locker.end();
      await admin.end();
    }
    const reservations = await database.db
      .selectFrom('reservations')
      .select(['user_id', 'status'])
      .where('seat_id', 'in', [lapsing, paying])
      .orderBy('id')
      .execute();
    expect(reservations).toEqual([
      { user_id: 'old', status: 'EXPIRED' },
      { user_id: 'payer', status: 'HELD' },
      { user_id: 'taker', status: 'HELD' },
    ]);
    expect((await outboxFor(database, String(lapsing))).map((e) => e.topic)).toEqual([
      'reservation.created',
      'reservation.expired',
      'reservation.created',
    ]);
  });
});
