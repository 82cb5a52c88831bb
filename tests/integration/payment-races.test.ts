import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { payReservation } from '../../functions/pay/pay.ts';
import { systemClock } from '../../shared/clock.ts';
import type { Database } from '../../shared/db/connect.ts';
import type { AppError } from '../../shared/errors.ts';
import { ledgerSum, readBalance } from '../../shared/points/wallet-store.ts';
import { orThrow } from '../../shared/result.ts';
import { createMemorySeatCache } from '../../shared/seats/seat-cache.ts';
import { seatStoreFor } from '../../shared/seats/seat-store.ts';
import { expireLapsedHolds } from '../../triggers/expire-holds/expire.ts';
import { manualClock } from '../support/harness.ts';
import { freshMysqlDatabase, uniqueSuffix } from '../support/real-services.ts';
import { charge, freshSchedule, hold, outboxFor } from '../support/reservation-fixture.ts';

/** Payments racing each other for one wallet, and racing the expire-holds sweeper, over 40 connections. */
describe('payment races (MariaDB, 40 connections)', () => {
  let database: Database;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    ({ database, drop } = await freshMysqlDatabase({ poolSize: 40 }));
  });
  afterAll(() => drop());

  // Seat ids and reservation ids share the outbox key column, so events are looked up by topic as well.
  const events = async (key: number, prefix: string) =>
    (await outboxFor(database, String(key))).map((e) => e.topic).filter((t) => t.startsWith(prefix));

  const rowsOf = async (userId: string) => ({
    payments: await database.db.selectFrom('payments').selectAll().where('user_id', '=', userId).execute(),
    ledger: await database.db
      .selectFrom('point_ledger')
      .select(['type', 'amount', 'balance_after'])
      .where('user_id', '=', userId)
      .orderBy('id')
      .execute(),
    keys: await database.db
      .selectFrom('idempotency_records')
      .select(['idem_key', 'status_code'])
      .where('user_id', '=', userId)
      .where('scope', '=', 'payment')
      .execute(),
  });

  it.each([
    [12, 1],
    [12, 5],
  ])(
    '%i holds of one user paid at once with a balance for %i: exactly that many paid, the rest leave no trace',
    async (n, k) => {
      const price = 1000;
      const user = `w${uniqueSuffix()}`;
      const { scheduleId, seatIds } = await freshSchedule(database, systemClock, n, price);
      const reservations: number[] = [];
      for (const seatId of seatIds) {
        const held = await hold(database, systemClock, user, scheduleId, seatId);
        if (!held.ok) throw new Error('setup');
        reservations.push(Number(held.value.id));
      }
      await charge(database, user, k * price, Date.now());

      const settled = await Promise.allSettled(
        reservations.map((reservationId) =>
          payReservation(
            { seats: seatStoreFor(database.db), clock: systemClock },
            { userId: user, reservationId, idempotencyKey: `pay-${reservationId}` },
          ).then(orThrow),
        ),
      );
      const paid = reservations.filter((_, i) => settled[i]!.status === 'fulfilled');
      const refused = reservations.filter((_, i) => settled[i]!.status === 'rejected');
      expect(paid).toHaveLength(k);
      for (const s of settled) {
        if (s.status === 'rejected') expect((s.reason as AppError).code).toBe('INSUFFICIENT_POINTS');
      }
      // Each success saw the balance right after its own debit: k distinct values down to zero.
      const balances = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value.body.balance] : []));
      expect(balances.sort((x, y) => x - y)).toEqual(Array.from({ length: k }, (_, i) => i * price));

      expect(await readBalance(database.db, user)).toBe(0);
      expect(await ledgerSum(database.db, user)).toBe(0);
      const rows = await rowsOf(user);
      expect(rows.ledger.map((r) => r.type)).toEqual(['CHARGE', ...Array(k).fill('USE')]);
      expect(rows.ledger.every((r) => Number(r.balance_after) >= 0)).toBe(true);
      expect(rows.payments.map((p) => Number(p.reservation_id)).sort()).toEqual([...paid].sort());
      expect(rows.keys.map((r) => r.idem_key).sort()).toEqual(paid.map((id) => `pay-${id}`).sort());
      expect(rows.keys.every((r) => r.status_code === 201)).toBe(true);

      const state = await database.db
        .selectFrom('reservations as r')
        .innerJoin('seats as s', 's.id', 'r.seat_id')
        .select(['r.id', 'r.status as reservation', 's.status as seat'])
        .where('r.user_id', '=', user)
        .execute();
      for (const row of state) {
        const wasPaid = paid.includes(Number(row.id));
        expect([row.reservation, row.seat]).toEqual(wasPaid ? ['CONFIRMED', 'SOLD'] : ['HELD', 'HELD']);
      }
      for (const id of refused) expect(await events(id, 'payment.')).toEqual([]);
      for (const id of paid) expect(await events(id, 'payment.')).toEqual(['payment.completed']);
    },
  );

  it('payment racing the expire-holds sweeper at the end of a hold: paid or expired, never both', async () => {
    const ttl = 1000;
    const price = 1000;
    const outcomes: string[] = [];
    for (let round = 0; round < 25; round++) {
      const clock = manualClock(Date.now());
      const owner = `x${uniqueSuffix()}`;
      const { scheduleId, seatIds } = await freshSchedule(database, clock, 1, price);
      const seatId = seatIds[0]!;
      const held = await hold(database, clock, owner, scheduleId, seatId, { ttlMs: ttl });
      if (!held.ok) throw new Error('setup');
      const reservationId = Number(held.value.id);
      await charge(database, owner, price, clock.now());
      // The payer's clock is 1 ms before the end of the hold, the sweeper's 1 ms after it.
      const payerClock = manualClock(clock.now() + ttl - 1);
      const sweeperClock = manualClock(clock.now() + ttl + 1);
      const pay = () =>
        payReservation(
          { seats: seatStoreFor(database.db), clock: payerClock },
          { userId: owner, reservationId, idempotencyKey: 'race' },
        ).then(orThrow);
      const sweep = () =>
        expireLapsedHolds({
          seats: seatStoreFor(database.db),
          clock: sweeperClock,
          seatCache: createMemorySeatCache(() => sweeperClock.now()),
        });
      // The sweeper makes more round trips than the one-call payment, so it is given a head start that
      // varies from round to round: the two meet at different points of each other's transaction.
      const headStartMs = round % 5;
      const [payment, swept] = await Promise.allSettled([
        new Promise((r) => setTimeout(r, headStartMs)).then(pay),
        sweep(),
      ]);
      if (swept.status !== 'fulfilled') throw swept.reason;
      const didPay = payment.status === 'fulfilled';
      const didExpire = swept.value.expired === 1;
      expect(didPay !== didExpire).toBe(true);
      if (!didPay) {
        expect((payment as PromiseRejectedResult).reason).toMatchObject({ code: 'HOLD_EXPIRED' });
      }
      expect(swept.value.expired).toBe(didPay ? 0 : 1);

      const reservation = await database.db
        .selectFrom('reservations')
        .select('status')
        .where('id', '=', reservationId)
        .executeTakeFirstOrThrow();
      const seat = await database.db
        .selectFrom('seats')
        .select(['status', 'held_by', 'reservation_id'])
        .where('id', '=', seatId)
        .executeTakeFirstOrThrow();
      const rows = await rowsOf(owner);
      if (didPay) {
        expect(reservation.status).toBe('CONFIRMED');
        expect(seat.status).toBe('SOLD');
        expect(rows.ledger.map((r) => [r.type, Number(r.amount)])).toEqual([
          ['CHARGE', price],
          ['USE', price],
        ]);
        expect(rows.payments).toHaveLength(1);
        expect(await readBalance(database.db, owner)).toBe(0);
      } else {
        expect(reservation.status).toBe('EXPIRED');
        expect(seat).toEqual({ status: 'AVAILABLE', held_by: null, reservation_id: null });
        expect(rows.ledger.map((r) => r.type)).toEqual(['CHARGE']);
        expect(rows.payments).toHaveLength(0);
        expect(rows.keys).toHaveLength(0);
        expect(await readBalance(database.db, owner)).toBe(price);
      }
      expect(await ledgerSum(database.db, owner)).toBe(await readBalance(database.db, owner));
      expect(await events(seatId, 'reservation.')).toEqual(
        didPay ? ['reservation.created'] : ['reservation.created', 'reservation.expired'],
      );
      expect(await events(reservationId, 'payment.')).toEqual(didPay ? ['payment.completed'] : []);
      outcomes.push(didPay ? 'paid' : 'expired');
    }
    expect(outcomes).toHaveLength(25);
  });
});
