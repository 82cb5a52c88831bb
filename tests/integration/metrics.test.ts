import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admittedUser, createConcertOverHttp, seatIdsOf } from '../support/api-fixture.ts';
import { call, startTestServer, type TestServer } from '../support/embedded-server.ts';
import { freshMysqlDatabase, serviceUrls, uniqueSuffix } from '../support/real-services.ts';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a Prometheus text exposition (no escaped quotes in our label values). */
function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`unparsed exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)) labels[pair[1]!] = pair[2]!;
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/**
 * /metrics after real traffic through the all-in-one server on real MariaDB and Redis: the counts are
 * exact because this test is the only client of a fresh registry.
 */
describe('/metrics after real traffic (real MariaDB + Redis)', () => {
  let server: TestServer;
  let drop: () => Promise<void>;
  const poolSize = 7;

  beforeAll(async () => {
    const fresh = await freshMysqlDatabase();
    await fresh.database.close();
    drop = fresh.drop;
    server = await startTestServer({
      DATABASE_URL: fresh.url,
      REDIS_URL: serviceUrls().redisUrl,
      REDIS_KEY_PREFIX: `metrics-${uniqueSuffix()}:`,
      DB_MIGRATE: '0',
      DB_POOL_SIZE: String(poolSize),
    });
  });
  afterAll(async () => {
    await server?.close();
    await drop?.();
  });

  it('counts requests by route and status, holds won and lost, payments by outcome, and the pool', async () => {
    const { concertId, scheduleId } = await createConcertOverHttp(server, {
      title: 'Metrics',
      seatCount: 2,
      price: 1000,
    });
    const [a, b, c] = await Promise.all(
      ['a', 'b', 'c'].map((name) => admittedUser(server, `${name}${uniqueSuffix()}`, concertId)),
    );
    const [seat1, seat2] = await seatIdsOf(server, a!, scheduleId);

    // Holds: a wins seat 1, then b and c lose it (turned away by the Redis guard); b wins seat 2.
    const holdA = await call(server, 'POST', '/v1/reservations', {
      headers: a,
      body: { scheduleId, seatId: seat1 },
    });
    expect(holdA.status).toBe(201);
    for (const loser of [b, c]) {
      const lost = await call(server, 'POST', '/v1/reservations', {
        headers: loser,
        body: { scheduleId, seatId: seat1 },
      });
      expect(lost.status).toBe(409);
    }
    const holdB = await call(server, 'POST', '/v1/reservations', {
      headers: b,
      body: { scheduleId, seatId: seat2 },
    });
    expect(holdB.status).toBe(201);

    // Payments: b has no points (refused), a pays, then a's retry is replayed.
    const refused = await call(server, 'POST', `/v1/reservations/${holdB.body.id}/payments`, {
      headers: { ...b, 'idempotency-key': 'pb' },
      body: {},
    });
    expect(refused.body.error).toMatchObject({ code: 'INSUFFICIENT_POINTS' });
    const charged = await call(server, 'POST', '/v1/points/charges', {
      headers: { ...a, 'idempotency-key': 'ca' },
      body: { amount: 1000 },
    });
    expect(charged.status).toBe(201);
    for (let attempt = 0; attempt < 2; attempt++) {
      const paid = await call(server, 'POST', `/v1/reservations/${holdA.body.id}/payments`, {
        headers: { ...a, 'idempotency-key': 'pa' },
        body: {},
      });
      expect(paid.status).toBe(201);
    }

    const scrape = await server.app.request('/metrics');
    expect(scrape.status).toBe(200);
    expect(scrape.headers.get('content-type')).toMatch(/^text\/plain/);
    const samples = parseExposition(await scrape.text());
    const value = (name: string, labels: Record<string, string>) => {
      const found = samples.filter(
        (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
      );
      return found.length === 0 ? undefined : found.reduce((sum, s) => sum + s.value, 0);
    };

    // The duration histogram: one observation per answered request, per route pattern and status.
    const holds = { method: 'POST', route: '/v1/reservations' };
    expect(value('http_request_duration_seconds_count', { ...holds, status: '201' })).toBe(2);
    expect(value('http_request_duration_seconds_count', { ...holds, status: '409' })).toBe(2);
    const pay = { method: 'POST', route: '/v1/reservations/:id/payments' };
    expect(value('http_request_duration_seconds_count', { ...pay, status: '201' })).toBe(2);
    expect(value('http_request_duration_seconds_count', { ...pay, status: '409' })).toBe(1);
    expect(value('http_request_duration_seconds_bucket', { ...holds, status: '201', le: '+Inf' })).toBe(2);
    const buckets = samples.filter(
      (s) =>
        s.name === 'http_request_duration_seconds_bucket' &&
        s.labels.route === holds.route &&
        s.labels.status === '201',
    );
    expect(buckets.length).toBe(13);
    const cumulative = buckets.map((s) => s.value);
    expect([...cumulative].sort((x, y) => x - y)).toEqual(cumulative);
    expect(value('http_request_duration_seconds_sum', { ...holds, status: '201' })).toBeGreaterThan(0);
    expect(value('http_requests_total', { ...pay, status: '201' })).toBe(2);

    expect(value('seat_holds_total', { outcome: 'won' })).toBe(2);
    expect(value('seat_holds_total', { outcome: 'lost_guard' })).toBe(2);
    expect(value('seat_holds_total', { outcome: 'lost_db' })).toBeUndefined();

    expect(value('payments_total', { outcome: 'paid' })).toBe(1);
    expect(value('payments_total', { outcome: 'replayed' })).toBe(1);
    expect(value('payments_total', { outcome: 'INSUFFICIENT_POINTS' })).toBe(1);

    // The pool gauge is read at scrape time from the mysql2 pool.
    expect(value('db_pool_connections', { state: 'limit' })).toBe(poolSize);
    const total = value('db_pool_connections', { state: 'total' })!;
    expect(total).toBeGreaterThanOrEqual(1);
    expect(total).toBeLessThanOrEqual(poolSize);
    expect(value('db_pool_connections', { state: 'idle' })).toBeLessThanOrEqual(total);
    expect(value('db_pool_connections', { state: 'waiting' })).toBe(0);
  });
});
