import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startTestServer, type TestServer } from '../support/embedded-server.ts';
import { bearer } from '../support/harness.ts';
import { serviceUrls, uniqueSuffix } from '../support/real-services.ts';

/**
 * Dependencies that do not answer: requests get 503 DEPENDENCY_UNAVAILABLE with Retry-After quickly,
 * never a hang and never a bare 500. Port 1 on loopback refuses every connection.
 */
describe('dependency outages', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({
      DATABASE_URL: 'mysql://concert:concert@127.0.0.1:1/concert',
      REDIS_URL: 'redis://127.0.0.1:1',
      DB_MIGRATE: '0',
      DB_CONNECT_TIMEOUT_MS: '500',
      REDIS_COMMAND_TIMEOUT_MS: '300',
    });
  });
  afterAll(() => server.close());

  it.each([
    ['GET', '/v1/points', undefined],
    ['POST', '/v1/queue/tokens', { concertId: '1' }],
    ['GET', '/v1/concerts', undefined],
  ])('%s %s answers 503 with Retry-After', async (method, path, body) => {
    const started = Date.now();
    const res = await call(server, method, path, { headers: await bearer('u1'), body });
    expect(res.status).toBe(503);
    expect(res.body.error).toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE' });
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    // Bounded by the configured timeouts (not asserted as a speed claim, only as "no hang").
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('reports itself not ready, naming what failed', async () => {
    const res = await call(server, 'GET', '/readyz');
    expect(res.status).toBe(503);
    const checks = res.body.checks as { name: string; ok: boolean }[];
    expect(
      checks
        .filter((c) => !c.ok)
        .map((c) => c.name)
        .sort(),
    ).toEqual(['database', 'redis']);
    expect((await call(server, 'GET', '/healthz')).status).toBe(200);
  });
});

describe('database outage with Redis up', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({
      DATABASE_URL: 'mysql://concert:concert@127.0.0.1:1/concert',
      REDIS_URL: serviceUrls().redisUrl,
      REDIS_KEY_PREFIX: `outage-${uniqueSuffix()}:`,
      DB_MIGRATE: '0',
    });
  });
  afterAll(() => server.close());

  it('answers 503 wherever the database is needed, including entering the queue of a concert not seen yet', async () => {
    const auth = await bearer('u2');
    const points = await call(server, 'GET', '/v1/points', { headers: auth });
    expect(points.status).toBe(503);
    expect(points.body.error).toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE' });
    const queue = await call(server, 'POST', '/v1/queue/tokens', { headers: auth, body: { concertId: '5' } });
    expect(queue.status).toBe(503);
    expect(queue.headers.get('retry-after')).not.toBeNull();
  });
});
