import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cancelReservation, getReservation } from '../../functions/hold-seat/manage-reservation.ts';
import { paymentRequest, payReservation } from '../../functions/pay/pay.ts';
import { createConcert } from '../../shared/catalog/create-concert.ts';
import type { Database } from '../../shared/db/connect.ts';
import { AppError } from '../../shared/errors.ts';
import { recordActivations } from '../../shared/outbox/queue-activated.ts';
import { recentEvents } from '../../shared/outbox/recent-events.ts';
import { ledgerSum, readBalance } from '../../shared/points/wallet-store.ts';
import { orThrow } from '../../shared/result.ts';
import { claimTtlMs, createMemoryHoldGuard, seatGuardKey } from '../../shared/seats/hold-guard.ts';
import { seatStoreFor } from '../../shared/seats/seat-store.ts';
import { manualClock } from '../support/harness.ts';
import { uniqueSuffix } from '../support/real-services.ts';
import { charge, freshSchedule, hold, holdDeps, outboxFor } from '../support/reservation-fixture.ts';
import { databaseTargets } from '../support/targets.ts';

const code = (c: string) => (e: unknown) => e instanceof AppError && e.code === c;

describe.each(databaseTargets)('reservations contract: $name', (target) => {
  let database: Database;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ database, close } = await target.open());
  });
  afterAll(() => close());

  it('holds a free seat, records reservation.created, and refuses a second user in the database', async () => {
    const clock = manualClock();
    const { scheduleId, seatIds } = await freshSchedule(database, clock);
    const seatId = seatIds[0]!;
    const won = await hold(database, clock, 'alice', scheduleId, seatId);
    expect(won).toMatchObject({
      ok: true,
      value: { status: 'HELD', price: 80_000, seatId: String(seatId) },
    });
    // A guard of its own lets bob through to the database, which must refuse on its own.
    const lost = await hold(database, clock, 'bob', scheduleId, seatId);
    expect(lost).toEqual({
      ok: false,
      code: 'SEAT_TAKEN',
      message: 'Someone else holds or bought this seat',
    });
    const seat = await database.db
      .selectFrom('seats')
      .selectAll()
      .where('id', '=', seatId)
      .executeTakeFirstOrThrow();
    expect(seat).toMatchObject({ status: 'HELD', held_by: 'alice' });
    expect((await outboxFor(database, String(seatId))).map((e) => e.topic)).toEqual(['reservation.created']);
  });

  it('heals a stale guard: a claim whose request died blocks its seat for claimTtlMs, a real hold for the hold', async () => {
    const clock = manualClock();
    const guard = createMemoryHoldGuard(() => clock.now());
    const { scheduleId, seatIds } = await freshSchedule(database, clock);
    const seat = seatIds[4]!;
    expect(await guard.claim(seatGuardKey(scheduleId, seat), 'ghost', claimTtlMs)).toBe(true);
    expect(await hold(database, clock, 'real', scheduleId, seat, { guard })).toEqual({
      ok: false,
      code: 'SEAT_TAKEN',
      message: 'Someone else holds or bought this seat',
    });
    clock.advance(claimTtlMs + 1);
    expect((await hold(database, clock, 'real', scheduleId, seat, { guard })).ok).toBe(true);
    clock.advance(claimTtlMs * 3);
    expect(await guard.claim(seatGuardKey(scheduleId, seat), 'late', claimTtlMs)).toBe(false);
    // A contender whose guard forgot the hold (a failover) is refused by the database and repairs the guard.
    const forgetful = createMemoryHoldGuard(() => clock.now());
    expect(await hold(database, clock, 'other', scheduleId, seat, { guard: forgetful })).toEqual({
      ok: false,
      code: 'SEAT_TAKEN',
      message: 'Someone else holds or bought this seat',
    });
    expect(await forgetful.claim(seatGuardKey(scheduleId, seat), 'next', claimTtlMs)).toBe(false);
  });

  it('gives the holder its own hold back on a retry, and answers NOT_FOUND for a seat of another schedule', async () => {
    const clock = manualClock();
    const a = await freshSchedule(database, clock);
    const b = await freshSchedule(database, clock);
    const first = await hold(database, clock, 'carol', a.scheduleId, a.seatIds[1]!);
    const again = await hold(database, clock, 'carol', a.scheduleId, a.seatIds[1]!);
    expect(again).toEqual(first);
    expect(await hold(database, clock, 'carol', a.scheduleId, b.seatIds[0]!)).toEqual({
      ok: false,
      code: 'NOT_FOUND',
      message: 'No such seat in this schedule',
    });
  });

  it('lets another user take a lapsed hold without any sweeper, and the lapsed one cannot be paid', async () => {
    const clock = manualClock();
    const { scheduleId, seatIds } = await freshSchedule(database, clock);
    const seatId = seatIds[2]!;
    const first = await hold(database, clock, 'dave', scheduleId, seatId, { ttlMs: 2000 });
    if (!first.ok) throw new Error('setup');
    clock.advance(2001);
    const second = await hold(database, clock, 'erin', scheduleId, seatId, { ttlMs: 2000 });
    expect(second.ok).toBe(true);
    const old = await getReservation(
      { seats: seatStoreFor(database.db), clock },
      { userId: 'dave', reservationId: Number(first.value.id) },
    );
    expect(old).toMatchObject({ ok: true, value: { status: 'EXPIRED' } });
    expect((await outboxFor(database, String(seatId))).map((e) => e.topic)).toEqual([
      'reservation.created',
      'reservation.expired',
      'reservation.created',
    ]);
    await charge(database, 'dave', 100_000, clock.now());
    const paying = payReservation(
      { seats: seatStoreFor(database.db), clock },
      { userId: 'dave', reservationId: Number(first.value.id), idempotencyKey: 'p1' },
    ).then(orThrow);
    await expect(paying).rejects.toSatisfy(code('HOLD_EXPIRED'));
    expect(await readBalance(database.db, 'dave')).toBe(100_000);
  });

  it('pays once: seat SOLD, points debited with a ledger row, payment.completed; replays and refusals', async () => {
    const clock = manualClock();
    const user = `payer${uniqueSuffix()}`;
    const { scheduleId, seatIds } = await freshSchedule(database, clock);
    const held = await hold(database, clock, user, scheduleId, seatIds[3]!);
    if (!held.ok) throw new Error('setup');
    const reservationId = Number(held.value.id);
    await charge(database, user, 100_000, clock.now());

    const paid = await payReservation(
      { seats: seatStoreFor(database.db), clock },
      { userId: user, reservationId, idempotencyKey: 'k1' },
    ).then(orThrow);
    expect(paid).toMatchObject({
      status: 201,
      replayed: false,
      body: { amount: 80_000, status: 'PAID', balance: 20_000 },
    });
    const replay = await payReservation(
      { seats: seatStoreFor(database.db), clock },
      { userId: user, reservationId, idempotencyKey: 'k1' },
    ).then(orThrow);
    expect(replay).toEqual({ ...paid, replayed: true });
    await expect(
      payReservation(
        { seats: seatStoreFor(database.db), clock },
        { userId: user, reservationId, idempotencyKey: 'k2' },
      ).then(orThrow),
    ).rejects.toSatisfy(code('ALREADY_PAID'));
    await expect(
      payReservation(
        { seats: seatStoreFor(database.db), clock },
        { userId: user, reservationId: reservationId + 1000, idempotencyKey: 'k1' },
      ).then(orThrow),
    ).rejects.toSatisfy(code('IDEMPOTENCY_KEY_REUSED'));

    expect(await readBalance(database.db, user)).toBe(20_000);
    expect(await ledgerSum(database.db, user)).toBe(20_000);
    const seat = await database.db
      .selectFrom('seats')
      .select('status')
      .where('id', '=', seatIds[3]!)
      .executeTakeFirstOrThrow();
    expect(seat.status).toBe('SOLD');
    expect((await outboxFor(database, String(reservationId))).map((e) => e.topic)).toEqual([
      'payment.completed',
    ]);
    // A sold seat cannot be held again, even long after the hold time.
    clock.advance(3_600_000);
    expect(await hold(database, clock, 'late', scheduleId, seatIds[3]!)).toEqual({
      ok: false,
      code: 'SEAT_TAKEN',
      message: 'Someone else holds or bought this seat',
    });
  });

  it('reads what a payment checks in one lookup: the key stored answer and the owner and schedule', async () => {
    const clock = manualClock();
    const user = `ctx${uniqueSuffix()}`;
    const seats = seatStoreFor(database.db);
    const { scheduleId, seatIds } = await freshSchedule(database, clock);
    const held = await hold(database, clock, user, scheduleId, seatIds[0]!);
    if (!held.ok) throw new Error('setup');
    const reservationId = Number(held.value.id);
    const request = (key: string, id = reservationId) =>
      paymentRequest({ userId: user, reservationId: id, idempotencyKey: key });
    const owner = { user_id: user, schedule_id: scheduleId };

    expect(await seats.paymentContext(request('c1'), reservationId)).toEqual({
      stored: { ok: true, value: null },
      reservation: owner,
    });
    expect(await seats.paymentContext(request('c1', reservationId + 1000), reservationId + 1000)).toEqual({
      stored: { ok: true, value: null },
      reservation: null,
    });
    await charge(database, user, 100_000, clock.now());
    const paid = await payReservation(
      { seats, clock },
      { userId: user, reservationId, idempotencyKey: 'c1' },
    ).then(orThrow);
    expect(await seats.paymentContext(request('c1'), reservationId)).toEqual({
      stored: { ok: true, value: { ...paid, replayed: true } },
      reservation: owner,
    });
    expect(
      await seats.paymentContext(request('c1', reservationId + 1000), reservationId + 1000),
    ).toMatchObject({
      stored: { ok: false, code: 'IDEMPOTENCY_KEY_REUSED' },
      reservation: null,
    });
  });

  it('leaves no trace when points are short', async () => {
    const clock = manualClock();
    const user = `poor${uniqueSuffix()}`;
    const { scheduleId, seatIds } = await freshSchedule(database, clock);
    const held = await hold(database, clock, user, scheduleId, seatIds[4]!);
    if (!held.ok) throw new Error('setup');
    await charge(database, user, 79_999, clock.now());
    const reservationId = Number(held.value.id);
    await expect(
      payReservation(
        { seats: seatStoreFor(database.db), clock },
        { userId: user, reservationId, idempotencyKey: 'short' },
      ).then(orThrow),
    ).rejects.toSatisfy(code('INSUFFICIENT_POINTS'));
    expect(await readBalance(database.db, user)).toBe(79_999);
    expect(await ledgerSum(database.db, user)).toBe(79_999);
    const payments = await database.db
      .selectFrom('payments')
      .select('id')
      .where('user_id', '=', user)
      .execute();
    expect(payments).toEqual([]);
    const idem = await database.db
      .selectFrom('idempotency_records')
      .select('idem_key')
      .where('user_id', '=', user)
      .execute();
    expect(idem).toEqual([]);
    const seat = await database.db
      .selectFrom('seats')
      .selectAll()
      .where('id', '=', seatIds[4]!)
      .executeTakeFirstOrThrow();
    expect(seat).toMatchObject({ status: 'HELD', held_by: user });
    expect((await outboxFor(database, String(reservationId))).length).toBe(0);
    // Topping up and retrying the same key then pays.
    await charge(database, user, 1, clock.now());
    const paid = await payReservation(
      { seats: seatStoreFor(database.db), clock },
      { userId: user, reservationId, idempotencyKey: 'short' },
    ).then(orThrow);
    expect(paid.body.balance).toBe(0);
  });

  it('cancels a hold: seat free at once, reservation.cancelled, owner only, idempotent', async () => {
    const clock = manualClock();
    const { scheduleId, seatIds } = await freshSchedule(database, clock);
    const seatId = seatIds[0]!;
    const deps = holdDeps(database, clock);
    const held = await hold(database, clock, 'frank', scheduleId, seatId);
    if (!held.ok) throw new Error('setup');
    const reservationId = Number(held.value.id);
    expect(await cancelReservation(deps, { userId: 'grace', reservationId })).toEqual({
      ok: false,
      code: 'FORBIDDEN',
      message: 'This reservation belongs to another user',
    });
    const cancelled = await cancelReservation(deps, { userId: 'frank', reservationId });
    expect(cancelled).toMatchObject({ ok: true, value: { status: 'CANCELLED' } });
    expect(await cancelReservation(deps, { userId: 'frank', reservationId })).toEqual(cancelled);
    expect(await hold(database, clock, 'grace', scheduleId, seatId)).toMatchObject({ ok: true });
    expect((await outboxFor(database, String(seatId))).map((e) => e.topic)).toEqual([
      'reservation.created',
      'reservation.cancelled',
      'reservation.created',
    ]);
    await expect(
      payReservation(
        { seats: seatStoreFor(database.db), clock },
        { userId: 'frank', reservationId, idempotencyKey: 'c' },
      ).then(orThrow),
    ).rejects.toMatchObject({ code: 'HOLD_EXPIRED', message: 'The reservation was cancelled' });
  });
  it('counts sales per schedule by start time: a live hold is held, a lapsed one available, a paid one sold', async () => {
    const clock = manualClock();
    const day = 86_400_000;
    const created = await createConcert(
      database.db,
      {
        title: 'Sales',
        venue: 'Hall',
        schedules: [
          { startsAt: clock.now() + 2 * day, seatCount: 3, price: 10_000 },
          { startsAt: clock.now() + day, seatCount: 4, price: 10_000 },
        ],
      },
      clock.now(),
    );
    const concertId = Number(created.id);
    const [later, sooner] = created.schedules.map((s) => Number(s.id)) as [number, number];
    const seatsOf = async (scheduleId: number) =>
      (
        await database.db
          .selectFrom('seats')
          .select('id')
          .where('schedule_id', '=', scheduleId)
          .orderBy('number')
          .execute()
      ).map((r) => Number(r.id));
    const [soonerSeats, laterSeats] = [await seatsOf(sooner), await seatsOf(later)];
    const buyer = `buyer${uniqueSuffix()}`;
    const bought = await hold(database, clock, buyer, later, laterSeats[0]!);
    if (!bought.ok) throw new Error('setup');
    await charge(database, buyer, 10_000, clock.now());
    await payReservation(
      { seats: seatStoreFor(database.db), clock },
      { userId: buyer, reservationId: Number(bought.value.id), idempotencyKey: 'sales' },
    ).then(orThrow);
    expect((await hold(database, clock, 'brief', sooner, soonerSeats[0]!, { ttlMs: 1000 })).ok).toBe(true);
    clock.advance(1000);
    expect((await hold(database, clock, 'live', sooner, soonerSeats[1]!)).ok).toBe(true);

    const seats = seatStoreFor(database.db);
    // At the lapsed hold's last millisecond it still counts as held; one later the seat is for sale again.
    expect((await seats.salesOf(concertId, clock.now())).map((s) => s.held)).toEqual([2, 0]);
    clock.advance(1);
    expect(await seats.salesOf(concertId, clock.now())).toEqual([
      {
        scheduleId: sooner,
        startsAt: Date.parse(created.schedules[1]!.startsAt),
        available: 3,
        held: 1,
        sold: 0,
      },
      {
        scheduleId: later,
        startsAt: Date.parse(created.schedules[0]!.startsAt),
        available: 2,
        held: 0,
        sold: 1,
      },
    ]);
    expect(await seats.salesOf(concertId + 1_000_000, clock.now())).toEqual([]);
  });

  it("lists a concert's recent events newest first, its own only, from every writer of the outbox", async () => {
    const clock = manualClock();
    const { concertId, scheduleId, seatIds } = await freshSchedule(database, clock);
    const other = await freshSchedule(database, clock);
    const deps = holdDeps(database, clock);
    const user = `fan${uniqueSuffix()}`;
    const tick = () => clock.advance(10);

    const first = await hold(database, clock, user, scheduleId, seatIds[0]!);
    if (!first.ok) throw new Error('setup');
    tick();
    await cancelReservation(deps, { userId: user, reservationId: Number(first.value.id) });
    tick();
    // A hold that lapses, then taken over: the expiry and the new hold in one write.
    expect((await hold(database, clock, 'brief', scheduleId, seatIds[1]!, { ttlMs: 5 })).ok).toBe(true);
    tick();
    const second = await hold(database, clock, user, scheduleId, seatIds[1]!);
    if (!second.ok) throw new Error('setup');
    tick();
    await charge(database, user, 80_000, clock.now());
    await payReservation(
      { seats: seatStoreFor(database.db), clock },
      { userId: user, reservationId: Number(second.value.id), idempotencyKey: 'events' },
    ).then(orThrow);
    tick();
    await recordActivations(database.db, clock)(String(concertId), [user], clock.now());
    // The sweeper's expiry, and another concert's hold in between.
    expect((await hold(database, clock, 'late', scheduleId, seatIds[2]!, { ttlMs: 5 })).ok).toBe(true);
    expect((await hold(database, clock, user, other.scheduleId, other.seatIds[0]!)).ok).toBe(true);
    tick();
    const seats = seatStoreFor(database.db);
    const lapsed = (await seats.lapsedHolds(clock.now(), 1000)).filter((r) => r.user_id === 'late');
    expect(await seats.expire(lapsed, clock.now())).toHaveLength(1);

    const events = await recentEvents(database.db, concertId, 50);
    expect(events.map((e) => e.topic)).toEqual([
      'reservation.expired',
      'reservation.created',
      'queue.activated',
      'payment.completed',
      'reservation.created',
      'reservation.expired',
      'reservation.created',
      'reservation.cancelled',
      'reservation.created',
    ]);
    expect(events[2]).toMatchObject({
      key: user,
      sentAt: null,
      data: { concertId: String(concertId), userId: user },
    });
    expect(events[3]).toMatchObject({
      topic: 'payment.completed',
      key: second.value.id,
      createdAt: clock.now() - 20,
      data: { reservationId: second.value.id, seatId: String(seatIds[1]), amount: 80_000 },
    });
    expect((await recentEvents(database.db, concertId, 2)).map((e) => e.id)).toEqual(
      events.slice(0, 2).map((e) => e.id),
    );
    expect((await recentEvents(database.db, other.concertId, 50)).map((e) => e.topic)).toEqual([
      'reservation.created',
    ]);
  });
});
