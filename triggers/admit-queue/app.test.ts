import { pino } from 'pino';
import { beforeEach, describe, expect, it } from 'vitest';
import { defaultAimdConfig } from '../../shared/admission/aimd.ts';
import { createMemoryHealthBoard, type HealthBoard } from '../../shared/admission/health-board.ts';
import { createHealthRecorder } from '../../shared/admission/shop-health.ts';
import { loadConfig } from '../../shared/config.ts';
import { createMetrics } from '../../shared/metrics.ts';
import { journalGraceMs } from '../../shared/queue/activation-journal.ts';
import { queueStoreFor } from '../../shared/queue/for-runtime.ts';
import { createMemoryQueueStore } from '../../shared/queue/memory-queue-store.ts';
import type { QueueStore } from '../../shared/queue/queue-store.ts';
import type { Runtime } from '../../shared/runtime.ts';
import { httpOptions, manualClock } from '../../tests/support/harness.ts';
import { createApp } from './app.ts';
import { startAdmitScheduler } from './main.ts';
import { admitAll } from './use-cases.ts';

const defaults = { maxActive: 1, admitPerSecond: 10, activeTtlSeconds: 600, idleTimeoutSeconds: 30 };

let clock: ReturnType<typeof manualClock>;
let store: QueueStore;
let activated: [string, string[]][];

beforeEach(() => {
  clock = manualClock();
  store = createMemoryQueueStore(defaults);
  activated = [];
});

/** Two concerts, each with one ACTIVE user whose slot is then released and one user waiting. */
async function twoLines() {
  for (const concert of ['1', '2']) {
    await store.enter(concert, `first-${concert}`, clock.now());
    await store.enter(concert, `next-${concert}`, clock.now());
    await store.release(concert, `first-${concert}`);
  }
}

describe('admit-queue', () => {
  it('runs the admission step for every concert and reports who became ACTIVE', async () => {
    await twoLines();
    const summary = await admitAll({
      store,
      clock,
      onActivated: (concertId, ids) => {
        activated.push([concertId, ids]);
      },
    });
    expect(summary).toEqual({ concerts: 2, admitted: 2, failed: 0, journaled: 0 });
    expect(activated.sort()).toEqual([
      ['1', ['next-1']],
      ['2', ['next-2']],
    ]);
    expect(await admitAll({ store, clock })).toEqual({ concerts: 2, admitted: 0, failed: 0, journaled: 0 });
  });

  it('goes on with the other concerts when one fails', async () => {
    await twoLines();
    const flaky: QueueStore = {
      ...store,
      admit: (concertId, now) =>
        concertId === '1' ? Promise.reject(new Error('boom')) : store.admit(concertId, now),
    };
    expect(await admitAll({ store: flaky, clock, logger: pino({ level: 'silent' }) })).toEqual({
      concerts: 2,
      admitted: 1,
      failed: 1,
      journaled: 0,
    });
  });

  it('writes what the journal holds past the grace, and keeps it while the writer fails', async () => {
    await twoLines(); // four admissions: first-1 and first-2 at once, next-1 and next-2 below
    const written: string[] = [];
    let failing = true;
    const writeJournaled = async (concertId: string, list: { userId: string; at: number }[]) => {
      if (failing) throw new Error('database down');
      written.push(...list.map((a) => `${concertId}:${a.userId}@${a.at - clock.now()}`));
      return list.length;
    };
    const deps = { store, clock, writeJournaled, logger: pino({ level: 'silent' }) };
    expect((await admitAll(deps)).journaled).toBe(0); // in grace
    clock.advance(journalGraceMs);
    expect((await admitAll(deps)).journaled).toBe(0);
    failing = false;
    expect((await admitAll(deps)).journaled).toBe(4);
    expect(written.sort()).toEqual(
      ['1:first-1', '1:next-1', '2:first-2', '2:next-2'].map((w) => `${w}@${-journalGraceMs}`),
    );
    expect((await admitAll(deps)).journaled).toBe(0);
  });

  it('moves the rate of adaptive lines from the shop health and says why; fixed lines keep theirs', async () => {
    const board: HealthBoard = createMemoryHealthBoard();
    const metrics = createMetrics();
    const lines: Array<{ msg: string; reason?: string }> = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    const deps = {
      store,
      clock,
      logger,
      metrics,
      adaptive: { board, config: defaultAimdConfig, windowSeconds: 5 },
    };
    for (const u of ['a', 'b', 'c']) {
      await store.enter('1', u, clock.now());
      await store.enter('2', u, clock.now());
    }
    await store.updateSettings('1', { admission: 'adaptive', minAdmitPerSecond: 2, maxAdmitPerSecond: 42 });

    await admitAll(deps);
    expect((await store.settings('1')).admitPerSecond).toBe(12);
    expect(await store.admission('1')).toMatchObject({
      admissionChange: 'raise',
      admissionReason: 'raised: healthy, no holds or payments in 5 s',
      admissionChangedAt: clock.now(),
    });
    expect((await store.settings('2')).admitPerSecond).toBe(10);

    // Slow holds published in the last second: a cut at once after a raise.
    const slow = createHealthRecorder();
    for (let i = 0; i < 50; i++) slow.record('hold', 900, 201);
    await board.add(Math.floor(clock.now() / 1000), slow.take()!);
    clock.advance(1000);
    await admitAll(deps);
    expect((await store.settings('1')).admitPerSecond).toBe(8);
    expect((await store.admission('1')).admissionReason).toBe('cut: hold p99 956 ms > budget 250 ms');
    expect(lines.filter((l) => l.msg === 'admission rate changed').map((l) => l.reason)).toEqual([
      'raised: healthy, no holds or payments in 5 s',
      'cut: hold p99 956 ms > budget 250 ms',
    ]);
    const exported = await metrics.registry.metrics();
    expect(exported).toContain('queue_admit_per_second{concert="1"} 8');
    expect(exported).toContain('queue_admit_per_second{concert="2"} 10');
    expect(exported).toContain('queue_admission_changes_total{concert="1",change="cut"} 1');
    expect((await store.settings('2')).admitPerSecond).toBe(10);
  });

  it('answers POST / (the PingSource delivery) with the summary', async () => {
    await twoLines();
    const app = createApp({ store, clock }, httpOptions());
    const res = await app.request('/', {
      method: 'POST',
      headers: { 'ce-type': 'dev.knative.sources.ping' },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ concerts: 2, admitted: 2, failed: 0, journaled: 0 });
  });

  it('runs on a timer in the all-in-one server, on the store every mounted function shares', async () => {
    const rt = {
      config: loadConfig({ QUEUE_MAX_ACTIVE: '1' }),
      redis: null,
      secrets: { authJwtSecret: 'x', queueTokenSecret: 'queue-secret-that-is-long-enough-0123456789' },
      clock,
      logger: pino({ level: 'silent' }),
    } as unknown as Runtime;
    const shared = queueStoreFor(rt);
    expect(queueStoreFor(rt)).toBe(shared);
    await shared.enter('9', 'a', clock.now());
    await shared.enter('9', 'b', clock.now());
    await shared.release('9', 'a');
    const stop = startAdmitScheduler(rt, {
      intervalMs: 5,
      onActivated: () => (concertId, ids) => {
        activated.push([concertId, ids]);
      },
    });
    await expect.poll(() => activated).toEqual([['9', ['b']]]);
    await stop();
  });
});
