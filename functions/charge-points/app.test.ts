import { beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../shared/db/connect.ts';
import { walletStoreFor } from '../../shared/points/wallet-store.ts';
import { createMemoryRateLimiter } from '../../shared/rate-limit/memory-rate-limiter.ts';
import {
  badTokens,
  bearer,
  embeddedDatabase,
  httpOptions,
  manualClock,
  testTokens,
} from '../../tests/support/harness.ts';
import { createApp } from './app.ts';

let database: Database;
let app: ReturnType<typeof createApp>;

function makeApp(burst = 1000) {
  return createApp(
    {
      wallets: walletStoreFor(database.db),
      clock: manualClock(),
      userTokens: testTokens(),
      rateLimiter: createMemoryRateLimiter({ perSecond: 1, burst }),
    },
    httpOptions(),
  );
}

beforeEach(async () => {
  database = await embeddedDatabase();
  app = makeApp();
});

const json = (headers: Record<string, string>, body: unknown, extra: Record<string, string> = {}) => ({
  method: 'POST',
  headers: { ...headers, 'content-type': 'application/json', ...extra },
  body: typeof body === 'string' ? body : JSON.stringify(body),
});

describe('charge-points: happy path', () => {
  it('starts at zero, charges, and lists history newest first with cursor paging', async () => {
    const auth = await bearer('u1');
    expect(await (await app.request('/v1/points', { headers: auth })).json()).toEqual({
      userId: 'u1',
      balance: 0,
    });
    for (const [i, amount] of [100, 200, 300].entries()) {
      const res = await app.request(
        '/v1/points/charges',
        json(auth, { amount }, { 'idempotency-key': `k${i}` }),
      );
      expect(res.status).toBe(201);
    }
    const balance = (await (await app.request('/v1/points', { headers: auth })).json()) as {
      balance: number;
    };
    expect(balance.balance).toBe(600);

    const page1 = (await (await app.request('/v1/points/history?limit=2', { headers: auth })).json()) as {
      items: { amount: number; balanceAfter: number; type: string }[];
      nextCursor: string | null;
    };
    expect(page1.items.map((i) => [i.type, i.amount, i.balanceAfter])).toEqual([
      ['CHARGE', 300, 600],
      ['CHARGE', 200, 300],
    ]);
    const page2 = (await (
      await app.request(`/v1/points/history?limit=2&cursor=${page1.nextCursor}`, { headers: auth })
    ).json()) as typeof page1;
    expect(page2.items.map((i) => i.amount)).toEqual([100]);
    expect(page2.nextCursor).toBeNull();
  });

  it('answers a repeated charge with the same body, charged once', async () => {
    const auth = await bearer('u2');
    const first = await app.request(
      '/v1/points/charges',
      json(auth, { amount: 500 }, { 'idempotency-key': 'same' }),
    );
    const second = await app.request(
      '/v1/points/charges',
      json(auth, { amount: 500 }, { 'idempotency-key': 'same' }),
    );
    expect(second.status).toBe(201);
    expect(await second.json()).toEqual(await first.json());
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(await (await app.request('/v1/points', { headers: auth })).json()).toMatchObject({ balance: 500 });
  });

  it('keeps keys per user: the same key from another user is a new charge', async () => {
    await app.request(
      '/v1/points/charges',
      json(await bearer('a'), { amount: 1 }, { 'idempotency-key': 'k' }),
    );
    const res = await app.request(
      '/v1/points/charges',
      json(await bearer('b'), { amount: 2 }, { 'idempotency-key': 'k' }),
    );
    expect(await res.json()).toMatchObject({ userId: 'b', balance: 2 });
  });
});

describe('charge-points: errors', () => {
  it.each([
    [{ amount: 0 }, 'amount'],
    [{ amount: 10_000_001 }, 'amount'],
    [{ amount: 1.5 }, 'amount'],
    [{ amount: '100' }, 'amount'],
    [{}, 'amount'],
    [{ amount: 1, extra: true }, ''],
  ])('refuses %j with VALIDATION_FAILED', async (body, field) => {
    const res = await app.request(
      '/v1/points/charges',
      json(await bearer('v'), body, { 'idempotency-key': 'x' }),
    );
    expect(res.status).toBe(400);
    const error = ((await res.json()) as { error: { code: string; details: { field: string }[] } }).error;
    expect(error.code).toBe('VALIDATION_FAILED');
    if (field) expect(error.details.map((d) => d.field)).toContain(field);
  });

  it('refuses a charge without an Idempotency-Key, or with one too long', async () => {
    const auth = await bearer('v');
    for (const extra of [{}, { 'idempotency-key': 'k'.repeat(65) }] as Record<string, string>[]) {
      const res = await app.request('/v1/points/charges', json(auth, { amount: 1 }, extra));
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('VALIDATION_FAILED');
    }
  });

  it('answers MALFORMED_JSON for a broken body', async () => {
    const res = await app.request(
      '/v1/points/charges',
      json(await bearer('v'), '{"amount": ', { 'idempotency-key': 'k' }),
    );
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('MALFORMED_JSON');
  });

  it('answers IDEMPOTENCY_KEY_REUSED when a key comes back with another request', async () => {
    const auth = await bearer('v');
    await app.request('/v1/points/charges', json(auth, { amount: 1 }, { 'idempotency-key': 'k' }));
    const res = await app.request(
      '/v1/points/charges',
      json(auth, { amount: 2 }, { 'idempotency-key': 'k' }),
    );
    expect(res.status).toBe(409);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(await (await app.request('/v1/points', { headers: auth })).json()).toMatchObject({ balance: 1 });
  });

  it('refuses a cursor outside its documented pattern', async () => {
    const res = await app.request('/v1/points/history?cursor=abc', { headers: await bearer('v') });
    expect(res.status).toBe(400);
  });

  it('answers 413 PAYLOAD_TOO_LARGE over 64 KB', async () => {
    const body = JSON.stringify({ amount: 1, pad: 'x'.repeat(70_000) });
    const res = await app.request(
      '/v1/points/charges',
      json(await bearer('v'), body, { 'idempotency-key': 'k' }),
    );
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('rate limits per user with 429 and Retry-After', async () => {
    app = makeApp(2);
    const auth = await bearer('busy');
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await app.request('/v1/points', { headers: auth })).status);
    expect(statuses).toEqual([200, 200, 429]);
    const res = await app.request('/v1/points', { headers: auth });
    expect(res.headers.get('retry-after')).toBe('1');
    expect((await app.request('/v1/points', { headers: await bearer('other') })).status).toBe(200);
  });
});

describe('charge-points: security', () => {
  it('refuses a missing bearer token', async () => {
    const res = await app.request('/v1/points');
    expect(res.status).toBe(401);
    const body = (await res.json()) as { error: { code: string; requestId: string } };
    expect(body.error.code).toBe('UNAUTHENTICATED');
    expect(body.error.requestId).toBe(res.headers.get('x-request-id'));
  });

  it.each(['forged', 'algNone', 'expired', 'wrongAudience', 'garbage'])(
    'refuses a %s token',
    async (kind) => {
      const token = (await badTokens('mallory'))[kind];
      const res = await app.request('/v1/points', { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('UNAUTHENTICATED');
    },
  );

  it('shows each user only their own wallet', async () => {
    await app.request(
      '/v1/points/charges',
      json(await bearer('alice'), { amount: 9 }, { 'idempotency-key': 'k' }),
    );
    expect(await (await app.request('/v1/points', { headers: await bearer('bob') })).json()).toEqual({
      userId: 'bob',
      balance: 0,
    });
  });
});

describe('charge-points alone: HTTP semantics of the paths this process serves', () => {
  const errorCodeOf = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code;

  it('answers 405 with Allow for its own paths, 404 for paths other functions serve', async () => {
    const auth = await bearer('alone');
    const wrong = await app.request('/v1/points', { method: 'DELETE', headers: auth });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('GET, HEAD, OPTIONS');
    expect(await errorCodeOf(wrong)).toBe('METHOD_NOT_ALLOWED');
    const charges = await app.request('/v1/points/charges', { headers: auth });
    expect([charges.status, charges.headers.get('allow')]).toEqual([405, 'OPTIONS, POST']);
    for (const path of ['/v1/reservations/1', '/v1/queue/status', '/v1/points/charges/1']) {
      const res = await app.request(path, { method: 'PUT', headers: auth });
      expect(`${path} ${res.status} ${res.headers.get('allow')}`).toBe(`${path} 404 null`);
    }
    const options = await app.request('/v1/points/history', { method: 'OPTIONS' });
    expect([options.status, options.headers.get('allow')]).toEqual([204, 'GET, HEAD, OPTIONS']);
    expect([...options.headers.keys()].filter((h) => h.startsWith('access-control'))).toEqual([]);
  });

  it.each([
    ['text/plain', '{"amount":5}'],
    ['application/x-www-form-urlencoded', 'amount=5'],
    [
      'multipart/form-data; boundary=x',
      '--x\r\nContent-Disposition: form-data; name="amount"\r\n\r\n5\r\n--x--',
    ],
  ])('refuses a %s body with 415 UNSUPPORTED_MEDIA_TYPE and charges nothing', async (type, body) => {
    const auth = await bearer('typed');
    const res = await app.request('/v1/points/charges', {
      method: 'POST',
      headers: { ...auth, 'content-type': type, 'idempotency-key': 'k' },
      body,
    });
    expect(res.status).toBe(415);
    expect(await errorCodeOf(res)).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect(await (await app.request('/v1/points', { headers: auth })).json()).toMatchObject({ balance: 0 });
    const typed = await app.request(
      '/v1/points/charges',
      json(
        auth,
        { amount: 5 },
        { 'content-type': 'application/json; charset=utf-8', 'idempotency-key': 'k' },
      ),
    );
    expect(typed.status).toBe(201);
  });

  it('names an unknown body field in the details', async () => {
    const res = await app.request(
      '/v1/points/charges',
      json(await bearer('extra'), { amount: 5, bonus: 1 }, { 'idempotency-key': 'k' }),
    );
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { details: { field: string }[] } };
    expect(body.error.details.map((d) => d.field)).toEqual(['bonus']);
  });

  it('answers a preflight for its own paths from a configured origin only', async () => {
    const withCors = createApp(
      {
        wallets: walletStoreFor(database.db),
        clock: manualClock(),
        userTokens: testTokens(),
        rateLimiter: createMemoryRateLimiter({ perSecond: 1, burst: 1000 }),
      },
      { ...httpOptions(), corsOrigins: ['https://tickets.example'] },
    );
    const preflight = (path: string, origin: string) =>
      withCors.request(path, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST' },
      });
    const own = await preflight('/v1/points/charges', 'https://tickets.example');
    expect([own.status, own.headers.get('access-control-allow-origin')]).toEqual([
      204,
      'https://tickets.example',
    ]);
    expect(own.headers.get('access-control-allow-methods')).toBe('OPTIONS,POST');
    const other = await preflight('/v1/points/charges', 'https://elsewhere.example');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    expect((await preflight('/v1/reservations', 'https://tickets.example')).status).toBe(404);
  });

  it('challenges with WWW-Authenticate: Bearer on 401, naming a refused token', async () => {
    const missing = await app.request('/v1/points');
    expect([missing.status, missing.headers.get('www-authenticate')]).toEqual([
      401,
      'Bearer realm="concert"',
    ]);
    const forged = await app.request('/v1/points', {
      headers: { authorization: `Bearer ${(await badTokens('x')).forged}` },
    });
    expect([forged.status, forged.headers.get('www-authenticate')]).toEqual([
      401,
      'Bearer realm="concert", error="invalid_token"',
    ]);
  });
});
