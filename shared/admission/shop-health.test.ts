import { describe, expect, it } from 'vitest';
import { manualClock } from '../../tests/support/harness.ts';
import { createHealthPublisher } from './for-runtime.ts';
import { createMemoryHealthBoard, readShopHealth } from './health-board.ts';
import { bucketOf, bucketUpperMs, createHealthRecorder, summarize } from './shop-health.ts';

describe('shop health counts', () => {
  it('puts a latency in a bucket whose upper bound is at most 10% above it', () => {
    for (const ms of [0, 0.5, 1, 1.05, 7, 99, 100, 180, 250, 4999]) {
      const upper = bucketUpperMs(bucketOf(ms));
      expect(upper).toBeGreaterThanOrEqual(ms);
      expect(upper).toBeLessThanOrEqual(Math.max(1, ms * 1.1));
    }
  });

  it('reads p99, 503s and pool saturation from the counts of several processes added up', () => {
    let pool = { total: 10, idle: 0, waiting: 5, limit: 10 };
    const a = createHealthRecorder(() => pool);
    const b = createHealthRecorder();
    for (let i = 0; i < 99; i++) a.record('hold', 10, 201);
    b.record('hold', 180, 503);
    pool = { total: 10, idle: 5, waiting: 0, limit: 10 };
    a.record('pay', 40, 201);
    const merged = { ...a.take() };
    for (const [field, n] of Object.entries(b.take() ?? {})) merged[field] = (merged[field] ?? 0) + n;
    const health = summarize(merged, 5);
    expect(health.hold.count).toBe(100);
    expect(health.hold.p99Ms).toBe(11);
    expect(health.pay).toEqual({ count: 1, p99Ms: 41 });
    expect(health.unavailable).toBe(1);
    // (10 + 5) / 10 on 99 requests, 5 / 10 on one.
    expect(health.poolSaturation).toBeCloseTo((99 * 1.5 + 0.5) / 100, 3);
    expect(a.take()).toBeNull();
  });

  it('takes p99 as the latency 99% of requests do not exceed', () => {
    // Of 101 requests the 100th fastest is the first slow one.
    const c = createHealthRecorder();
    for (let i = 0; i < 99; i++) c.record('hold', 10, 201);
    c.record('hold', 180, 201);
    c.record('hold', 180, 201);
    expect(summarize(c.take() ?? {}, 5).hold.p99Ms).toBe(Math.round(bucketUpperMs(bucketOf(180))));
    expect(Math.round(bucketUpperMs(bucketOf(180)))).toBeGreaterThanOrEqual(180);
  });

  it('says nothing about latency, and no pool, when nothing was recorded', () => {
    expect(summarize({}, 5)).toEqual({
      windowSeconds: 5,
      hold: { count: 0, p99Ms: null },
      pay: { count: 0, p99Ms: null },
      unavailable: 0,
      poolSaturation: null,
    });
  });
});

describe('health publisher and board', () => {
  it('publishes a second at a time and reads only whole seconds of the window', async () => {
    const clock = manualClock(1_800_000_000_000);
    const board = createMemoryHealthBoard();
    const publisher = createHealthPublisher({
      recorder: createHealthRecorder(),
      board,
      clock,
      intervalMs: 60_000,
    });
    publisher.record('hold', 300, 503);
    await publisher.flush();
    clock.advance(1000);
    publisher.record('hold', 5, 201);
    await publisher.flush();
    expect((await readShopHealth(board, clock.now(), 5)).unavailable).toBe(1);
    expect((await readShopHealth(board, clock.now(), 5)).hold.count).toBe(1);
    clock.advance(1000);
    expect((await readShopHealth(board, clock.now(), 5)).hold.count).toBe(2);
    clock.advance(4000);
    expect((await readShopHealth(board, clock.now(), 5)).hold.count).toBe(1);
    clock.advance(1000);
    expect((await readShopHealth(board, clock.now(), 5)).hold.count).toBe(0);
    // Nothing recorded: the flush stops the timer instead of writing.
    await publisher.flush();
  });
});
