import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { holdSeat } from '../../functions/hold-seat/hold-seat.ts';
import { systemClock } from '../../shared/clock.ts';
import type { Database } from '../../shared/db/connect.ts';
import { createRedis } from '../../shared/redis/client.ts';
import { claimTtlMs, createRedisHoldGuard } from '../../shared/seats/hold-guard.ts';
import { createMemorySeatCache } from '../../shared/seats/seat-cache.ts';
import { seatStoreFor } from '../../shared/seats/seat-store.ts';
import { waitFor } from '../support/events-fixture.ts';
import { freshMysqlDatabase } from '../support/real-services.ts';
import { freshSchedule } from '../support/reservation-fixture.ts';

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });

/**
 * The ADR's Sentinel failover, for real: a primary, a replica and a Sentinel (redis-server from the Debian
 * package), the hold guard reaching Redis through Sentinel. The primary is killed in the middle of a
 * hold race; the guard's keys may be lost with it, yet MySQL still lets exactly one hold per seat through.
 */
describe('Redis failover through Sentinel during a hold race', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sentinel-'));
  const children: ChildProcess[] = [];
  let primary: ChildProcess;
  let primaryPort = 0;
  let sentinelPort = 0;
  let redis: Redis;
  let database: Database;
  let drop: () => Promise<void>;

  const start = (args: string[]) => {
    const child = spawn('redis-server', args, { stdio: 'ignore' });
    children.push(child);
    return child;
  };

  beforeAll(async () => {
    const [p1, p2, p3] = [await freePort(), await freePort(), await freePort()];
    primaryPort = p1;
    sentinelPort = p3;
    primary = start(['--port', String(p1), '--bind', '127.0.0.1', '--save', '', '--dir', dir]);
    start([
      '--port',
      String(p2),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--dir',
      dir,
      '--replicaof',
      '127.0.0.1',
      String(p1),
    ]);
    const conf = join(dir, 'sentinel.conf');
    writeFileSync(
      conf,
      [
        `port ${p3}`,
        'bind 127.0.0.1',
        `dir ${dir}`,
        `sentinel monitor concert 127.0.0.1 ${p1} 1`,
        'sentinel down-after-milliseconds concert 1000',
        'sentinel failover-timeout concert 5000',
        'sentinel parallel-syncs concert 1',
        '',
      ].join('\n'),
    );
    start([conf, '--sentinel']);
    redis = createRedis({
      url: 'redis://127.0.0.1:6379',
      commandTimeoutMs: 500,
      sentinels: [{ host: '127.0.0.1', port: p3 }],
      sentinelMaster: 'concert',
    });
    redis.on('error', () => undefined);
    await waitFor(
      async () => (await redis.ping().catch(() => '')) === 'PONG',
      20_000,
      'Redis through Sentinel',
    );
    await waitFor(
      async () => (await redis.info('replication')).includes('connected_slaves:1'),
      20_000,
      'the replica',
    );
    // Sentinel learns of replicas from the primary's INFO, polled every 10 s: a primary killed before that
    // leaves it nothing to promote (NOGOODSLAVE). Start the race only once Sentinel itself lists the
    // replica as healthy and linked.
    const watcher = new Redis({ host: '127.0.0.1', port: p3 });
    try {
      await waitFor(
        async () => {
          const replicas = (await watcher.call('SENTINEL', 'REPLICAS', 'concert')) as string[][];
          return replicas.some((fields) => {
            const info = new Map<string, string>();
            for (let k = 0; k + 1 < fields.length; k += 2) info.set(fields[k]!, fields[k + 1]!);
            return info.get('flags') === 'slave' && info.get('master-link-status') === 'ok';
          });
        },
        30_000,
        'Sentinel to know the replica',
      );
    } finally {
      watcher.disconnect();
    }
    ({ database, drop } = await freshMysqlDatabase({ poolSize: 20 }));
  }, 60_000);

  afterAll(async () => {
    redis?.disconnect();
    for (const child of children) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    await drop?.();
  });

  it('kills the primary mid-race: Sentinel promotes the replica, the guard reconnects, no seat is sold twice', {
    timeout: 120_000,
  }, async () => {
    const seats = 10;
    const { scheduleId, seatIds } = await freshSchedule(database, systemClock, seats);
    const deps = {
      seats: seatStoreFor(database.db),
      clock: systemClock,
      holdTtlMs: 300_000,
      guard: createRedisHoldGuard(redis),
      seatCache: createMemorySeatCache(() => Date.now()),
    };
    // Before the kill only the first half of the seats is contended; the rest are won after it.
    const attempt = (i: number, among = seats) =>
      holdSeat(deps, { userId: `f${i}`, scheduleId, seatId: seatIds[i % among]! }).catch((e: unknown) => ({
        ok: false as const,
        code: `ERROR ${e instanceof Error ? e.message : String(e)}`,
      }));
    const before = await Promise.all(Array.from({ length: 40 }, (_, i) => attempt(i, seats / 2)));
    expect(before.filter((r) => r.ok)).toHaveLength(seats / 2);
    primary.kill('SIGKILL');
    // Contenders keep coming while Sentinel notices (1 s) and promotes the replica.
    const during: Awaited<ReturnType<typeof attempt>>[] = [];
    const deadline = Date.now() + 15_000;
    let i = 40;
    while (Date.now() < deadline) {
      during.push(...(await Promise.all(Array.from({ length: 10 }, () => attempt(i++)))));
      if ((await redis.ping().catch(() => '')) === 'PONG' && Date.now() > deadline - 12_000) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const sentinel = new Redis({ host: '127.0.0.1', port: sentinelPort });
    const promoted = async () =>
      ((await sentinel.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', 'concert')) as string[])[1] !==
      String(primaryPort);
    // Sentinel usually promotes within a few seconds; a lone Sentinel sometimes waits out a failover
    // timeout first, so after 10 s the test asks it to fail over now, as an operator would.
    await waitFor(promoted, 10_000, 'Sentinel to promote the replica').catch(async () => {
      await sentinel.call('SENTINEL', 'FAILOVER', 'concert');
      await waitFor(promoted, 30_000, 'the forced failover');
    });
    sentinel.disconnect();
    await waitFor(
      async () => (await redis.ping().catch(() => '')) === 'PONG',
      30_000,
      'the client to reach the promoted primary',
    );
    // Claims made while Redis was away may reach it late; they hold a seat for claimTtlMs at most.
    const after: Awaited<ReturnType<typeof attempt>>[] = [];
    const settleBy = Date.now() + claimTtlMs + 5000;
    while (Date.now() < settleBy && [...during, ...after].filter((r) => r.ok).length < seats / 2) {
      after.push(...(await Promise.all(Array.from({ length: 10 }, () => attempt(i++)))));
      await new Promise((r) => setTimeout(r, 250));
    }

    const all = [...before, ...during, ...after];
    const won = all.filter((r) => r.ok);
    expect([...during, ...after].filter((r) => r.ok).length).toBe(seats / 2);
    expect(won.length).toBeLessThanOrEqual(seats);
    const live = await database.db
      .selectFrom('reservations')
      .select(['seat_id'])
      .where('schedule_id', '=', scheduleId)
      .where('status', 'in', ['HELD', 'CONFIRMED'])
      .execute();
    // Exactly one live reservation per seat that was won, none twice, and every seat won by the end.
    expect(live).toHaveLength(seats);
    expect(new Set(live.map((r) => Number(r.seat_id))).size).toBe(seats);
    expect(won).toHaveLength(seats);
    // Refusals are SEAT_TAKEN, or an error while Redis was away (the client retries then); never a second winner.
    for (const r of all) if (!r.ok) expect(r.code).toMatch(/^(SEAT_TAKEN|ERROR )/);
  });
});
