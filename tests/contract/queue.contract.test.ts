import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admissionRate, estimate } from '../../shared/queue/estimate.ts';
import { createMemoryQueueStore } from '../../shared/queue/memory-queue-store.ts';
import {
  type PreKeySource,
  type QueueDefaults,
  type QueueStore,
  seqPerMs,
} from '../../shared/queue/queue-store.ts';
import { createRedisQueueStore, queueKeys } from '../../shared/queue/redis-queue-store.ts';
import { realRedis, uniqueSuffix } from '../support/real-services.ts';

let redis: Redis;
beforeAll(() => {
  redis = realRedis();
});
afterAll(() => {
  redis.disconnect();
});

const defaults: QueueDefaults = {
  maxActive: 3,
  admitPerSecond: 100,
  activeTtlSeconds: 600,
  idleTimeoutSeconds: 300,
};
const t0 = 1_800_000_000_000;

interface Target {
  name: string;
  make(d?: QueueDefaults, preKey?: PreKeySource): QueueStore;
}

const targets: Target[] = [
  { name: 'in-process', make: (d = defaults, preKey) => createMemoryQueueStore(d, preKey ? { preKey } : {}) },
  {
    name: 'Redis Lua',
    make: (d = defaults, preKey) =>
      createRedisQueueStore(redis, d, { prefix: `qt${uniqueSuffix()}`, ...(preKey ? { preKey } : {}) }),
  },
];

let counter = 0;
/** A fresh decimal concert id per test: tests share the real Redis and never clean it. */
const freshConcert = () => `${Date.now()}${String(++counter).padStart(4, '0')}`;

const users = (n: number, prefix = 'u') => Array.from({ length: n }, (_, i) => `${prefix}${i + 1}`);

describe.each(targets)('queue store contract: $name', (target) => {
  it('admits newcomers at once while fewer than maxActive are active, then lines them up', async () => {
    const store = target.make();
    const c = freshConcert();
    const views = [];
    for (const u of users(5)) views.push(await store.enter(c, u, t0));
    expect(views.map((v) => v.state)).toEqual(['ACTIVE', 'ACTIVE', 'ACTIVE', 'WAITING', 'WAITING']);
    expect(views.map((v) => v.position)).toEqual([0, 0, 0, 1, 2]);
    expect(views[0]!.activeUntil).toBe(t0 + 600_000);
    expect(views[0]!.admitted).toEqual(['u1']);
    expect(views[3]!.admitted).toEqual([]);
    expect(views[4]!.seq).toBeGreaterThan(views[3]!.seq);
    expect(await store.activeUntil(c, 'u2')).toBe(t0 + 600_000);
    expect(await store.activeUntil(c, 'u4')).toBeNull();
    const snapshot = await store.admit(c, t0);
    expect(snapshot).toMatchObject({
      waiting: 2,
      active: 3,
      admittedTotal: 3,
      preRegistered: 0,
      admitted: [],
    });
  });

  it('admits waiting users in FIFO order as slots free', async () => {
    const store = target.make();
    const c = freshConcert();
    for (const u of users(7)) await store.enter(c, u, t0);
    expect(await store.release(c, 'u1')).toBe(true);
    expect(await store.release(c, 'u1')).toBe(false);
    // u6 polls: the step admits u4 (first in line), not u6.
    const u6 = await store.status(c, 'u6', t0 + 10);
    expect(u6.admitted).toEqual(['u4']);
    expect(u6).toMatchObject({ state: 'WAITING', position: 2 });
    await store.release(c, 'u2');
    await store.release(c, 'u3');
    const snapshot = await store.admit(c, t0 + 20);
    expect(snapshot.admitted).toEqual(['u5', 'u6']);
    expect((await store.status(c, 'u7', t0 + 20)).position).toBe(1);
    expect((await store.status(c, 'u4', t0 + 20)).state).toBe('ACTIVE');
  });

  it('does not let a newcomer pass waiting users, even with a slot free', async () => {
    const store = target.make({ ...defaults, maxActive: 1, admitPerSecond: 1 });
    const c = freshConcert();
    await store.enter(c, 'a', t0); // active, spends no budget
    await store.enter(c, 'b', t0); // waiting
    await store.enter(c, 'c', t0); // waiting
    await store.release(c, 'a');
    expect((await store.admit(c, t0)).admitted).toEqual(['b']); // the one token of budget
    await store.release(c, 'b');
    const late = await store.enter(c, 'd', t0 + 1); // slot free, budget spent, c waits: d queues behind c
    expect(late).toMatchObject({ state: 'WAITING', position: 2 });
    expect((await store.admit(c, t0 + 1000)).admitted).toEqual(['c']);
  });

  it('keeps one place per user, whatever the number of enters (also concurrent)', async () => {
    const store = target.make({ ...defaults, maxActive: 1 });
    const c = freshConcert();
    await store.enter(c, 'first', t0);
    const first = await store.enter(c, 'x', t0);
    const again = await store.enter(c, 'x', t0 + 5);
    expect(again).toMatchObject({ state: 'WAITING', position: first.position, seq: first.seq });
    const burst = await Promise.all(Array.from({ length: 30 }, () => store.enter(c, 'y', t0 + 6)));
    expect(new Set(burst.map((v) => `${v.state}:${v.position}:${v.seq}`)).size).toBe(1);
    expect(burst[0]).toMatchObject({ state: 'WAITING', position: 2 });
    expect((await store.admit(c, t0 + 6)).waiting).toBe(2);
    // An ACTIVE user entering again keeps the same slot and its end.
    const active = await store.enter(c, 'first', t0 + 7);
    expect(active).toMatchObject({ state: 'ACTIVE', activeUntil: t0 + 600_000 });
    expect((await store.admit(c, t0 + 7)).admittedTotal).toBe(1);
  });

  it('drops a waiting user who has not polled for idleTimeoutSeconds; polling keeps the place', async () => {
    const store = target.make({ ...defaults, maxActive: 1, idleTimeoutSeconds: 5 });
    const c = freshConcert();
    await store.enter(c, 'holder', t0);
    await store.enter(c, 'idle', t0);
    await store.enter(c, 'poller', t0);
    expect((await store.status(c, 'poller', t0 + 4000)).position).toBe(2);
    expect((await store.status(c, 'poller', t0 + 8000)).position).toBe(1); // idle dropped at t0 + 5000
    expect((await store.status(c, 'idle', t0 + 8000)).state).toBe('NONE');
    expect((await store.admit(c, t0 + 8000)).waiting).toBe(1);
    // Exactly at the timeout the place is gone; a moment before it is kept.
    await store.enter(c, 'edge', t0 + 8000);
    expect((await store.status(c, 'edge', t0 + 12_999)).state).toBe('WAITING');
    expect((await store.admit(c, t0 + 17_998)).waiting).toBe(1);
    expect((await store.admit(c, t0 + 17_999)).waiting).toBe(0);
    // Re-entering after the drop-out gives a new place at the end.
    const back = await store.enter(c, 'idle', t0 + 17_999);
    expect(back).toMatchObject({ state: 'WAITING', position: 1 });
  });

  it('ends ACTIVE access after activeTtlSeconds and gives the slot to the next in line', async () => {
    const store = target.make({ ...defaults, maxActive: 1, activeTtlSeconds: 10 });
    const c = freshConcert();
    await store.enter(c, 'a', t0);
    await store.enter(c, 'b', t0);
    expect((await store.status(c, 'a', t0 + 9999)).state).toBe('ACTIVE');
    const b = await store.status(c, 'b', t0 + 10_000);
    expect(b).toMatchObject({ state: 'ACTIVE', activeUntil: t0 + 20_000, admitted: ['b'] });
    expect((await store.status(c, 'a', t0 + 10_000)).state).toBe('NONE');
    expect(await store.activeUntil(c, 'a')).toBeNull();
  });

  it('frees the slot on release (payment): the next waiting user is admitted', async () => {
    const store = target.make({ ...defaults, maxActive: 1 });
    const c = freshConcert();
    await store.enter(c, 'payer', t0);
    await store.enter(c, 'next', t0);
    await store.release(c, 'payer');
    expect(await store.activeUntil(c, 'payer')).toBeNull();
    expect((await store.status(c, 'payer', t0 + 1)).state).toBe('NONE');
    expect((await store.status(c, 'next', t0 + 1)).state).toBe('ACTIVE');
  });

  it('admits at most admitPerSecond from the line (one second of budget, then the rate)', async () => {
    const store = target.make({ ...defaults, maxActive: 1 });
    const c = freshConcert();
    for (const u of users(200)) await store.enter(c, u, t0);
    await store.updateSettings(c, { maxActive: 1000, admitPerSecond: 5 });
    let admitted = 0;
    for (let ms = 0; ms <= 10_000; ms += 100) admitted += (await store.admit(c, t0 + 1 + ms)).admitted.length;
    expect(admitted).toBe(5 + 50);
    // Polling faster does not admit faster.
    const again = await store.admit(c, t0 + 1 + 10_000);
    expect(again.admitted).toEqual([]);
    expect(again.admittedTotal).toBe(1 + 55);
  });

  it('admits nobody while paused; newcomers then wait even with slots free', async () => {
    const store = target.make();
    const c = freshConcert();
    await store.updateSettings(c, { paused: true });
    const a = await store.enter(c, 'a', t0);
    // The view carries the flag: the status answer tells the waiting fan from it.
    expect(a).toMatchObject({ state: 'WAITING', position: 1, settings: { paused: true } });
    expect((await store.admit(c, t0 + 5000)).admitted).toEqual([]);
    expect((await store.settings(c)).paused).toBe(true);
    await store.updateSettings(c, { paused: false });
    expect(await store.status(c, 'a', t0 + 5001)).toMatchObject({
      state: 'ACTIVE',
      settings: { paused: false },
    });
  });

  it('places users who entered before opensAt in random order at the opening, later ones FIFO after them', async () => {
    const store = target.make({ ...defaults, maxActive: 1000 });
    const c = freshConcert();
    const opensAt = t0 + 60_000;
    await store.updateSettings(c, { opensAt, paused: true });
    const early = users(40, 'early');
    for (const [i, u] of early.entries()) {
      const view = await store.enter(c, u, t0 + i);
      expect(view).toMatchObject({ state: 'PRE', position: i + 1 });
    }
    expect((await store.status(c, 'early1', t0 + 59_000)).state).toBe('PRE');
    expect((await store.admit(c, t0 + 59_999)).preRegistered).toBe(40);

    const late1 = await store.enter(c, 'late1', opensAt);
    const late2 = await store.enter(c, 'late2', opensAt + 1);
    expect([late1.position, late2.position]).toEqual([41, 42]);
    const positions = new Map<string, number>();
    for (const u of early) {
      const view = await store.status(c, u, opensAt + 2);
      expect(view.state).toBe('WAITING');
      positions.set(u, view.position);
    }
    const order = [...positions.values()];
    expect([...order].sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(order).not.toEqual(Array.from({ length: 40 }, (_, i) => i + 1)); // 1 in 40! to fail by chance

    await store.updateSettings(c, { paused: false, opensAt: null });
    const snapshot = await store.admit(c, opensAt + 1000);
    const byPosition = [...positions].sort((a, b) => a[1] - b[1]).map(([u]) => u);
    expect(snapshot.admitted).toEqual([...byPosition, 'late1', 'late2'].slice(0, 100));
  });

  it('does not admit before opensAt, and opens with the first call after it', async () => {
    const store = target.make();
    const c = freshConcert();
    await store.updateSettings(c, { opensAt: t0 + 1000 });
    expect((await store.enter(c, 'a', t0)).state).toBe('PRE');
    expect((await store.admit(c, t0 + 999)).admitted).toEqual([]);
    const a = await store.status(c, 'a', t0 + 1000);
    expect(a).toMatchObject({ state: 'ACTIVE', admitted: ['a'] });
  });

  it('measures the admission rate for the ETA; falls back to maxActive / activeTtlSeconds before any', async () => {
    const store = target.make({ ...defaults, maxActive: 1, admitPerSecond: 2 });
    const c = freshConcert();
    for (const u of users(100)) await store.enter(c, u, t0);
    const before = await store.status(c, 'u50', t0);
    expect(before.rate.count).toBe(0);
    expect(admissionRate(before)).toBeCloseTo(1 / 600);
    await store.updateSettings(c, { maxActive: 1000 });
    for (let s = 1; s <= 20; s++) await store.admit(c, t0 + s * 1000);
    const after = await store.status(c, 'u90', t0 + 20_000);
    expect(after.rate.count).toBeGreaterThan(0);
    expect(after.rate.windowMs).toBeGreaterThanOrEqual(10_000);
    expect(after.rate.windowMs).toBeLessThan(20_000);
    expect(admissionRate(after)).toBeGreaterThan(1.5);
    expect(admissionRate(after)).toBeLessThanOrEqual(2);
    const eta = estimate(after, t0 + 20_000);
    expect(eta.etaSeconds).toBe(Math.ceil(after.position / admissionRate(after)));
    expect(eta.pollAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(eta.pollAfterSeconds).toBeLessThanOrEqual(30);
    // A minute without admissions: nothing measured any more.
    await store.updateSettings(c, { paused: true });
    expect((await store.status(c, 'u90', t0 + 80_000)).rate.count).toBe(0);
  });

  it('keeps settings per concert over the defaults; opensAt null clears it', async () => {
    const store = target.make();
    const c = freshConcert();
    const other = freshConcert();
    expect(await store.settings(c)).toEqual({ ...defaults, paused: false, opensAt: null });
    const updated = await store.updateSettings(c, { maxActive: 7, idleTimeoutSeconds: 60, opensAt: t0 });
    expect(updated).toEqual({
      ...defaults,
      maxActive: 7,
      idleTimeoutSeconds: 60,
      paused: false,
      opensAt: t0,
    });
    expect((await store.updateSettings(c, { opensAt: null })).opensAt).toBeNull();
    expect((await store.settings(other)).maxActive).toBe(3);
    await store.enter(other, 'u', t0);
    expect((await store.concerts()).sort()).toEqual([c, other].sort());
  });

  it('keeps admission settings beside the others: fixed by default, adaptive with bounds, null clears', async () => {
    const store = target.make();
    const c = freshConcert();
    const other = freshConcert();
    const fixed = {
      admission: 'fixed',
      minAdmitPerSecond: null,
      maxAdmitPerSecond: null,
      admissionChange: null,
      admissionReason: null,
      admissionChangedAt: null,
    };
    expect(await store.admission(c)).toEqual(fixed);
    const settings = await store.updateSettings(c, {
      admission: 'adaptive',
      minAdmitPerSecond: 5,
      maxAdmitPerSecond: 400,
      admitPerSecond: 20,
    });
    // The scripts' settings keep their shape; the rate they admit at is the one admitPerSecond.
    expect(settings).toEqual({ ...defaults, admitPerSecond: 20, paused: false, opensAt: null });
    await store.updateSettings(c, {
      admitPerSecond: 14,
      admissionChange: 'cut',
      admissionReason: 'cut: hold p99 180 ms > budget 100 ms',
      admissionChangedAt: t0,
    });
    expect(await store.admission(c)).toEqual({
      admission: 'adaptive',
      minAdmitPerSecond: 5,
      maxAdmitPerSecond: 400,
      admissionChange: 'cut',
      admissionReason: 'cut: hold p99 180 ms > budget 100 ms',
      admissionChangedAt: t0,
    });
    expect((await store.admit(c, t0)).settings.admitPerSecond).toBe(14);
    expect(await store.admission(other)).toEqual(fixed);
    await store.updateSettings(c, {
      admission: null,
      minAdmitPerSecond: null,
      maxAdmitPerSecond: null,
      admissionChange: null,
      admissionReason: null,
      admissionChangedAt: null,
    });
    expect(await store.admission(c)).toEqual(fixed);
    expect((await store.settings(c)).admitPerSecond).toBe(14);
  });

  it('counts the line without admitting or expiring anyone', async () => {
    const store = target.make({ ...defaults, maxActive: 2, activeTtlSeconds: 10 });
    const c = freshConcert();
    expect(await store.counts(c, t0)).toEqual({ waiting: 0, preRegistered: 0, active: 0 });
    for (const u of users(5)) await store.enter(c, u, t0);
    await store.release(c, 'u1');
    for (let i = 0; i < 3; i++) {
      expect(await store.counts(c, t0 + 1000)).toEqual({ waiting: 3, preRegistered: 0, active: 1 });
    }
    // A slot past its end is not counted, though only an admission step removes it.
    expect(await store.counts(c, t0 + 10_000)).toEqual({ waiting: 3, preRegistered: 0, active: 0 });
    expect((await store.admit(c, t0 + 1000)).admitted).toEqual(['u3']);
  });

  it('restores a place lost with the line at its own sequence, once, and an access until its end', async () => {
    const store = target.make();
    const c = freshConcert();
    await store.updateSettings(c, { paused: true });
    const a = await store.enter(c, 'a', t0);
    const b = await store.enter(c, 'b', t0 + 10);
    expect(a.epoch).not.toBe('');
    expect([a.seq >= t0 * seqPerMs, b.seq >= (t0 + 10) * seqPerMs]).toEqual([true, true]);
    // A claim of this incarnation lost its entry by the rules: nothing to restore.
    const same = { kind: 'access' as const, epoch: a.epoch, activeUntil: t0 + 600_000 };
    expect(await store.restore(c, 'x', same, t0 + 11)).toBe(false);
    expect(await store.restore(c, 'x', { kind: 'place', epoch: a.epoch, seq: a.seq + 1 }, t0 + 11)).toBe(
      false,
    );
    expect((await store.status(c, 'x', t0 + 11)).state).toBe('NONE');

    // Claims of a lost incarnation come back at their own places, ahead of anyone newer.
    const lost = 'an-earlier-incarnation';
    const ahead = (t0 + 5) * seqPerMs;
    const far = (t0 + 9_000_000) * seqPerMs;
    expect(await store.restore(c, 'p', { kind: 'place', epoch: lost, seq: far }, t0 + 12)).toBe(true);
    expect(await store.restore(c, 'q', { kind: 'place', epoch: lost, seq: ahead }, t0 + 12)).toBe(true);
    const positions = async (users: string[]) =>
      Promise.all(users.map(async (u) => (await store.status(c, u, t0 + 13)).position));
    expect(await positions(['a', 'q', 'b', 'p'])).toEqual([1, 2, 3, 4]);
    // The counter never hands out a number below a restored one.
    expect((await store.enter(c, 'newer', t0 + 14)).seq).toBeGreaterThan(far);
    expect(await positions(['p', 'newer'])).toEqual([4, 5]);
    // Once per incarnation and user: the same token gets nothing back a second time.
    expect(await store.restore(c, 'q', { kind: 'place', epoch: lost, seq: ahead }, t0 + 15)).toBe(false);

    // An access comes back until its end (not after), taking its holder out of the line.
    expect(
      await store.restore(c, 'p', { kind: 'access', epoch: lost, activeUntil: t0 + 9000 }, t0 + 16),
    ).toBe(true);
    expect(await store.activeUntil(c, 'p')).toBe(t0 + 9000);
    expect(await positions(['newer'])).toEqual([4]);
    expect(await store.restore(c, 'y', { kind: 'access', epoch: lost, activeUntil: t0 + 16 }, t0 + 16)).toBe(
      false,
    );
    expect(await store.epoch(c)).toBe(a.epoch);
  });

  it('journals every admission with its time until settled, whatever became of the answer', async () => {
    const store = target.make({ ...defaults, maxActive: 2 });
    const c = freshConcert();
    for (const u of users(4)) await store.enter(c, u, t0); // u1, u2 at once; u3, u4 wait
    await store.release(c, 'u1');
    await store.admit(c, t0 + 1000); // u3 from the line; its answer is dropped here
    const journal = await store.journaled(c, t0 + 1000, 10);
    expect(journal.map(({ userId, at }) => ({ userId, at }))).toEqual([
      { userId: 'u1', at: t0 },
      { userId: 'u2', at: t0 },
      { userId: 'u3', at: t0 + 1000 },
    ]);
    expect(new Set(journal.map((e) => e.id)).size).toBe(3);
    // Only entries up to `before`, oldest first, at most `limit`.
    expect((await store.journaled(c, t0 + 999, 10)).map((e) => e.userId)).toEqual(['u1', 'u2']);
    expect((await store.journaled(c, t0 + 1000, 1)).map((e) => e.userId)).toEqual(['u1']);

    await store.settleJournal(c, [journal[0]!.id, journal[2]!.id]);
    expect((await store.journaled(c, t0 + 1000, 10)).map((e) => e.userId)).toEqual(['u2']);
    await store.settleJournal(c, [journal[0]!.id]); // settling twice is harmless
    expect(await store.journaled(freshConcert(), t0, 10)).toEqual([]);
  });

  it('answers NONE for a user or a concert it does not know', async () => {
    const store = target.make();
    const c = freshConcert();
    expect((await store.status(c, 'ghost', t0)).state).toBe('NONE');
    await store.enter(c, 'someone', t0);
    expect((await store.status(c, 'ghost', t0)).state).toBe('NONE');
    expect(await store.release(c, 'ghost')).toBe(false);
  });
});

describe('queue stores agree step by step', () => {
  /** A small deterministic PRNG, so a failure is reproducible from its seed. */
  function mulberry32(seed: number) {
    let a = seed;
    return () => {
      a = (a + 0x6d2b79f5) | 0;
      let t = Math.imul(a ^ (a >>> 15), 1 | a);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  it.each([1, 2, 3, 4])(
    'replays the same random script on both stores with the same results (seed %i)',
    async (seed) => {
      const d: QueueDefaults = {
        maxActive: 4,
        admitPerSecond: 3,
        activeTtlSeconds: 20,
        idleTimeoutSeconds: 8,
      };
      let keyA = 0;
      let keyB = 0;
      let epochA = 0;
      let epochB = 0;
      const memory = createMemoryQueueStore(d, {
        preKey: () => (keyA = (keyA * 7919 + 13) % 100_003),
        newEpoch: () => `e${++epochA}`,
      });
      const real = createRedisQueueStore(redis, d, {
        prefix: `qt${uniqueSuffix()}`,
        preKey: () => (keyB = (keyB * 7919 + 13) % 100_003),
        newEpoch: () => `e${++epochB}`,
      });
      const c = freshConcert();
      const random = mulberry32(seed);
      const pick = () => `p${Math.floor(random() * 25)}`;
      const seen = new Set<string>();
      let now = t0;
      for (let i = 0; i < 600; i++) {
        now += Math.floor(random() * 900);
        const r = random();
        let a: unknown;
        let b: unknown;
        if (r < 0.35) {
          const u = pick();
          const view = await memory.enter(c, u, now);
          [a, b] = [view, await real.enter(c, u, now)];
          seen.add(view.state);
        } else if (r < 0.7) {
          const u = pick();
          const view = await memory.status(c, u, now);
          [a, b] = [view, await real.status(c, u, now)];
          seen.add(view.state);
          if (view.admitted.length > 0) seen.add('admitted');
        } else if (r < 0.8) {
          [a, b] = [await memory.admit(c, now), await real.admit(c, now)];
        } else if (r < 0.88) {
          const u = pick();
          [a, b] = [await memory.release(c, u), await real.release(c, u)];
        } else if (r < 0.9) {
          const u = pick();
          [a, b] = [await memory.activeUntil(c, u), await real.activeUntil(c, u)];
        } else if (r < 0.92) {
          // A token of a lost incarnation (e0) or of this one, for a place or an access.
          const u = pick();
          const epoch = random() < 0.8 ? 'e0' : 'e1';
          const claim =
            random() < 0.6
              ? {
                  kind: 'place' as const,
                  epoch,
                  seq: random() < 0.2 ? 0 : now * 1000 - Math.floor(random() * 9e6),
                }
              : { kind: 'access' as const, epoch, activeUntil: now + Math.floor(random() * 20_000) - 5000 };
          const restored = await memory.restore(c, u, claim, now);
          [a, b] = [restored, await real.restore(c, u, claim, now)];
          if (restored) seen.add('restored');
        } else {
          const patch =
            r < 0.94
              ? { paused: random() < 0.3 }
              : r < 0.96
                ? { opensAt: random() < 0.5 ? null : now + Math.floor(random() * 5000) }
                : { maxActive: 1 + Math.floor(random() * 6), admitPerSecond: 1 + Math.floor(random() * 4) };
          [a, b] = [await memory.updateSettings(c, patch), await real.updateSettings(c, patch)];
        }
        expect(b, `step ${i} at ${now - t0} ms`).toEqual(a);
      }
      // The script did reach every state, so the agreement means something.
      expect([...seen].sort()).toEqual(['ACTIVE', 'NONE', 'PRE', 'WAITING', 'admitted', 'restored']);
    },
  );
});

describe('Redis queue store specifics', () => {
  it('keeps every key of a concert in one cluster slot (hash tag)', () => {
    const keys = queueKeys('42', 'q');
    expect(keys.every((k) => k.startsWith('q:{42}:'))).toBe(true);
  });

  it('writes nothing for a status call on a concert without a queue', async () => {
    const prefix = `qt${uniqueSuffix()}`;
    const store = createRedisQueueStore(redis, defaults, { prefix });
    const c = freshConcert();
    await store.status(c, 'nobody', t0);
    await store.admit(c, t0);
    expect(await redis.exists(...queueKeys(c, prefix))).toBe(0);
  });

  it('survives a flushed script cache (called by SHA, reloaded once)', async () => {
    const store = createRedisQueueStore(redis, defaults, { prefix: `qt${uniqueSuffix()}` });
    const c = freshConcert();
    await store.enter(c, 'a', t0);
    await redis.script('FLUSH');
    expect((await store.status(c, 'a', t0)).state).toBe('ACTIVE');
    expect((await store.enter(c, 'b', t0)).state).toBe('ACTIVE');
    expect((await store.admit(c, t0)).active).toBe(2);
  });
});
