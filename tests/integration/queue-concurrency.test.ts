import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../functions/enter-queue/app.ts';
import type { QueueDefaults, QueueStore } from '../../shared/queue/queue-store.ts';
import { createQueueTokens } from '../../shared/queue/queue-tokens.ts';
import { createRedisQueueStore } from '../../shared/queue/redis-queue-store.ts';
import { createRedisRateLimiter } from '../../shared/rate-limit/redis-rate-limiter.ts';
import { bearer, httpOptions, manualClock, testTokens } from '../support/harness.ts';
import { realRedis, uniqueSuffix } from '../support/real-services.ts';

const connections: Redis[] = [];
beforeAll(async () => {
  for (let i = 0; i < 8; i++) connections.push(realRedis());
  await Promise.all(connections.map((r) => r.ping()));
});
afterAll(() => {
  for (const r of connections) r.disconnect();
});

const defaults: QueueDefaults = {
  maxActive: 100,
  admitPerSecond: 1000,
  activeTtlSeconds: 600,
  idleTimeoutSeconds: 300,
};
const t0 = 1_800_000_000_000;
let counter = 0;
const freshConcert = () => `${Date.now()}${String(++counter).padStart(4, '0')}`;

/** One store per connection, all on the same keys: as many replicas of the function would be. */
function replicas(d: QueueDefaults = defaults): QueueStore[] {
  const prefix = `qi${uniqueSuffix()}`;
  return connections.map((redis) => createRedisQueueStore(redis, d, { prefix }));
}

describe('queue under real concurrency (Redis, 8 connections)', () => {
  it('500 users entering at once: exactly maxActive ACTIVE, the rest WAITING at positions 1..400', async () => {
    const stores = replicas();
    const c = freshConcert();
    const views = await Promise.all(
      Array.from({ length: 500 }, (_, i) => stores[i % stores.length]!.enter(c, `u${i}`, t0)),
    );
    expect(views.filter((v) => v.state === 'ACTIVE')).toHaveLength(100);
    const positions = views.filter((v) => v.state === 'WAITING').map((v) => v.position);
    expect(positions).toHaveLength(400);
    expect([...positions].sort((a, b) => a - b)).toEqual(Array.from({ length: 400 }, (_, i) => i + 1));
    const seqs = views.filter((v) => v.state === 'WAITING').map((v) => v.seq);
    expect(new Set(seqs).size).toBe(400);
    expect(await stores[0]!.admit(c, t0)).toMatchObject({ active: 100, waiting: 400, admittedTotal: 100 });
  });

  it('one user entering from 20 connections at once holds one place', async () => {
    const stores = replicas({ ...defaults, maxActive: 1 });
    const c = freshConcert();
    await stores[0]!.enter(c, 'holder', t0);
    const views = await Promise.all(
      Array.from({ length: 20 }, (_, i) => stores[i % 8]!.enter(c, 'same', t0)),
    );
    // One place: the holder, admitted at once, took the first number of this millisecond.
    expect(new Set(views.map((v) => `${v.state}:${v.position}:${v.seq}`))).toEqual(
      new Set([`WAITING:1:${t0 * 1000 + 1}`]),
    );
    expect((await stores[0]!.admit(c, t0)).waiting).toBe(1);
  });

  it('when slots free, concurrent polls admit exactly that many, first in line first, each once', async () => {
    const stores = replicas();
    const c = freshConcert();
    const users = Array.from({ length: 400 }, (_, i) => `w${i}`);
    for (const [i, u] of users.entries()) await stores[i % 8]!.enter(c, u, t0);
    const firstActive = users.slice(0, 100);
    const inLine = users.slice(100);
    await Promise.all(firstActive.slice(0, 50).map((u, i) => stores[i % 8]!.release(c, u)));
    const polls = await Promise.all(inLine.map((u, i) => stores[i % 8]!.status(c, u, t0 + 1000)));
    const admitted = polls.flatMap((v) => v.admitted);
    expect(admitted).toHaveLength(50);
    expect(new Set(admitted).size).toBe(50);
    expect([...admitted].sort()).toEqual(inLine.slice(0, 50).sort());
    expect((await stores[0]!.admit(c, t0 + 1000)).active).toBe(100);
  });

  it('300 users registered before opensAt get a random permutation of places when everyone polls at once', async () => {
    const stores = replicas({ ...defaults, maxActive: 1 });
    const c = freshConcert();
    await stores[0]!.updateSettings(c, { opensAt: t0 + 60_000, paused: true });
    const users = Array.from({ length: 300 }, (_, i) => `p${i}`);
    await Promise.all(users.map((u, i) => stores[i % 8]!.enter(c, u, t0 + i)));
    const polls = await Promise.all(users.map((u, i) => stores[i % 8]!.status(c, u, t0 + 60_000)));
    const positions = polls.map((v) => v.position);
    expect(polls.every((v) => v.state === 'WAITING')).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    expect(positions).not.toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
  });

  it('through HTTP: 300 users at once get 100 ACTIVE with access tokens and 200 distinct places', async () => {
    const clock = manualClock(t0);
    const redis = connections[0]!;
    const app = createApp(
      {
        store: createRedisQueueStore(redis, defaults, { prefix: `qi${uniqueSuffix()}` }),
        tokens: createQueueTokens({ secret: 'queue-secret-that-is-long-enough-0123456789' }),
        clock,
        userTokens: testTokens(),
        rateLimiter: createRedisRateLimiter(redis, { perSecond: 10, burst: 20 }, `rl-qi-${uniqueSuffix()}`),
      },
      httpOptions(),
    );
    const c = freshConcert();
    const headers = await Promise.all(Array.from({ length: 300 }, (_, i) => bearer(`h${i}`)));
    const answers = await Promise.all(
      headers.map(async (h) => {
        const res = await app.request('/v1/queue/tokens', {
          method: 'POST',
          headers: { ...h, 'content-type': 'application/json' },
          body: JSON.stringify({ concertId: c }),
        });
        expect(res.status).toBe(201);
        return (await res.json()) as { status: string; position: number; accessToken?: string };
      }),
    );
    const active = answers.filter((a) => a.status === 'ACTIVE');
    expect(active).toHaveLength(100);
    expect(active.every((a) => typeof a.accessToken === 'string')).toBe(true);
    const places = answers.filter((a) => a.status === 'WAITING').map((a) => a.position);
    expect(new Set(places).size).toBe(200);
    expect(Math.max(...places)).toBe(200);
  });
});
