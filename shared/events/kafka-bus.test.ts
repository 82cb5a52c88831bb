import { describe, expect, it } from 'vitest';
import { createKafkaBus, runWindowed } from './kafka-bus.ts';

/** A task per record that finishes when the test says so. */
function controlled(n: number) {
  const finish: (() => void)[] = [];
  const fail: ((e: Error) => void)[] = [];
  const started: number[] = [];
  const tasks = Array.from(
    { length: n },
    (_, i) => () =>
      new Promise<void>((resolve, reject) => {
        started.push(i);
        finish[i] = resolve;
        fail[i] = reject;
      }),
  );
  return { tasks, finish, fail, started };
}
const tick = () => new Promise((r) => setImmediate(r));

describe('runWindowed (unordered delivery of one partition batch)', () => {
  it('keeps `limit` records in flight, starts the next when any finishes, and moves the offset only over a gap-free prefix', async () => {
    const { tasks, finish, started } = controlled(5);
    const done: number[] = [];
    const run = runWindowed(tasks, 2, {
      done: (c) => done.push(c),
      heartbeat: async () => {},
      go: () => true,
    });
    await tick();
    expect(started).toEqual([0, 1]);
    finish[1]!(); // a later record finishes first: a slot frees, the offset does not move
    await tick();
    expect(started).toEqual([0, 1, 2]);
    expect(done).toEqual([]);
    finish[0]!();
    await tick();
    expect(done).toEqual([2]);
    finish[2]!();
    finish[3]!();
    await tick();
    finish[4]!();
    await run;
    expect(done.at(-1)).toBe(5);
    expect(started).toEqual([0, 1, 2, 3, 4]);
  });

  it('after a failure starts nothing more, lets the running ones finish, keeps the offset before the failed record, and throws', async () => {
    const { tasks, finish, fail, started } = controlled(6);
    const done: number[] = [];
    const run = runWindowed(tasks, 3, {
      done: (c) => done.push(c),
      heartbeat: async () => {},
      go: () => true,
    });
    await tick();
    finish[0]!();
    await tick();
    fail[1]!(new Error('receiver down'));
    await tick();
    finish[2]!();
    finish[3]!();
    await expect(run).rejects.toThrow('receiver down');
    expect(started).toEqual([0, 1, 2, 3]);
    expect(done).toEqual([1]);
  });

  it('stops starting records when the consumer stops or the batch goes stale', async () => {
    const { tasks, finish, started } = controlled(4);
    let going = true;
    const run = runWindowed(tasks, 2, { done: () => {}, heartbeat: async () => {}, go: () => going });
    await tick();
    going = false;
    finish[0]!();
    finish[1]!();
    await run;
    expect(started).toEqual([0, 1]);
  });
});

describe('createKafkaBus with no broker listening', () => {
  it('subscribes without throwing, fails publish and readiness fast, and closes cleanly', async () => {
    const { createServer } = await import('node:net');
    const { pino } = await import('pino');
    const port = await new Promise<number>((resolve) => {
      const srv = createServer().listen(0, '127.0.0.1', () => {
        const address = srv.address();
        srv.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
      });
    });
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    const bus = createKafkaBus({
      brokers: [`127.0.0.1:${port}`],
      clientId: 'unit',
      partitions: 1,
      replicationFactor: 1,
      logger: pino({ level: 'silent' }),
      maxReconnectDelayMs: 200,
    });
    try {
      await expect(bus.ensureTopics(['t'])).rejects.toThrow(/ECONNREFUSED/);
      const subscription = await bus.subscribe({ groupId: 'g', topics: ['t'], handler: async () => {} });
      await expect(bus.publish([{ topic: 't', key: 'k', value: 'v' }])).rejects.toThrow();
      const started = Date.now();
      await expect(bus.ping()).rejects.toThrow();
      expect(Date.now() - started).toBeLessThan(1500);
      await new Promise((r) => setTimeout(r, 1000));
      await subscription.stop();
    } finally {
      await bus.close();
      process.off('unhandledRejection', onUnhandled);
    }
    expect(unhandled).toEqual([]);
  });
});
