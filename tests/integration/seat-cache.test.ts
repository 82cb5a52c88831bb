import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRedis } from '../../shared/redis/client.ts';
import {
  createRedisSeatCache,
  followSeatInvalidations,
  localSeatMapMs,
  seatInvalidationChannel,
} from '../../shared/seats/seat-cache.ts';
import { waitFor } from '../support/events-fixture.ts';
import { manualClock } from '../support/harness.ts';
import { serviceUrls, uniqueSuffix } from '../support/real-services.ts';

/**
 * The per-process seat maps in front of Redis: what bounds their age, and how another process's
 * invalidation reaches them. Two caches on one Redis namespace stand for two processes; each process's
 * clock is a manual one, so nothing here depends on how fast the machine is.
 */
describe('seat cache: per-process copies in front of Redis', () => {
  let prefix: string;
  let clients: Redis[];
  const client = () => {
    const redis = createRedis({ url: serviceUrls().redisUrl, commandTimeoutMs: 2000, keyPrefix: prefix });
    clients.push(redis);
    return redis;
  };
  beforeEach(() => {
    prefix = `seat-cache-${uniqueSuffix()}:`;
    clients = [];
  });
  afterEach(() => {
    for (const redis of clients) redis.disconnect();
  });

  it('serves its copy without Redis for localSeatMapMs, then reads Redis again', async () => {
    const clock = manualClock();
    const redis = client();
    const cache = createRedisSeatCache(redis, { now: () => clock.now() });
    await cache.set('7', 'v1', 60_000);
    // Another writer replaces the shared copy without an invalidation (a lost message).
    await redis.set('seats:{7}', 'v2');
    expect(await cache.get('7')).toBe('v1');
    clock.advance(localSeatMapMs - 1);
    expect(await cache.get('7')).toBe('v1');
    clock.advance(1);
    expect(await cache.get('7')).toBe('v2');
  });

  it('keeps a copy no longer than the TTL it was set with', async () => {
    const clock = manualClock();
    const redis = client();
    const cache = createRedisSeatCache(redis, { now: () => clock.now() });
    await cache.set('7', 'v1', 300);
    await redis.set('seats:{7}', 'v2');
    clock.advance(299);
    expect(await cache.get('7')).toBe('v1');
    clock.advance(1);
    expect(await cache.get('7')).toBe('v2');
  });

  it('an invalidation drops the copies of the other processes through pub/sub, and the shared one', async () => {
    const clock = manualClock();
    const [a, b] = [client(), client()];
    const first = createRedisSeatCache(a, { now: () => clock.now() });
    const second = createRedisSeatCache(b, { now: () => clock.now() });
    const subscriber = b.duplicate();
    clients.push(subscriber);
    const stop = await followSeatInvalidations(subscriber, seatInvalidationChannel(b), second);

    await first.set('7', 'v1', 60_000);
    expect(await second.get('7')).toBe('v1');
    await first.invalidate('7');
    expect(await a.get('seats:{7}')).toBeNull();
    expect(await first.get('7')).toBeNull();
    // The clock stands still: only the message can make the second process let go of its copy.
    await waitFor(async () => (await second.get('7')) === null, 10_000, 'the invalidation to arrive');

    await stop();
    await first.set('7', 'v3', 60_000);
    expect(await second.get('7')).toBe('v3');
  });

  it('publishes an invalidation only when there was a shared copy to drop', async () => {
    const redis = client();
    const cache = createRedisSeatCache(redis);
    const listener = redis.duplicate();
    clients.push(listener);
    const heard: string[] = [];
    listener.on('message', (_channel: string, id: string) => void heard.push(id));
    await listener.subscribe(seatInvalidationChannel(redis));
    await cache.invalidate('8');
    await cache.set('9', 'v1', 60_000);
    await cache.invalidate('9');
    // Messages of one publisher arrive in order: a message for 8 would have come first.
    await waitFor(() => heard.length > 0, 10_000, 'the message for 9');
    expect(heard).toEqual(['9']);
  });

  it('starts following invalidations when it keeps its first copy, once', async () => {
    const redis = client();
    let follows = 0;
    const cache = createRedisSeatCache(redis, { follow: () => void follows++ });
    await cache.invalidate('7');
    expect(await cache.get('7')).toBeNull();
    expect(follows).toBe(0);
    await cache.set('7', 'v1', 60_000);
    await cache.set('8', 'v1', 60_000);
    expect(await cache.get('7')).toBe('v1');
    expect(follows).toBe(1);
  });

  it('an answer that crossed an invalidation on its way from Redis is not kept', async () => {
    const clock = manualClock();
    const redis = client();
    const cache = createRedisSeatCache(redis, { now: () => clock.now() });
    await redis.set('seats:{7}', 'old');
    const reading = cache.get('7');
    const dropped = cache.invalidate('7');
    expect(await reading).toBe('old');
    await dropped;
    await redis.set('seats:{7}', 'new');
    expect(await cache.get('7')).toBe('new');
  });

  it('concurrent misses of one schedule share one Redis read', async () => {
    const redis = client();
    const cache = createRedisSeatCache(redis, { now: () => 0 });
    await redis.set('seats:{7}', 'v1');
    const reads = Array.from({ length: 50 }, () => cache.get('7'));
    expect(new Set(reads).size).toBe(1);
    expect(await Promise.all(reads)).toEqual(Array(50).fill('v1'));
  });
});
