import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryRateLimiter } from '../../shared/rate-limit/memory-rate-limiter.ts';
import type { RateLimiter, RateLimitPolicy } from '../../shared/rate-limit/rate-limiter.ts';
import { createRedisRateLimiter } from '../../shared/rate-limit/redis-rate-limiter.ts';
import { realRedis, uniqueSuffix } from '../support/real-services.ts';

let redis: Redis;
beforeAll(() => {
  redis = realRedis();
});
afterAll(() => {
  redis.disconnect();
});

const targets: { name: string; make(policy: RateLimitPolicy): RateLimiter }[] = [
  { name: 'in-process', make: (policy) => createMemoryRateLimiter(policy) },
  { name: 'Redis Lua', make: (policy) => createRedisRateLimiter(redis, policy, `rl-test-${uniqueSuffix()}`) },
];

describe.each(targets)('rate limiter contract: $name', (target) => {
  const t0 = 1_800_000_000_000;

  it('allows a burst, then refuses with the time until the next token', async () => {
    const limiter = target.make({ perSecond: 2, burst: 3 });
    const decisions = [];
    for (let i = 0; i < 4; i++) decisions.push(await limiter.take('alice', t0));
    expect(decisions.map((d) => d.allowed)).toEqual([true, true, true, false]);
    expect(decisions[3]!.retryAfterMs).toBe(500);
    expect((await limiter.take('alice', t0 + 499)).allowed).toBe(false);
    expect((await limiter.take('alice', t0 + 1000)).allowed).toBe(true);
  });

  it('keeps one bucket per key', async () => {
    const limiter = target.make({ perSecond: 1, burst: 1 });
    expect((await limiter.take('a', t0)).allowed).toBe(true);
    expect((await limiter.take('a', t0)).allowed).toBe(false);
    expect((await limiter.take('b', t0)).allowed).toBe(true);
  });
});

describe('Redis Lua scripts', () => {
  it('are called by SHA and reloaded after the server forgets them', async () => {
    const limiter = createRedisRateLimiter(redis, { perSecond: 1, burst: 5 }, `rl-flush-${uniqueSuffix()}`);
    expect((await limiter.take('k', 1)).remaining).toBe(4);
    await redis.script('FLUSH');
    expect((await limiter.take('k', 1)).remaining).toBe(3);
  });
});
