import { describe, expect, it } from 'vitest';
import { createHeartbeats } from './heartbeats.ts';
import { createMemoryQueueStore } from './memory-queue-store.ts';
import type { QueueStore } from './queue-store.ts';

const t0 = 1_800_000_000_000;
const defaults = { maxActive: 1, admitPerSecond: 100, activeTtlSeconds: 600, idleTimeoutSeconds: 5 };

/** A line with one ACTIVE holder and the given users WAITING behind, all entered at t0. */
async function line(...waiting: string[]) {
  const store = createMemoryQueueStore(defaults);
  for (const user of ['holder', ...waiting]) await store.enter('1', user, t0);
  return store;
}

/** The real store, with every touch it receives written down. */
function recorded(store: QueueStore) {
  const calls: Array<{ concertId: string; users: string[]; now: number }> = [];
  const touch: QueueStore['touch'] = (concertId, users, now) => {
    calls.push({ concertId, users: [...users], now });
    return store.touch(concertId, users, now);
  };
  return { calls, touch };
}

describe('batched heartbeats', () => {
  it('writes every beat since the last flush once, at the flush time, and keeps only those places', async () => {
    const store = await line('a', 'b');
    let now = t0 + 1000;
    const { calls, touch } = recorded(store);
    const beats = createHeartbeats({ touch }, { now: () => now });
    beats.beat('1', 'a');
    beats.beat('1', 'a');
    expect(beats.pending).toBe(1);
    now = t0 + 4000;
    await beats.flush();
    expect(calls).toEqual([{ concertId: '1', users: ['a'], now: t0 + 4000 }]);
    expect(beats.pending).toBe(0);
    await beats.flush();
    expect(calls).toHaveLength(1);
    // b's last poll is t0 (idle at t0 + 5000); a's reached the line as t0 + 4000.
    expect((await store.admit('1', t0 + 5000)).waiting).toBe(1);
    expect((await store.status('1', 'a', t0 + 8999)).state).toBe('WAITING');
    expect((await store.status('1', 'b', t0 + 5000)).state).toBe('NONE');
    await beats.close();
  });

  it('never puts back a user who left the line, nor moves a poll back', async () => {
    const store = await line('a', 'b');
    let now = t0 + 6000;
    const beats = createHeartbeats(store, { now: () => now });
    // a and b dropped as idle at t0 + 5000: a beat written after that does not bring them back.
    expect((await store.admit('1', t0 + 6000)).waiting).toBe(0);
    beats.beat('1', 'a');
    beats.beat('2', 'a');
    await beats.flush();
    expect((await store.status('1', 'a', now)).state).toBe('NONE');
    expect((await store.status('2', 'a', now)).state).toBe('NONE');
    // c polled at t0 + 7000 itself; a flush stamped earlier leaves that poll alone.
    await store.enter('1', 'c', t0 + 7000);
    now = t0 + 6500;
    beats.beat('1', 'c');
    await beats.flush();
    expect((await store.admit('1', t0 + 11_999)).waiting).toBe(1);
    expect((await store.admit('1', t0 + 12_000)).waiting).toBe(0);
    await beats.close();
  });

  it('splits a concert into commands of maxPerCommand users, one set of commands per concert', async () => {
    const store = await line('a', 'b', 'c');
    const { calls, touch } = recorded(store);
    const beats = createHeartbeats({ touch }, { now: () => t0 + 1 }, { maxPerCommand: 2 });
    for (const user of ['a', 'b', 'c']) beats.beat('1', user);
    beats.beat('9', 'z');
    await beats.flush();
    expect(calls.map((c) => `${c.concertId}:${c.users.join(',')}`)).toEqual(['1:a,b', '1:c', '9:z']);
    await beats.close();
  });

  it('keeps the users of a failed write for the next flush', async () => {
    const store = await line('a', 'b');
    let failures = 1;
    const touch: QueueStore['touch'] = async (concertId, users, now) => {
      if (failures-- > 0) throw new Error('redis down');
      await store.touch(concertId, users, now);
    };
    const beats = createHeartbeats({ touch }, { now: () => t0 + 4000 });
    beats.beat('1', 'a');
    await beats.flush();
    expect(beats.pending).toBe(1);
    beats.beat('1', 'b');
    await beats.close();
    expect(beats.pending).toBe(0);
    expect((await store.admit('1', t0 + 8999)).waiting).toBe(2);
    expect((await store.admit('1', t0 + 9000)).waiting).toBe(0);
  });
});
