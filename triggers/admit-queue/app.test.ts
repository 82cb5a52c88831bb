import { pino } from 'pino';
import { beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../shared/config.ts';
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
