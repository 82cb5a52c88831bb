import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { admittedUser, createConcertOverHttp, seatIdsOf } from '../../tests/support/api-fixture.ts';
import { call, startTestServer, type TestServer } from '../../tests/support/embedded-server.ts';
import { bearer } from '../../tests/support/harness.ts';

let server: TestServer;
beforeEach(async () => {
  server = await startTestServer();
});
afterEach(() => server.close());

const concert = {
  title: 'Spring Tour',
  venue: 'Arena',
  schedules: [
    { startsAt: '2030-03-02T10:00:00Z', seatCount: 50, price: 99_000 },
    { startsAt: '2030-03-01T10:00:00+09:00', price: 120_000 },
  ],
};

describe('list-seats: catalog and admin', () => {
  it('creates a concert (seat numbers 1..seatCount, default 50) and lists it with schedules by start time', async () => {
    const created = await call(server, 'POST', '/v1/admin/concerts', {
      headers: await bearer('a', 'admin'),
      body: concert,
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      title: 'Spring Tour',
      venue: 'Arena',
      schedules: [
        { startsAt: '2030-03-02T10:00:00.000Z', seatCount: 50, price: 99_000 },
        { startsAt: '2030-03-01T01:00:00.000Z', seatCount: 50, price: 120_000 },
      ],
    });
    const user = await bearer('u');
    const list = await call(server, 'GET', '/v1/concerts', { headers: user });
    expect(list.body).toEqual({
      items: [
        {
          id: created.body.id,
          title: 'Spring Tour',
          venue: 'Arena',
          firstStartsAt: '2030-03-01T01:00:00.000Z',
          lastStartsAt: '2030-03-02T10:00:00.000Z',
          minPrice: 99_000,
          maxPrice: 120_000,
        },
      ],
      nextCursor: null,
    });
    const schedules = await call(server, 'GET', `/v1/concerts/${created.body.id as string}/schedules`, {
      headers: user,
    });
    expect(
      (schedules.body.items as { startsAt: string; availableSeats: number }[]).map((s) => [
        s.startsAt,
        s.availableSeats,
      ]),
    ).toEqual([
      ['2030-03-01T01:00:00.000Z', 50],
      ['2030-03-02T10:00:00.000Z', 50],
    ]);
  });

  it('refuses a non-admin with FORBIDDEN and bad concerts with VALIDATION_FAILED listing fields', async () => {
    const forbidden = await call(server, 'POST', '/v1/admin/concerts', {
      headers: await bearer('u'),
      body: concert,
    });
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.error).toMatchObject({ code: 'FORBIDDEN' });
    const bad = await call(server, 'POST', '/v1/admin/concerts', {
      headers: await bearer('a', 'admin'),
      body: { title: '', venue: 'x', schedules: [{ startsAt: 'tomorrow', seatCount: 0, price: -1 }] },
    });
    expect(bad.status).toBe(400);
    const fields = ((bad.body.error as { details: { field: string }[] }).details ?? [])
      .map((d) => d.field)
      .sort();
    expect(fields).toEqual(['schedules.0.price', 'schedules.0.seatCount', 'schedules.0.startsAt', 'title']);
  });

  it('answers NOT_FOUND for unknown concerts and schedules, and VALIDATION_FAILED for non-numeric ids', async () => {
    const user = await bearer('u');
    expect((await call(server, 'GET', '/v1/concerts/4242/schedules', { headers: user })).status).toBe(404);
    expect((await call(server, 'GET', '/v1/concerts/abc/schedules', { headers: user })).status).toBe(400);
    expect((await call(server, 'GET', '/v1/schedules/4242/seats', { headers: user })).status).toBe(404);
  });

  it('serves the catalog without a token, and ignores a token that would be refused elsewhere', async () => {
    const created = await call(server, 'POST', '/v1/admin/concerts', {
      headers: await bearer('a', 'admin'),
      body: concert,
    });
    const schedules = `/v1/concerts/${created.body.id as string}/schedules`;
    for (const path of ['/v1/concerts', schedules]) {
      const anonymous = await call(server, 'GET', path);
      expect([path, anonymous.status, anonymous.headers.get('cache-control')]).toEqual([
        path,
        200,
        'public, max-age=5',
      ]);
      const forged = await call(server, 'GET', path, { headers: { authorization: 'Bearer not-a-jwt' } });
      expect([forged.status, forged.body]).toEqual([200, anonymous.body]);
    }
    expect((await call(server, 'GET', '/v1/points')).status).toBe(401);
  });
});

describe('list-seats: the console reads', () => {
  it('answers sales per schedule and the recent events of a concert, newest first, to an admin', async () => {
    const { concertId, scheduleIds } = await createConcertOverHttp(server, {
      title: 'Console',
      seatCount: 3,
      price: 1000,
      schedules: 2,
    });
    const fan = await admittedUser(server, 'fan', concertId);
    // Admissions of one turn of the event loop share an INSERT at its end (queue-activated.ts); let it run,
    // so the activation is the older of the two events.
    await new Promise((resolve) => setTimeout(resolve, 20));
    const [seat] = await seatIdsOf(server, fan, scheduleIds[1]!);
    const held = await call(server, 'POST', '/v1/reservations', {
      headers: fan,
      body: { scheduleId: scheduleIds[1], seatId: seat },
    });
    expect(held.status).toBe(201);
    const admin = await bearer('ops', 'admin');

    const sales = await call(server, 'GET', `/v1/admin/concerts/${concertId}/sales`, { headers: admin });
    expect([sales.status, sales.headers.get('cache-control')]).toEqual([200, 'no-store']);
    expect(sales.body).toEqual({
      concertId,
      items: [
        { scheduleId: scheduleIds[0], startsAt: '2030-01-01T19:00:00.000Z', available: 3, held: 0, sold: 0 },
        { scheduleId: scheduleIds[1], startsAt: '2030-01-02T19:00:00.000Z', available: 2, held: 1, sold: 0 },
      ],
    });

    const events = await call(server, 'GET', `/v1/admin/concerts/${concertId}/events`, { headers: admin });
    expect(events.status).toBe(200);
    const items = events.body.items as { topic: string; key: string; time: string; data: object }[];
    expect(items.map((e) => e.topic)).toEqual(['reservation.created', 'queue.activated']);
    expect(items[0]).toMatchObject({
      key: seat,
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      data: { reservationId: held.body.id, scheduleId: scheduleIds[1], userId: 'fan' },
    });
    const one = await call(server, 'GET', `/v1/admin/concerts/${concertId}/events?limit=1`, {
      headers: admin,
    });
    expect(one.body.items).toEqual([items[0]]);
  });

  it('refuses users, bad ids and limits, and unknown concerts', async () => {
    const { concertId } = await createConcertOverHttp(server, { title: 'Quiet', seatCount: 1, price: 1 });
    const admin = await bearer('ops', 'admin');
    const outcome = async (path: string, headers: Record<string, string> = admin) => {
      const res = await call(server, 'GET', path, { headers });
      return `${res.status} ${(res.body.error as { code?: string } | undefined)?.code ?? ''}`.trim();
    };
    for (const read of ['sales', 'events']) {
      expect(await outcome(`/v1/admin/concerts/${concertId}/${read}`)).toBe('200');
      expect(await outcome(`/v1/admin/concerts/${concertId}/${read}`, {})).toBe('401 UNAUTHENTICATED');
      expect(await outcome(`/v1/admin/concerts/${concertId}/${read}`, await bearer('u'))).toBe(
        '403 FORBIDDEN',
      );
      expect(await outcome(`/v1/admin/concerts/424242/${read}`)).toBe('404 NOT_FOUND');
      expect(await outcome(`/v1/admin/concerts/x1/${read}`)).toBe('400 VALIDATION_FAILED');
    }
    for (const limit of ['0', '201', 'ten', '1.5']) {
      expect(await outcome(`/v1/admin/concerts/${concertId}/events?limit=${limit}`)).toBe(
        '400 VALIDATION_FAILED',
      );
    }
    expect(await outcome(`/v1/admin/concerts/${concertId}/events?limit=200`)).toBe('200');
  });
});

describe('operations endpoints', () => {
  it('serves OpenAPI 3.1 listing every endpoint of docs/api.md, and a docs page', async () => {
    const doc = await call(server, 'GET', '/openapi.json');
    expect(doc.body.openapi).toBe('3.1.0');
    const paths = Object.keys(doc.body.paths as object).sort();
    expect(paths).toEqual(
      expect.arrayContaining([
        '/v1/admin/concerts',
        '/v1/admin/concerts/{concertId}/events',
        '/v1/admin/concerts/{concertId}/sales',
        '/v1/admin/queues/{concertId}',
        '/v1/concerts',
        '/v1/concerts/{concertId}/schedules',
        '/v1/dev/tokens',
        '/v1/points',
        '/v1/points/charges',
        '/v1/points/history',
        '/v1/queue/status',
        '/v1/queue/stream',
        '/v1/queue/tokens',
        '/v1/reservations',
        '/v1/reservations/{id}',
        '/v1/reservations/{id}/payments',
        '/v1/schedules/{scheduleId}/seats',
      ]),
    );
    const docs = await server.app.request('/docs');
    expect(docs.status).toBe(200);
    expect(await docs.text()).toContain('/openapi.json');
  });

  it('exposes Prometheus metrics by route pattern, and a JSON 404 for unknown routes', async () => {
    await call(server, 'GET', '/v1/concerts/4242/schedules', { headers: await bearer('u') });
    const missing = await call(server, 'GET', '/nowhere');
    expect(missing).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND' } } });
    const metrics = await (await server.app.request('/metrics')).text();
    expect(metrics).toContain(
      'http_requests_total{function="all-in-one",method="GET",route="/v1/concerts/:concertId/schedules",status="404"} 1',
    );
    expect(metrics).toContain('route="unmatched",status="404"');
  });

  it('reports queue sizes per concert at scrape time', async () => {
    const created = await call(server, 'POST', '/v1/admin/concerts', {
      headers: await bearer('a', 'admin'),
      body: concert,
    });
    await call(server, 'POST', '/v1/queue/tokens', {
      headers: await bearer('q1'),
      body: { concertId: created.body.id },
    });
    const metrics = await (await server.app.request('/metrics')).text();
    expect(metrics).toContain(`queue_active_users{concert="${created.body.id as string}"} 1`);
    expect(metrics).toContain(`queue_waiting_users{concert="${created.body.id as string}"} 0`);
  });
});
