import { describe, expect, it } from 'vitest';
import { createMemoryRateLimiter } from './memory-rate-limiter.ts';

const t0 = 1_800_000_000_000;

describe('in-process rate limiter (RATE_LIMIT_SCOPE=process)', () => {
  it('decides synchronously: counting a request costs no round trip', () => {
    const limiter = createMemoryRateLimiter({ perSecond: 1, burst: 1 });
    expect(limiter.take('u', t0)).toEqual({ allowed: true, remaining: 0, retryAfterMs: 0 });
    expect(limiter.take('u', t0)).toEqual({ allowed: false, remaining: 0, retryAfterMs: 1000 });
  });

  it('keeps its buckets per process: two processes each grant the whole burst', () => {
    const policy = { perSecond: 1, burst: 2 };
    const [a, b] = [createMemoryRateLimiter(policy), createMemoryRateLimiter(policy)];
    const granted = [a, b, a, b, a, b].map((limiter) => limiter.take('u', t0)).filter((d) => d.allowed);
    expect(granted).toHaveLength(4);
  });

  it('forgets an idle bucket only once it would be full again, so the sweep never grants extra', () => {
    const limiter = createMemoryRateLimiter({ perSecond: 1, burst: 3 });
    for (let i = 0; i < 3; i++) limiter.take('u', t0);
    // Another key's request after the idle time sweeps the bucket; it had refilled by then anyway.
    limiter.take('other', t0 + 4001);
    const after = [0, 1, 2, 3].map(() => limiter.take('u', t0 + 4001).allowed);
    expect(after).toEqual([true, true, true, false]);
    // Within the idle time the spent bucket stays, refilled only by the elapsed time.
    const fresh = createMemoryRateLimiter({ perSecond: 1, burst: 3 });
    for (let i = 0; i < 3; i++) fresh.take('u', t0);
    expect([0, 1].map(() => fresh.take('u', t0 + 1500).allowed)).toEqual([true, false]);
  });
});
