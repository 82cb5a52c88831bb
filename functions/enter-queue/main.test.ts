import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../shared/config.ts';
import { createHttpApp } from '../../shared/http/create-http-app.ts';
import { createMetrics } from '../../shared/metrics.ts';
import { queueStoreFor } from '../../shared/queue/for-runtime.ts';
import { createMemoryRateLimiter } from '../../shared/rate-limit/memory-rate-limiter.ts';
import type { Runtime } from '../../shared/runtime.ts';
import { manualClock, testTokens } from '../../tests/support/harness.ts';
import { mountWith } from './main.ts';

describe('enter-queue /metrics', () => {
  it('reads the queue gauges without admitting anyone, however often it is scraped', async () => {
    const clock = manualClock();
    const gaugeRefreshers: Runtime['gaugeRefreshers'] = [];
    const rt = {
      config: loadConfig({ QUEUE_MAX_ACTIVE: '1' }),
      redis: null,
      secrets: { authJwtSecret: 'x', queueTokenSecret: 'queue-secret-that-is-long-enough-0123456789' },
      clock,
      logger: pino({ level: 'silent' }),
      metrics: createMetrics(),
      userTokens: testTokens(),
      rateLimiter: createMemoryRateLimiter({ perSecond: 100, burst: 100 }),
      concertExists: async () => true,
      gaugeRefreshers,
    } as unknown as Runtime;
    const activated: string[] = [];
    const routes = mountWith({ onActivated: () => (_concert, ids) => void activated.push(...ids) })(rt);
    const app = createHttpApp({
      name: 'enter-queue',
      logger: rt.logger,
      metrics: rt.metrics,
      maxBodyBytes: 65_536,
      readiness: [],
      routes: [routes].flat(),
      beforeScrape: async () => {
        for (const refresh of gaugeRefreshers) await refresh();
      },
    });
    const store = queueStoreFor(rt);
    await store.enter('5', 'first', clock.now());
    await store.enter('5', 'second', clock.now());
    await store.enter('5', 'third', clock.now());
    // A free slot and budget for an admission: only a poll or the trigger may use them.
    await store.release('5', 'first');

    for (let i = 0; i < 5; i++) {
      clock.advance(2000);
      const res = await app.request('/metrics');
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(text).toMatch(/queue_active_users\{[^}]*concert="5"[^}]*\} 0\n/);
      expect(text).toMatch(/queue_waiting_users\{[^}]*concert="5"[^}]*\} 2\n/);
    }
    expect(await store.counts('5', clock.now())).toEqual({ waiting: 2, preRegistered: 0, active: 0 });
    expect(await store.activeUntil('5', 'second')).toBeNull();
    expect(activated).toEqual([]);
    // The trigger's step still admits the head of the line.
    expect((await store.admit('5', clock.now())).admitted).toEqual(['second']);
  });
});
