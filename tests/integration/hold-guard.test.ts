import type { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createRedisHoldGuard, knownTakenMs } from '../../shared/seats/hold-guard.ts';
import { manualClock } from '../support/harness.ts';
import { realRedis, uniqueSuffix } from '../support/real-services.ts';

/**
 * The Redis guard's negative cache: a process that saw a seat taken turns the next contenders away
 * without Redis, for knownTakenMs at most and never past the guard's own end. Each "process" is a guard of
 * its own on one Redis; deleting the key behind their backs shows which answers came from memory.
 */
describe('hold guard: seats known taken', () => {
  let redis: Redis;
  let prefix: string;
  beforeAll(() => {
    redis = realRedis();
  });
  afterAll(() => redis.disconnect());
  beforeEach(() => {
    prefix = `guard-test-${uniqueSuffix()}`;
  });
  const guardAt = (clock: { now(): number }) =>
    createRedisHoldGuard(redis, prefix, { now: () => clock.now() });

  it('turns contenders away from memory for knownTakenMs after Redis named another holder', async () => {
    const clock = manualClock();
    const other = guardAt(clock);
    const here = guardAt(clock);
    expect(await other.claim('1/7', 'winner', 60_000)).toBe(true);
    expect(await here.claim('1/7', 'loser', 60_000)).toBe(false);
    await redis.del(`${prefix}:{1/7}`);
    expect(await here.claim('1/7', 'next', 60_000)).toBe(false);
    clock.advance(knownTakenMs - 1);
    expect(await here.claim('1/7', 'next', 60_000)).toBe(false);
    clock.advance(1);
    expect(await here.claim('1/7', 'next', 60_000)).toBe(true);
  });

  it('never remembers a refusal past the end of the guard that caused it', async () => {
    const clock = manualClock();
    const other = guardAt(clock);
    const here = guardAt(clock);
    await other.settle('1/8', 'holder', 300);
    expect(await here.claim('1/8', 'loser', 60_000)).toBe(false);
    await redis.del(`${prefix}:{1/8}`);
    clock.advance(300);
    expect(await here.claim('1/8', 'loser', 60_000)).toBe(true);
  });

  it('lets the holder through to Redis (a retried hold gets its hold back)', async () => {
    const clock = manualClock();
    const guard = guardAt(clock);
    await guard.settle('1/9', 'holder', 60_000);
    expect(await guard.claim('1/9', 'other', 60_000)).toBe(false);
    expect(await guard.claim('1/9', 'holder', 60_000)).toBe(true);
  });

  it('forgets at once a seat released in the same process', async () => {
    const clock = manualClock();
    const guard = guardAt(clock);
    await guard.settle('1/10', 'holder', 60_000);
    expect(await guard.claim('1/10', 'other', 60_000)).toBe(false);
    await guard.release('1/10', 'holder');
    expect(await guard.claim('1/10', 'other', 60_000)).toBe(true);
  });

  it('a release by someone who is not the holder changes nothing', async () => {
    const clock = manualClock();
    const guard = guardAt(clock);
    await guard.settle('1/11', 'holder', 60_000);
    await guard.release('1/11', 'stranger');
    await redis.del(`${prefix}:{1/11}`);
    expect(await guard.claim('1/11', 'other', 60_000)).toBe(false);
  });
});
