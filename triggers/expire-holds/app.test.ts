import { describe, expect, it } from 'vitest';
import { createMemorySeatCache } from '../../shared/seats/seat-cache.ts';
import { seatStoreFor } from '../../shared/seats/seat-store.ts';
import { embeddedDatabase, httpOptions, manualClock } from '../../tests/support/harness.ts';
import { freshSchedule, hold, outboxFor } from '../../tests/support/reservation-fixture.ts';
import { createApp } from './app.ts';

describe('expire-holds trigger', () => {
  it('expires only lapsed holds, once, with one reservation.expired each', async () => {
    const database = await embeddedDatabase();
    const clock = manualClock();
    const app = createApp(
      { seats: seatStoreFor(database.db), clock, seatCache: createMemorySeatCache(() => clock.now()) },
      httpOptions(),
    );
    const { scheduleId, seatIds } = await freshSchedule(database, clock, 3);
    await hold(database, clock, 'short', scheduleId, seatIds[0]!, { ttlMs: 1000 });
    await hold(database, clock, 'long', scheduleId, seatIds[1]!, { ttlMs: 60_000 });
    clock.advance(1001);
    const ping = () =>
      app.request('/', { method: 'POST', headers: { 'ce-type': 'dev.knative.sources.ping' } });
    expect(await (await ping()).json()).toEqual({ expired: 1, drained: true });
    expect(await (await ping()).json()).toEqual({ expired: 0, drained: true });
    const seats = await database.db
      .selectFrom('seats')
      .select(['status'])
      .where('schedule_id', '=', scheduleId)
      .orderBy('number')
      .execute();
    expect(seats.map((s) => s.status)).toEqual(['AVAILABLE', 'HELD', 'AVAILABLE']);
    expect((await outboxFor(database, String(seatIds[0]))).map((e) => e.topic)).toEqual([
      'reservation.created',
      'reservation.expired',
    ]);
  });
});
