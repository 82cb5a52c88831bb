import type { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultAimdConfig } from '../../shared/admission/aimd.ts';
import { createHealthPublisher } from '../../shared/admission/for-runtime.ts';
import { createRedisHealthBoard, readShopHealth } from '../../shared/admission/health-board.ts';
import { createHealthRecorder } from '../../shared/admission/shop-health.ts';
import { createMetrics } from '../../shared/metrics.ts';
import { createRedisQueueStore } from '../../shared/queue/redis-queue-store.ts';
import { admitAll } from '../../triggers/admit-queue/use-cases.ts';
import { manualClock } from '../support/harness.ts';
import { realRedis, uniqueSuffix } from '../support/real-services.ts';

let redis: Redis;
beforeAll(() => {
  redis = realRedis();
});
afterAll(() => {
  redis.disconnect();
});

describe('adaptive admission on real Redis', () => {
  it('cuts the rate when hold and pay pods report trouble, and raises it again once they are healthy', async () => {
    const clock = manualClock();
    const suffix = uniqueSuffix();
    const store = createRedisQueueStore(
      redis,
      { maxActive: 2, admitPerSecond: 10, activeTtlSeconds: 600, idleTimeoutSeconds: 300 },
      { prefix: `qa${suffix}` },
    );
    const board = createRedisHealthBoard(redis, `health${suffix}`);
    // Two serving processes (a hold-seat pod and a pay pod), each publishing its own counts.
    const holdPod = createHealthPublisher({
      recorder: createHealthRecorder(),
      board,
      clock,
      intervalMs: 60_000,
    });
    const payPod = createHealthPublisher({
      recorder: createHealthRecorder(),
      board,
      clock,
      intervalMs: 60_000,
    });
    const metrics = createMetrics();
    const deps = {
      store,
      clock,
      metrics,
      logger: pino({ level: 'silent' }),
      adaptive: { board, config: defaultAimdConfig, windowSeconds: 5 },
    };
    const concert = '4242';
    for (let i = 0; i < 20; i++) await store.enter(concert, `fan${i}`, clock.now());
    await store.updateSettings(concert, {
      admission: 'adaptive',
      minAdmitPerSecond: 5,
      maxAdmitPerSecond: 105,
      admitPerSecond: 50,
    });

    for (let i = 0; i < 40; i++) holdPod.record('hold', 600, 201);
    for (let i = 0; i < 30; i++) payPod.record('pay', 80, i < 2 ? 503 : 201);
    await Promise.all([holdPod.flush(), payPod.flush()]);
    clock.advance(1000);
    const health = await readShopHealth(board, clock.now(), 5);
    expect(health).toMatchObject({ hold: { count: 40 }, pay: { count: 30 }, unavailable: 2 });

    await admitAll(deps);
    expect((await store.settings(concert)).admitPerSecond).toBe(35);
    expect(await store.admission(concert)).toMatchObject({
      admissionChange: 'cut',
      admissionReason: 'cut: 2 × 503 in 5 s, hold p99 653 ms > budget 250 ms',
      admissionChangedAt: clock.now(),
    });
    // Still in trouble a second later: no second cut until the first has had its cooldown.
    clock.advance(1000);
    await admitAll(deps);
    expect((await store.settings(concert)).admitPerSecond).toBe(35);

    // The trouble has left the window, and the pods now report fast holds and payments.
    clock.advance(5000);
    for (let i = 0; i < 40; i++) holdPod.record('hold', 20, 201);
    for (let i = 0; i < 40; i++) payPod.record('pay', 30, 201);
    await Promise.all([holdPod.flush(), payPod.flush()]);
    clock.advance(1000);
    await admitAll(deps);
    expect((await store.settings(concert)).admitPerSecond).toBe(40);
    expect((await store.admission(concert)).admissionReason).toBe(
      'raised: healthy, hold p99 21 ms, pay p99 31 ms',
    );
    const exported = await metrics.registry.metrics();
    expect(exported).toContain(`queue_admit_per_second{concert="${concert}"} 40`);
    expect(exported).toContain(`queue_admission_changes_total{concert="${concert}",change="raise"} 1`);
    expect(exported).toContain(`queue_admission_changes_total{concert="${concert}",change="cut"} 1`);
  });
});
