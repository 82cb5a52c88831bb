import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConcertOverHttp, seatIdsOf } from '../support/api-fixture.ts';
import { call, startTestServer, type TestServer } from '../support/embedded-server.ts';
import { bearer } from '../support/harness.ts';
import { freshMysqlDatabase, serviceUrls, uniqueSuffix } from '../support/real-services.ts';

type Setup = { server: TestServer; drop?: () => Promise<void> };

const variants: [string, () => Promise<Setup>][] = [
  ['embedded adapters', async () => ({ server: await startTestServer() })],
  [
    'real MariaDB + Redis',
    async () => {
      const fresh = await freshMysqlDatabase();
      await fresh.database.close();
      const server = await startTestServer({
        DATABASE_URL: fresh.url,
        REDIS_URL: serviceUrls().redisUrl,
        REDIS_KEY_PREFIX: `ttl-${uniqueSuffix()}:`,
        DB_MIGRATE: '0',
      });
      return { server, drop: fresh.drop };
    },
  ],
];

/**
 * An ACTIVE user's access lasts activeTtlSeconds, set by an admin over HTTP; once the server's clock has
 * passed it, the [queue] endpoints refuse the access token with 403 QUEUE_NOT_ACTIVE. The Redis queue
 * is given the server's clock on every call, so the manual clock drives both variants.
 */
describe.each(variants)('ACTIVE access ends after activeTtlSeconds over HTTP (%s)', (_name, setup) => {
  let ctx: Setup;
  beforeAll(async () => {
    ctx = await setup();
  });
  afterAll(async () => {
    await ctx?.server.close();
    await ctx?.drop?.();
  });

  it('answers 200/201 until the slot ends, then QUEUE_NOT_ACTIVE for seat map, hold and pay', async () => {
    const { server } = ctx;
    const admin = await bearer('root', 'admin');
    const { concertId, scheduleId } = await createConcertOverHttp(server, {
      title: 'TTL',
      seatCount: 3,
      price: 1000,
    });
    const tooShort = await call(server, 'PUT', `/v1/admin/queues/${concertId}`, {
      headers: admin,
      body: { activeTtlSeconds: 9 },
    });
    expect(tooShort.body.error).toMatchObject({ code: 'VALIDATION_FAILED' });
    const set = await call(server, 'PUT', `/v1/admin/queues/${concertId}`, {
      headers: admin,
      body: { activeTtlSeconds: 10 },
    });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({ activeTtlSeconds: 10 });

    const auth = await bearer(`ttl${uniqueSuffix()}`);
    const entered = await call(server, 'POST', '/v1/queue/tokens', {
      headers: auth,
      body: { concertId },
    });
    expect(entered.body.status).toBe('ACTIVE');
    expect(Date.parse(String(entered.body.activeUntil))).toBe(server.clock.now() + 10_000);
    const user = { ...auth, 'x-queue-token': String(entered.body.accessToken) };

    const seats = await seatIdsOf(server, user, scheduleId);
    const held = await call(server, 'POST', '/v1/reservations', {
      headers: user,
      body: { scheduleId, seatId: seats[0] },
    });
    expect(held.status).toBe(201);
    await call(server, 'POST', '/v1/points/charges', {
      headers: { ...auth, 'idempotency-key': 'c1' },
      body: { amount: 5000 },
    });

    // One millisecond before the end the access still works.
    server.clock.advance(9_999);
    expect((await call(server, 'GET', `/v1/schedules/${scheduleId}/seats`, { headers: user })).status).toBe(
      200,
    );

    server.clock.advance(1);
    const refused = [
      await call(server, 'GET', `/v1/schedules/${scheduleId}/seats`, { headers: user }),
      await call(server, 'POST', '/v1/reservations', {
        headers: user,
        body: { scheduleId, seatId: seats[1] },
      }),
      await call(server, 'POST', `/v1/reservations/${held.body.id}/payments`, {
        headers: { ...user, 'idempotency-key': 'p1' },
        body: {},
      }),
    ];
    expect(refused.map((r) => [r.status, (r.body.error as { code?: string })?.code])).toEqual([
      [403, 'QUEUE_NOT_ACTIVE'],
      [403, 'QUEUE_NOT_ACTIVE'],
      [403, 'QUEUE_NOT_ACTIVE'],
    ]);
    // Nothing happened behind the refusals: the second seat is free, the hold unpaid, the points intact.
    const reservation = await call(server, 'GET', `/v1/reservations/${held.body.id}`, { headers: auth });
    expect(reservation.body.status).toBe('HELD');
    expect((await call(server, 'GET', '/v1/points', { headers: auth })).body.balance).toBe(5000);
    // The slot went back to the line: the admin view no longer counts the user as active.
    const view = await call(server, 'GET', `/v1/admin/queues/${concertId}`, { headers: admin });
    expect(view.body.active).toBe(0);
  });
});
