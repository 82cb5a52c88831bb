import { CloudEvent } from 'cloudevents';
import { beforeEach, describe, expect, it } from 'vitest';
import { toHttpBinary } from '../../shared/events/cloudevents.ts';
import { createMemoryHoldGuard, seatGuardKey } from '../../shared/seats/hold-guard.ts';
import { createMemorySeatCache } from '../../shared/seats/seat-cache.ts';
import { seatStoreFor } from '../../shared/seats/seat-store.ts';
import { embeddedDatabase, httpOptions, manualClock } from '../../tests/support/harness.ts';
import { freshSchedule, hold } from '../../tests/support/reservation-fixture.ts';
import { createApp } from './app.ts';

describe('release-seat trigger', () => {
  let post: (event: CloudEvent<unknown>) => Response | Promise<Response>;
  let fixture: Awaited<ReturnType<typeof setup>>;

  async function setup() {
    const database = await embeddedDatabase();
    const clock = manualClock();
    const seatCache = createMemorySeatCache(() => clock.now());
    const guard = createMemoryHoldGuard(() => clock.now());
    const app = createApp({ seats: seatStoreFor(database.db), clock, seatCache, guard }, httpOptions());
    const { scheduleId, seatIds } = await freshSchedule(database, clock, 1);
    return { database, clock, seatCache, guard, app, scheduleId, seatId: seatIds[0]! };
  }

  beforeEach(async () => {
    fixture = await setup();
    post = (event) => {
      const { headers, body } = toHttpBinary(event);
      return fixture.app.request('/', { method: 'POST', headers, body });
    };
  });

  const expiredEvent = (reservationId: string, userId: string) =>
    new CloudEvent<unknown>({
      id: `reservation.expired:${reservationId}`,
      type: 'reservation.expired',
      source: '/test',
      datacontenttype: 'application/json',
      data: {
        reservationId,
        scheduleId: String(fixture.scheduleId),
        seatId: String(fixture.seatId),
        userId,
        price: 80_000,
        expiresAt: new Date().toISOString(),
      },
    });

  it('frees the seat of a lapsed hold, drops the cached map and the guard; a redelivery does nothing', async () => {
    const { database, clock, seatCache, guard, scheduleId, seatId } = fixture;
    const held = await hold(database, clock, 'alice', scheduleId, seatId, { ttlMs: 1000, guard });
    if (!held.ok) throw new Error('setup');
    await seatCache.set(String(scheduleId), '{"stale":true}', 60_000);
    clock.advance(1001);
    const first = await post(expiredEvent(held.value.id, 'alice'));
    expect(await first.json()).toEqual({ result: 'done' });
    const seat = await database.db
      .selectFrom('seats')
      .selectAll()
      .where('id', '=', seatId)
      .executeTakeFirstOrThrow();
    expect(seat).toMatchObject({ status: 'AVAILABLE', held_by: null, reservation_id: null });
    expect(await seatCache.get(String(scheduleId))).toBeNull();
    expect(await guard.claim(seatGuardKey(scheduleId, seatId), 'bob', 1000)).toBe(true);
    expect(await (await post(expiredEvent(held.value.id, 'alice'))).json()).toEqual({
      result: 'duplicate',
    });
  });

  it('never frees a seat whose hold is still live or belongs to a newer reservation', async () => {
    const { database, clock, scheduleId, seatId } = fixture;
    const held = await hold(database, clock, 'carol', scheduleId, seatId);
    if (!held.ok) throw new Error('setup');
    await post(expiredEvent('999', 'someone'));
    const seat = await database.db
      .selectFrom('seats')
      .select('status')
      .where('id', '=', seatId)
      .executeTakeFirstOrThrow();
    expect(seat.status).toBe('HELD');
  });

  it('ignores other event types and refuses what is not a CloudEvent', async () => {
    const other = new CloudEvent<unknown>({ id: 'x', type: 'payment.completed', source: '/t', data: {} });
    expect(await (await post(other)).json()).toEqual({ result: 'ignored' });
    const res = await fixture.app.request('/', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('VALIDATION_FAILED');
  });
});
