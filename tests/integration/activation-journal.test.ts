import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordActivations, writeActivations } from '../../shared/outbox/queue-activated.ts';
import { journalGraceMs } from '../../shared/queue/activation-journal.ts';
import type { QueueStore } from '../../shared/queue/queue-store.ts';
import { createRedisQueueStore, queueKeys } from '../../shared/queue/redis-queue-store.ts';
import { createRedis } from '../../shared/redis/client.ts';
import { admitAll } from '../../triggers/admit-queue/use-cases.ts';
import { manualClock } from '../support/harness.ts';
import { freshMysqlDatabase, serviceUrls, uniqueSuffix } from '../support/real-services.ts';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.ts';

/**
 * Redis runs an admission and writes it to its append-only file before it sends the reply, so a Redis that
 * dies between the two comes back with users ACTIVE whose admission nobody heard of; ioredis then sends
 * the script again, and the second run admits no one (the budget is spent). Every admission is journaled
 * in the script that makes it, and the admit trigger writes what the journal still holds.
 */
describe('queue.activated for an admission whose reply was lost', () => {
  let fresh: Awaited<ReturnType<typeof freshMysqlDatabase>>;
  let proxy: TcpProxy;
  let redis: Redis;

  beforeAll(async () => {
    fresh = await freshMysqlDatabase({ poolSize: 2 });
    const url = new URL(serviceUrls().redisUrl);
    proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port) });
    redis = createRedis({ url: proxy.url(serviceUrls().redisUrl), commandTimeoutMs: 2000 });
  });
  afterAll(async () => {
    redis?.disconnect();
    await proxy?.close();
    await fresh?.drop();
  });

  const activatedRows = async (concertId: string) =>
    (
      await fresh.database.db
        .selectFrom('outbox')
        .select(['event_key', 'event_id'])
        .where('topic', '=', 'queue.activated')
        .where('event_id', 'like', `queue.activated:${concertId}:%`)
        .execute()
    ).map((row) => row.event_key);

  const activeUsers = async (prefix: string, concertId: string) =>
    (await redis.zrange(queueKeys(concertId, prefix)[1]!, '0', '-1')).sort();

  const until = async (check: () => Promise<boolean>) => {
    const deadline = Date.now() + 10_000;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error('timed out');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  it('writes every admission once: the lost ones from the journal, the others as they happen', async () => {
    const clock = manualClock();
    const prefix = `qj${uniqueSuffix()}`;
    const store: QueueStore = createRedisQueueStore(
      redis,
      { maxActive: 100, admitPerSecond: 3, activeTtlSeconds: 600, idleTimeoutSeconds: 600 },
      { prefix },
    );
    const concertId = `${Date.now()}`;
    await store.updateSettings(concertId, { opensAt: clock.now() + 1000 });
    for (let i = 1; i <= 10; i++) await store.enter(concertId, `fan${i}`, clock.now());
    const db = fresh.database.db;
    const deps = {
      store,
      clock,
      onActivated: recordActivations(db, clock),
      writeJournaled: writeActivations(db, clock),
    };

    await admitAll(deps); // before the opening: admits no one, and Redis has the script from now on
    // The opening's admission runs in Redis, and its reply is lost on the way back.
    const lost = proxy.loseReplyTo(`${prefix}:{${concertId}}:waiting`);
    clock.advance(1000);
    await admitAll(deps);
    await lost;
    const firstThree = await activeUsers(prefix, concertId);
    expect(firstThree).toHaveLength(3);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await activatedRows(concertId)).toEqual([]);

    // Past the grace the next run writes them, beside the three it admits and announces itself.
    clock.advance(journalGraceMs + 1000);
    const summary = await admitAll(deps);
    expect(summary.journaled).toBe(3);
    const admitted = await activeUsers(prefix, concertId);
    expect(admitted).toHaveLength(6);
    await until(async () => (await activatedRows(concertId)).length >= 6);

    // Later runs write the three announced ones again from the journal: the outbox keeps one row each.
    clock.advance(journalGraceMs + 1000);
    expect((await admitAll(deps)).journaled).toBe(0); // swept, but none was missing
    await until(async () => (await activatedRows(concertId)).length >= 9);
    clock.advance(journalGraceMs + 1000);
    await admitAll(deps);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const rows = (await activatedRows(concertId)).sort();
    expect(rows).toEqual(await activeUsers(prefix, concertId));
    expect(new Set(rows).size).toBe(rows.length);
    expect(rows).toHaveLength(10);
    expect(await store.journaled(concertId, clock.now(), 100)).toHaveLength(1); // the last fan, in grace
  });
});
