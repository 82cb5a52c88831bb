import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryQueueStore } from '../../shared/queue/memory-queue-store.ts';
import type { QueueDefaults, QueueStore } from '../../shared/queue/queue-store.ts';
import { createRedisQueueStore } from '../../shared/queue/redis-queue-store.ts';
import { realRedis, uniqueSuffix } from '../support/real-services.ts';

let redis: Redis;
beforeAll(() => {
  redis = realRedis();
});
afterAll(() => {
  redis.disconnect();
});

const defaults: QueueDefaults = {
  maxActive: 2,
  admitPerSecond: 100,
  activeTtlSeconds: 600,
  idleTimeoutSeconds: 300,
};
const t0 = 1_800_000_000_000;

const targets: Array<{ name: string; make(): QueueStore }> = [
  { name: 'in-process', make: () => createMemoryQueueStore(defaults) },
  {
    name: 'Redis Lua',
    make: () => createRedisQueueStore(redis, defaults, { prefix: `ql${uniqueSuffix()}` }),
  },
];

let counter = 0;
const freshConcert = () => `${Date.now()}${String(++counter).padStart(4, '0')}`;

describe.each(targets)('queue store contract, the snapshot read (line): $name', (target) => {
  it('reads the frontier, the counts and the waiting sequence numbers above afterSeq, in order', async () => {
    const store = target.make();
    const c = freshConcert();
    const seqs: number[] = [];
    for (const u of ['u1', 'u2', 'u3', 'u4', 'u5']) seqs.push((await store.enter(c, u, t0)).seq);
    const waiting = seqs.slice(2);
    const all = await store.line(c, t0, 0, []);
    expect(all).toMatchObject({ waiting: 3, active: 2, preRegistered: 0, admitted: [], head: waiting[0] });
    expect(all.tail).toEqual(waiting);
    expect(all.epoch).not.toBe('');
    expect(all.epoch).toBe(await store.epoch(c));
    expect((await store.line(c, t0, waiting[0]!, [])).tail).toEqual(waiting.slice(1));
    expect((await store.line(c, t0, waiting[2]!, [])).tail).toEqual([]);
  });

  it('runs the admission step: a freed slot moves the frontier, and the admitted are returned', async () => {
    const store = target.make();
    const c = freshConcert();
    const seqs: number[] = [];
    for (const u of ['u1', 'u2', 'u3', 'u4']) seqs.push((await store.enter(c, u, t0)).seq);
    await store.release(c, 'u1');
    const read = await store.line(c, t0 + 1000, 0, []);
    expect(read).toMatchObject({ waiting: 1, active: 2, admittedTotal: 3, admitted: ['u3'], head: seqs[3] });
    expect(read.tail).toEqual([seqs[3]]);
    expect((await store.status(c, 'u3', t0 + 1000)).state).toBe('ACTIVE');
    await store.release(c, 'u2');
    expect(await store.line(c, t0 + 2000, 0, [])).toMatchObject({
      waiting: 0,
      head: 0,
      tail: [],
      admitted: ['u4'],
    });
  });

  it('counts the polls it is given for waiting users only, so they are not dropped as idle', async () => {
    const store = target.make();
    const c = freshConcert();
    for (const u of ['u1', 'u2', 'u3', 'u4']) await store.enter(c, u, t0);
    await store.line(c, t0 + 200_000, 0, ['u3', 'u1', 'ghost']);
    // u4 last polled at t0 and is dropped; u3's heartbeat came with the read.
    const read = await store.line(c, t0 + 301_000, 0, []);
    expect(read.waiting).toBe(1);
    expect((await store.status(c, 'u3', t0 + 301_000)).state).toBe('WAITING');
    expect((await store.status(c, 'u4', t0 + 301_000)).state).toBe('NONE');
    expect((await store.status(c, 'ghost', t0 + 301_000)).state).toBe('NONE');
    expect((await store.status(c, 'u1', t0 + 301_000)).state).toBe('ACTIVE');
  });

  it('never moves a heartbeat back in time', async () => {
    const store = target.make();
    const c = freshConcert();
    for (const u of ['u1', 'u2', 'u3']) await store.enter(c, u, t0);
    await store.status(c, 'u3', t0 + 250_000);
    await store.line(c, t0 + 100_000, 0, ['u3']);
    expect((await store.line(c, t0 + 301_000, 0, [])).waiting).toBe(1);
  });

  it('reads a line before the opening as pre-registered, with no frontier', async () => {
    const store = target.make();
    const c = freshConcert();
    await store.updateSettings(c, { opensAt: t0 + 60_000 });
    for (const u of ['u1', 'u2']) await store.enter(c, u, t0);
    expect(await store.line(c, t0, 0, [])).toMatchObject({ waiting: 0, preRegistered: 2, head: 0, tail: [] });
    const opened = await store.line(c, t0 + 60_000, 0, []);
    expect(opened).toMatchObject({ preRegistered: 0, active: 2, admitted: expect.any(Array) });
  });
});
