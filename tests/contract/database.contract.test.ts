import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConcert } from '../../shared/catalog/create-concert.ts';
import type { Database } from '../../shared/db/connect.ts';
import { isUniqueViolation } from '../../shared/db/errors.ts';
import { appliedMigrations, migrateToLatest } from '../../shared/db/migrate.ts';
import { AppError } from '../../shared/errors.ts';
import { runIdempotent } from '../../shared/idempotency/idempotency.ts';
import { credit, debit, ledgerSum, readBalance } from '../../shared/points/wallet-store.ts';
import { uniqueSuffix } from '../support/real-services.ts';
import { databaseTargets } from '../support/targets.ts';

describe.each(databaseTargets)('database contract: $name', (target) => {
  let database: Database;
  let close: () => Promise<void>;
  const now = 1_800_000_000_000;

  beforeAll(async () => {
    ({ database, close } = await target.open());
  });
  afterAll(async () => {
    await close();
  });

  it('has applied every numbered migration, and a second run applies nothing', async () => {
    expect(await appliedMigrations(database.db)).toEqual([
      '0001_initial',
      '0002_outbox_shards',
      '0003_hold_procedure',
      '0004_pay_procedure',
      '0005_queue_lines',
      '0006_seat_procedures',
      '0007_outbox_concert',
    ]);
    expect((await migrateToLatest(database.db)).applied).toEqual([]);
  });

  it('creates a concert with numbered seats in one transaction', async () => {
    const created = await createConcert(
      database.db,
      { title: 'Contract', venue: 'Hall', schedules: [{ startsAt: now, seatCount: 50, price: 80_000 }] },
      now,
    );
    const seats = await database.db
      .selectFrom('seats')
      .select(['number', 'status', 'price'])
      .where('schedule_id', '=', Number(created.schedules[0]!.id))
      .orderBy('number')
      .execute();
    expect(seats).toHaveLength(50);
    expect(seats.map((s) => s.number)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(new Set(seats.map((s) => s.status))).toEqual(new Set(['AVAILABLE']));
  });

  it('allows one live reservation per seat (generated column under a UNIQUE index)', async () => {
    const created = await createConcert(
      database.db,
      { title: 'Net', venue: 'Hall', schedules: [{ startsAt: now, seatCount: 2, price: 1000 }] },
      now,
    );
    const scheduleId = Number(created.schedules[0]!.id);
    const seat = await database.db
      .selectFrom('seats')
      .select('id')
      .where('schedule_id', '=', scheduleId)
      .where('number', '=', 1)
      .executeTakeFirstOrThrow();
    const reservation = (userId: string, status: 'HELD' | 'CONFIRMED' | 'EXPIRED' | 'CANCELLED') => ({
      user_id: userId,
      schedule_id: scheduleId,
      seat_id: Number(seat.id),
      price: 1000,
      status,
      expires_at: now + 300_000,
      created_at: now,
      updated_at: now,
    });
    const first = await database.db
      .insertInto('reservations')
      .values(reservation('a', 'HELD'))
      .executeTakeFirstOrThrow();
    const second = database.db.insertInto('reservations').values(reservation('b', 'HELD')).execute();
    await expect(second).rejects.toSatisfy(isUniqueViolation);
    await expect(
      database.db.insertInto('reservations').values(reservation('c', 'CONFIRMED')).execute(),
    ).rejects.toSatisfy(isUniqueViolation);
    // Ended reservations do not count: history rows pile up freely.
    await database.db.insertInto('reservations').values(reservation('d', 'EXPIRED')).execute();
    await database.db.insertInto('reservations').values(reservation('e', 'CANCELLED')).execute();
    await database.db
      .updateTable('reservations')
      .set({ status: 'EXPIRED' })
      .where('id', '=', Number(first.insertId))
      .execute();
    await database.db.insertInto('reservations').values(reservation('f', 'HELD')).execute();
    const live = await database.db
      .selectFrom('reservations')
      .select(['user_id', 'active_seat_id'])
      .where('seat_id', '=', Number(seat.id))
      .where('active_seat_id', 'is not', null)
      .execute();
    expect(live).toEqual([{ user_id: 'f', active_seat_id: Number(seat.id) }]);
  });

  it('credits and debits a wallet with a ledger row per change, never below zero', async () => {
    const userId = `u${uniqueSuffix()}`;
    await database.db
      .transaction()
      .execute((trx) => credit(trx, { userId, amount: 1000, type: 'CHARGE', now }));
    const used = await database.db.transaction().execute((trx) => debit(trx, { userId, amount: 300, now }));
    expect(used?.balanceAfter).toBe(700);
    const refused = await database.db
      .transaction()
      .execute((trx) => debit(trx, { userId, amount: 701, now }));
    expect(refused).toBeNull();
    expect(await readBalance(database.db, userId)).toBe(700);
    expect(await ledgerSum(database.db, userId)).toBe(700);
  });

  it('runs an idempotent request once, replays it, and refuses the key for another request', async () => {
    const userId = `u${uniqueSuffix()}`;
    let runs = 0;
    const request = { userId, scope: 'test', key: 'k1', fingerprint: { amount: 5 } };
    const work = async () => {
      runs++;
      return { status: 201, body: { run: runs } };
    };
    const first = await runIdempotent(database.db, request, now, work);
    const again = await runIdempotent(database.db, request, now, work);
    expect(first).toEqual({ ok: true, value: { status: 201, body: { run: 1 }, replayed: false } });
    expect(again).toEqual({ ok: true, value: { status: 201, body: { run: 1 }, replayed: true } });
    expect(runs).toBe(1);
    const other = await runIdempotent(database.db, { ...request, fingerprint: { amount: 6 } }, now, work);
    expect(other).toMatchObject({ ok: false, code: 'IDEMPOTENCY_KEY_REUSED' });
    expect(runs).toBe(1);
  });

  it('leaves no trace of a request whose work failed', async () => {
    const userId = `u${uniqueSuffix()}`;
    const request = { userId, scope: 'test', key: 'k2', fingerprint: {} };
    const failing = runIdempotent(database.db, request, now, async (trx) => {
      await credit(trx, { userId, amount: 50, type: 'CHARGE', now });
      throw new AppError('INSUFFICIENT_POINTS', 'no');
    });
    await expect(failing).rejects.toThrow('no');
    expect(await readBalance(database.db, userId)).toBe(0);
    const retried = await runIdempotent(database.db, request, now, async () => ({ status: 201, body: 'ok' }));
    expect(retried).toEqual({ ok: true, value: { status: 201, body: 'ok', replayed: false } });
  });
});
