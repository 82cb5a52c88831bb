import { afterEach, beforeEach, describe, expect, it } from 'vitest';
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

describe('operations endpoints', () => {
  it('serves OpenAPI 3.1 listing every endpoint of docs/api.md, and a docs page', async () => {
    const doc = await call(server, 'GET', '/openapi.json');
    expect(doc.body.openapi).toBe('3.1.0');
    const paths = Object.keys(doc.body.paths as object).sort();
    expect(paths).toEqual(
      expect.arrayContaining([
        '/v1/admin/concerts',
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
