import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createMemoryHealthBoard,
  createRedisHealthBoard,
  type HealthBoard,
  healthRetentionSeconds,
} from '../../shared/admission/health-board.ts';
import { realRedis, uniqueSuffix } from '../support/real-services.ts';

let redis: Redis;
beforeAll(() => {
  redis = realRedis();
});
afterAll(() => {
  redis.disconnect();
});

const targets: Array<{ name: string; make(): HealthBoard }> = [
  { name: 'in-process', make: () => createMemoryHealthBoard() },
  { name: 'Redis', make: () => createRedisHealthBoard(redis, `health${uniqueSuffix()}`) },
];

const s0 = 1_800_000_000;

describe.each(targets)('shop health board contract: $name', (target) => {
  it('adds up the counts of processes per second and sums a range of seconds', async () => {
    const board = target.make();
    await board.add(s0, { h10: 3, u: 1 });
    await board.add(s0, { h10: 2, h40: 1, n: 2, b: 1500 });
    await board.add(s0 + 2, { p12: 4 });
    await board.add(s0 + 9, { p12: 100 });
    expect(await board.read(s0, s0)).toEqual({ h10: 5, h40: 1, u: 1, n: 2, b: 1500 });
    expect(await board.read(s0 - 5, s0 + 4)).toEqual({ h10: 5, h40: 1, u: 1, n: 2, b: 1500, p12: 4 });
    expect(await board.read(s0 + 3, s0 + 8)).toEqual({});
  });
});

describe('shop health board retention', () => {
  it('in process: forgets seconds older than the retention as new ones come', async () => {
    const board = createMemoryHealthBoard();
    await board.add(s0, { h1: 1 });
    await board.add(s0 + healthRetentionSeconds, { h1: 1 });
    expect(await board.read(s0, s0)).toEqual({});
    expect(await board.read(s0, s0 + healthRetentionSeconds)).toEqual({ h1: 1 });
  });

  it('Redis: each second is a key that expires within the retention', async () => {
    const prefix = `health${uniqueSuffix()}`;
    await createRedisHealthBoard(redis, prefix).add(s0, { h1: 1 });
    const ttl = await redis.ttl(`${prefix}:${s0}`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(healthRetentionSeconds);
  });
});
