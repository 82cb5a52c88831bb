import type { MiddlewareHandler } from 'hono';
import { describe, expect, it } from 'vitest';
import { httpOptions, manualClock } from '../../tests/support/harness.ts';
import { DependencyUnavailableError } from '../errors.ts';
import { createMemoryRateLimiter } from '../rate-limit/memory-rate-limiter.ts';
import type { RateLimiter } from '../rate-limit/rate-limiter.ts';
import { createHttpApp } from './create-http-app.ts';
import type { AppEnv } from './env.ts';
import { type RateLimitOptions, rateLimitPerUser } from './rate-limit.ts';
import { createRouter } from './router.ts';

// The user is whoever the X-User header names: authentication is not what these tests are about.
const asUser: MiddlewareHandler<AppEnv> = async (c, next) => {
  c.set('user', { id: c.req.header('x-user') ?? 'anonymous', role: 'user' });
  await next();
};

function appWith(limiter: RateLimiter, options: RateLimitOptions) {
  const clock = manualClock();
  const handled: string[] = [];
  const routes = createRouter();
  routes.get('/work', asUser, rateLimitPerUser(limiter, clock, options), (c) => {
    handled.push(c.get('user').id);
    return c.json({ ok: true });
  });
  routes.get('/refused', asUser, rateLimitPerUser(limiter, clock, options), () => {
    throw new DependencyUnavailableError('mysql');
  });
  const app = createHttpApp({ ...httpOptions(), name: 'rate-limit', routes: [routes] });
  const get = async (path: string, user: string) => {
    const res = await app.request(path, { headers: { 'x-user': user } });
    return { status: res.status, retryAfter: res.headers.get('retry-after'), body: await res.json() };
  };
  return { clock, handled, get };
}

describe.each([
  { name: 'before the handler', options: {} },
  { name: 'alongside the handler', options: { alongside: true } },
])('rate limit per user, $name', ({ options }) => {
  it('answers 429 RATE_LIMITED with Retry-After once the burst is spent, per user, and refills', async () => {
    const { clock, get } = appWith(createMemoryRateLimiter({ perSecond: 1, burst: 2 }), options);
    expect((await get('/work', 'ann')).status).toBe(200);
    expect((await get('/work', 'ann')).status).toBe(200);
    const refused = await get('/work', 'ann');
    expect(refused).toMatchObject({
      status: 429,
      retryAfter: '1',
      body: { error: { code: 'RATE_LIMITED' } },
    });
    expect((await get('/work', 'bob')).status).toBe(200);
    clock.advance(1000);
    expect((await get('/work', 'ann')).status).toBe(200);
  });

  it("puts RATE_LIMITED before the handler's own refusal", async () => {
    const { get } = appWith(createMemoryRateLimiter({ perSecond: 1, burst: 1 }), options);
    expect((await get('/refused', 'cat')).body).toMatchObject({ error: { code: 'DEPENDENCY_UNAVAILABLE' } });
    expect(await get('/refused', 'cat')).toMatchObject({ status: 429, retryAfter: '1' });
  });

  it('answers 503 with Retry-After when the limiter cannot be reached', async () => {
    const down: RateLimiter = {
      take: () => Promise.reject(new DependencyUnavailableError('redis')),
    };
    const { get } = appWith(down, options);
    expect(await get('/work', 'dan')).toMatchObject({
      status: 503,
      retryAfter: '2',
      body: { error: { code: 'DEPENDENCY_UNAVAILABLE' } },
    });
  });
});

describe('rate limit alongside the handler', () => {
  it('lets the handler run and throws its answer away when the bucket was empty', async () => {
    const { handled, get } = appWith(createMemoryRateLimiter({ perSecond: 1, burst: 1 }), {
      alongside: true,
    });
    expect((await get('/work', 'eve')).status).toBe(200);
    expect((await get('/work', 'eve')).status).toBe(429);
    expect(handled).toEqual(['eve', 'eve']);
  });

  it('runs the handler only after the token is taken when not alongside', async () => {
    const { handled, get } = appWith(createMemoryRateLimiter({ perSecond: 1, burst: 1 }), {});
    await get('/work', 'fay');
    expect((await get('/work', 'fay')).status).toBe(429);
    expect(handled).toEqual(['fay']);
  });
});
