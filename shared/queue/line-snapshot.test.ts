import { beforeEach, describe, expect, it } from 'vitest';
import { manualClock } from '../../tests/support/harness.ts';
import { createLineSnapshots, type LineHolder, type LineSnapshots } from './line-snapshot.ts';
import { createMemoryQueueStore } from './memory-queue-store.ts';
import { lineReadCap, type QueueStore } from './queue-store.ts';

const defaults = { maxActive: 2, admitPerSecond: 100, activeTtlSeconds: 600, idleTimeoutSeconds: 30 };
const c = '1';

let clock: ReturnType<typeof manualClock>;
let store: QueueStore;
let activated: string[][];
let lines: LineSnapshots;
let holders: Map<string, LineHolder>;

function snapshots(over: { store?: QueueStore } = {}) {
  return createLineSnapshots({
    store: over.store ?? store,
    clock,
    tickMs: 500,
    maxAgeMs: 1000,
    idleMs: 30_000,
    timer: false,
    onActivated: (_, ids) => {
      activated.push(ids);
    },
  });
}

beforeEach(() => {
  clock = manualClock();
  store = createMemoryQueueStore(defaults);
  activated = [];
  lines = snapshots();
  holders = new Map();
});

async function enter(...users: string[]) {
  for (const userId of users) {
    const view = await store.enter(c, userId, clock.now());
    holders.set(userId, { concertId: c, userId, epoch: view.epoch, seq: view.seq });
  }
}

const placed = (userId: string, heldOpen = false) => {
  const lookup = lines.lookup(holders.get(userId)!, heldOpen);
  return lookup.kind === 'placed' ? [lookup.view.state, lookup.view.position] : lookup.kind;
};

/** Touches the concert so the snapshot reads it, then reads. */
async function read() {
  lines.lookup({ concertId: c, userId: '-', epoch: '', seq: 0 });
  await lines.readNow();
}

describe('line snapshot: where a waiting holder stands, from one read of the line', () => {
  it('places every waiting holder at the position the store gives, from one read', async () => {
    await enter('a', 'b', 'w1', 'w2', 'w3');
    await read();
    expect(['w1', 'w2', 'w3'].map((u) => placed(u))).toEqual([
      ['WAITING', 1],
      ['WAITING', 2],
      ['WAITING', 3],
    ]);
    for (const [i, u] of ['w1', 'w2', 'w3'].entries()) {
      expect((await store.status(c, u, clock.now())).position).toBe(i + 1);
    }
  });

  it('answers stale before the first read and once the last read is older than maxAgeMs', async () => {
    await enter('a', 'b', 'w1');
    expect(placed('w1')).toBe('stale');
    await lines.readNow();
    clock.advance(1000);
    expect(placed('w1')).toEqual(['WAITING', 1]);
    clock.advance(1);
    expect(placed('w1')).toBe('stale');
    await lines.readNow();
    expect(placed('w1')).toEqual(['WAITING', 1]);
  });

  it('moves with the frontier: the read admits, announces, and the admitted are no longer placed', async () => {
    await enter('a', 'b', 'w1', 'w2', 'w3');
    await read();
    await store.release(c, 'a');
    await lines.readNow();
    expect(activated).toEqual([['w1']]);
    expect(placed('w1')).toBe('unknown');
    expect(placed('w2')).toEqual(['WAITING', 1]);
    expect(placed('w3')).toEqual(['WAITING', 2]);
  });

  it('tells a stream (not a poll) of a user just admitted ACTIVE with the slot the admission gave', async () => {
    await enter('a', 'b', 'w1', 'w2');
    await read();
    await store.release(c, 'a');
    clock.advance(100);
    await lines.readNow();
    const stream = lines.lookup(holders.get('w1')!, true);
    expect(stream.kind === 'placed' && stream.view).toMatchObject({
      state: 'ACTIVE',
      activeUntil: clock.now() + 600_000,
      epoch: holders.get('w1')!.epoch,
    });
    expect(placed('w1')).toBe('unknown');
    // Admitted by this process outside the reads: the same, with the slot it was given.
    lines.admitted(c, ['w2'], clock.now() + 5000);
    const other = lines.lookup(holders.get('w2')!, true);
    expect(other.kind === 'placed' && other.view).toMatchObject({
      state: 'ACTIVE',
      activeUntil: clock.now() + 5000,
    });
    // Remembered for a few seconds only (every stream wakes within them); then the store says.
    for (let s = 0; s < 11; s++) {
      clock.advance(1000);
      await lines.readNow();
    }
    expect(placed('w1', true)).toBe('unknown');
  });

  it('reads the whole order again when someone left from the middle of the line', async () => {
    await enter('a', 'b', 'w1', 'w2', 'w3', 'w4');
    await read();
    // w2 stops polling; the others are kept alive by polls answered from the snapshot.
    for (let s = 0; s < 31; s++) {
      clock.advance(1000);
      for (const u of ['w1', 'w3', 'w4']) {
        expect(placed(u)).not.toBe('stale');
        lines.polled(c, u);
      }
      await lines.readNow();
    }
    expect(await store.counts(c, clock.now())).toMatchObject({ waiting: 3 });
    expect(placed('w2')).toBe('unknown');
    expect(['w1', 'w3', 'w4'].map((u) => placed(u))).toEqual([
      ['WAITING', 1],
      ['WAITING', 2],
      ['WAITING', 3],
    ]);
  });

  it('reads a line longer than one read over several ticks; beyond what was read it says stale', async () => {
    await enter('a', 'b');
    const n = lineReadCap + 10;
    for (let i = 0; i < n; i++) {
      const userId = `w${i}`;
      const view = await store.enter(c, userId, clock.now());
      if (i === 0 || i >= n - 2)
        holders.set(userId, { concertId: c, userId, epoch: view.epoch, seq: view.seq });
    }
    await read();
    expect(placed('w0')).toEqual(['WAITING', 1]);
    expect(placed(`w${n - 1}`)).toBe('stale');
    await lines.readNow();
    expect(placed(`w${n - 1}`)).toEqual(['WAITING', n]);
  });

  it('does not place a holder who entered after the read, until the next read', async () => {
    await enter('a', 'b', 'w1');
    await read();
    await enter('w2');
    expect(placed('w2')).toBe('unknown');
    await lines.readNow();
    expect(placed('w2')).toEqual(['WAITING', 2]);
  });

  it('does not place a user this process saw admitted after the read began', async () => {
    await enter('a', 'b', 'w1', 'w2');
    await read();
    lines.admitted(c, ['w1'], clock.now() + 600_000);
    expect(placed('w1')).toBe('unknown');
    expect(placed('w2')).toEqual(['WAITING', 2]);
    await lines.readNow();
    // Still waiting in the store (the note was about this process's view only): placed again.
    expect(placed('w1')).toEqual(['WAITING', 1]);
  });

  it('does not place a token of another incarnation of the line', async () => {
    await enter('a', 'b', 'w1');
    await read();
    expect(lines.lookup({ ...holders.get('w1')!, epoch: 'an-earlier-one' }).kind).toBe('unknown');
  });

  it('places a stream before the opening with the number registered, but leaves a poll to the store', async () => {
    await store.updateSettings(c, { opensAt: clock.now() + 60_000 });
    await enter('p1', 'p2');
    await read();
    expect(placed('p1', true)).toEqual(['PRE', 2]);
    expect(placed('p1')).toBe('unknown');
    const stream = lines.watch(c, 'p1');
    for (let s = 0; s < 60; s++) {
      clock.advance(1000);
      await lines.readNow();
    }
    stream.close();
    // p2 never polled and was dropped before the opening; p1's stream kept it, and the opening admitted it.
    expect(placed('p1', true)).toEqual(['ACTIVE', 0]);
    expect(placed('p1')).toBe('unknown');
  });

  it('says failed while reads fail, and keeps the heartbeats for the next read', async () => {
    await enter('a', 'b', 'w1', 'w2');
    let broken = false;
    const flaky: QueueStore = {
      ...store,
      line: (...args) => (broken ? Promise.reject(new Error('redis down')) : store.line(...args)),
    };
    lines = snapshots({ store: flaky });
    await read();
    clock.advance(29_000);
    lines.polled(c, 'w1');
    broken = true;
    await lines.readNow();
    expect(placed('w1')).toBe('failed');
    broken = false;
    clock.advance(2000);
    await lines.readNow();
    expect(placed('w1')).toEqual(['WAITING', 1]);
    expect(placed('w2')).toBe('unknown'); // idle: dropped by that read's admission step
  });

  it('invalidate reads again after a settings change', async () => {
    await enter('a', 'b', 'w1', 'w2');
    await read();
    await store.updateSettings(c, { maxActive: 3 });
    await lines.invalidate(c);
    expect(placed('w1')).toBe('unknown');
    expect(placed('w2')).toEqual(['WAITING', 1]);
    expect(activated).toEqual([['w1']]);
  });
});

describe('line snapshot: streams', () => {
  it('wakes every watcher on each read, and sends each one heartbeat per third of the idle timeout', async () => {
    await enter('a', 'b', 'w1', 'w2');
    const lineCalls: string[][] = [];
    const counting: QueueStore = {
      ...store,
      line: (concertId, now, after, polled) => {
        lineCalls.push(polled);
        return store.line(concertId, now, after, polled);
      },
    };
    lines = snapshots({ store: counting });
    const w1 = lines.watch(c, 'w1');
    const w2 = lines.watch(c, 'w2');
    let woken = 0;
    void w1.next().then(() => woken++);
    void w2.next().then(() => woken++);
    await lines.readNow();
    expect(woken).toBe(2);
    // Read 0 knows no idle timeout yet; then each beat waits 10 s.
    for (let s = 0; s < 40; s++) {
      clock.advance(1000);
      await lines.readNow();
    }
    expect(lineCalls).toHaveLength(41);
    expect(lineCalls.flat().filter((u) => u === 'w1')).toHaveLength(5);
    w1.close();
    w2.close();
    clock.advance(10_000);
    await lines.readNow();
    expect(lineCalls.at(-1)).toEqual([]);
    // Kept alive by the stream's heartbeats alone.
    expect(placed('w1')).toEqual(['WAITING', 1]);
  });

  it('stops reading a concert nobody streamed or polled for idleMs', async () => {
    await enter('a', 'b', 'w1');
    let reads = 0;
    const counting: QueueStore = {
      ...store,
      line: (...args) => {
        reads++;
        return store.line(...args);
      },
    };
    lines = snapshots({ store: counting });
    await read();
    clock.advance(30_000);
    await lines.readNow();
    clock.advance(1);
    await lines.readNow();
    expect(reads).toBe(2);
  });
});
