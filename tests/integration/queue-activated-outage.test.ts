import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDatabase, type Database } from '../../shared/db/connect.ts';
import { recordActivations } from '../../shared/outbox/queue-activated.ts';
import { manualClock } from '../support/harness.ts';
import { freshMysqlDatabase } from '../support/real-services.ts';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.ts';

/**
 * Admission happens in Redis and cannot be undone, so a `queue.activated` row the database refuses must
 * not be dropped: the hook keeps it and writes it once MariaDB answers again.
 */
describe('queue.activated while MariaDB is down', () => {
  let fresh: Awaited<ReturnType<typeof freshMysqlDatabase>>;
  let proxy: TcpProxy;
  let viaProxy: Database;

  beforeAll(async () => {
    fresh = await freshMysqlDatabase();
    const url = new URL(fresh.url);
    proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port) });
    viaProxy = await connectDatabase({
      url: proxy.url(fresh.url),
      driver: 'mysql2',
      poolSize: 2,
      connectTimeoutMs: 500,
      queryTimeoutMs: 500,
      dataDir: '/nonexistent',
    });
  });
  afterAll(async () => {
    await viaProxy?.close();
    await proxy?.close();
    await fresh?.drop();
  });

  const activatedUsers = async () =>
    (
      await fresh.database.db
        .selectFrom('outbox')
        .select('event_key')
        .where('topic', '=', 'queue.activated')
        .orderBy('event_key')
        .execute()
    ).map((row) => row.event_key);

  it('keeps refused rows and writes each fact once when the database is back', async () => {
    const hook = recordActivations(viaProxy.db, manualClock(), { retryDelayMs: { first: 50, max: 200 } });
    await proxy.cut();
    const settled: string[] = [];
    const first = Promise.resolve(hook('9', ['a', 'b'], 1000)).then(() => settled.push('first'));
    await new Promise((resolve) => setTimeout(resolve, 300));
    const second = Promise.resolve(hook('9', ['c', 'a'], 1000)).then(() => settled.push('second'));
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(settled).toEqual([]);
    expect(await activatedUsers()).toEqual([]);

    await proxy.restore();
    await Promise.race([
      Promise.all([first, second]),
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error('rows not written after restore')), 10_000),
      ),
    ]);
    expect(settled.sort()).toEqual(['first', 'second']);
    expect(await activatedUsers()).toEqual(['a', 'b', 'c']);
  });
});
