import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLineSnapshots } from '../../shared/queue/line-snapshot.ts';
import { createRedisQueueStore } from '../../shared/queue/redis-queue-store.ts';
import { manualClock } from '../support/harness.ts';
import { realRedis, uniqueSuffix } from '../support/real-services.ts';

let redis: Redis;
let sent: string[];
beforeAll(() => {
  redis = realRedis();
  sent = [];
  // Every command ioredis sends goes through sendCommand: what Redis sees from this connection.
  const send = redis.sendCommand.bind(redis);
  redis.sendCommand = (command, stream) => {
    sent.push(command.name);
    return send(command, stream);
  };
});
afterAll(() => {
  redis.disconnect();
});

const defaults = { maxActive: 10, admitPerSecond: 5, activeTtlSeconds: 600, idleTimeoutSeconds: 30 };

describe('line snapshot on Redis', () => {
  it('reads a concert with one command per tick whatever the number of streams, and places each exactly', async () => {
    const clock = manualClock(Date.now());
    const store = createRedisQueueStore(redis, defaults, { prefix: `ls${uniqueSuffix()}` });
    const concertId = String(Date.now());
    const seqs = new Map<string, { seq: number; epoch: string }>();
    const users = Array.from({ length: 1200 }, (_, i) => `u${i}`);
    for (const userId of users) {
      const view = await store.enter(concertId, userId, clock.now());
      seqs.set(userId, { seq: view.seq, epoch: view.epoch });
    }
    const lines = createLineSnapshots({
      store,
      clock,
      tickMs: 500,
      maxAgeMs: 1000,
      idleMs: 30_000,
      timer: false,
    });
    const waiting = users.slice(defaults.maxActive);
    const watches = waiting.map((userId) => lines.watch(concertId, userId));
    const positions = () =>
      waiting.map((userId) => {
        const lookup = lines.lookup({ concertId, userId, ...seqs.get(userId)! }, true);
        return lookup.kind === 'placed' && lookup.view.state === 'WAITING'
          ? lookup.view.position
          : lookup.kind;
      });

    await lines.readNow(); // loads the script (NOSCRIPT once per server)
    sent = [];
    for (let tick = 0; tick < 25; tick++) {
      clock.advance(500);
      await lines.readNow();
    }
    // 25 reads for 1,190 streams; their heartbeats (every 10 s) rode along in the same scripts.
    expect(sent).toEqual(Array(25).fill('evalsha'));
    // The active slots are full: nobody was admitted, everyone stands where they entered.
    expect(positions()).toEqual(waiting.map((_, i) => i + 1));

    // The store agrees, user by user, after slots free and the reads admit.
    for (const userId of users.slice(0, 3)) await store.release(concertId, userId);
    clock.advance(1000);
    await lines.readNow();
    const now = positions();
    // The first three were admitted by the read: a stream of theirs is told ACTIVE.
    expect(now.slice(0, 3)).toEqual(['placed', 'placed', 'placed']);
    for (const [i, userId] of waiting.entries()) {
      if (i % 97 !== 5 && i >= 3) continue;
      if (i < 3) {
        expect((await store.status(concertId, userId, clock.now())).state).toBe('ACTIVE');
        continue;
      }
      expect((await store.status(concertId, userId, clock.now())).position).toBe(now[i]);
    }
    for (const watch of watches) watch.close();
    lines.close();
  });
});
