import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../functions/enter-queue/app.ts';
import { payReservation } from '../../functions/pay/pay.ts';
import type { Database } from '../../shared/db/connect.ts';
import { createQueueAccess } from '../../shared/queue/access-token-check.ts';
import { createMemoryQueueStore } from '../../shared/queue/memory-queue-store.ts';
import { createQueueRecords } from '../../shared/queue/queue-records.ts';
import { type QueueStore, recoveryWindowMs } from '../../shared/queue/queue-store.ts';
import { createQueueTokens } from '../../shared/queue/queue-tokens.ts';
import { createRedisQueueStore } from '../../shared/queue/redis-queue-store.ts';
import { createMemoryRateLimiter } from '../../shared/rate-limit/memory-rate-limiter.ts';
import { orThrow } from '../../shared/result.ts';
import { seatStoreFor } from '../../shared/seats/seat-store.ts';
import { bearer, embeddedDatabase, httpOptions, manualClock, testTokens } from '../support/harness.ts';
import { freshMysqlDatabase, uniqueSuffix } from '../support/real-services.ts';
import { charge, freshSchedule, hold } from '../support/reservation-fixture.ts';

const repoRoot = new URL('../../', import.meta.url).pathname;
const defaults = { maxActive: 5, admitPerSecond: 1000, activeTtlSeconds: 600, idleTimeoutSeconds: 300 };
const users = Array.from({ length: 30 }, (_, i) => `u${String(i + 1).padStart(2, '0')}`);

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });

/** A Redis of this test's own, configured exactly as `npm run services:up` configures the local one. */
class OwnRedis {
  private child: ChildProcess | undefined;
  readonly dir = join(repoRoot, '.services', `queue-loss-${uniqueSuffix()}`);
  private conf = join(this.dir, 'redis.conf');
  constructor(readonly port: number) {
    mkdirSync(this.dir, { recursive: true });
    const conf = execFileSync(
      'bash',
      [
        '-c',
        'source scripts/services/lib.sh && redis_conf "$@"',
        '_',
        this.dir,
        String(port),
        join(this.dir, 'redis.pid'),
        join(this.dir, 'redis.log'),
      ],
      { cwd: repoRoot, encoding: 'utf8' },
    );
    writeFileSync(this.conf, conf);
  }

  async start(client: Redis) {
    // In the foreground, so the test holds the process and can kill it.
    this.child = spawn('redis-server', [this.conf, '--daemonize', 'no'], { stdio: 'ignore' });
    for (let i = 0; i < 100; i++) {
      if ((await client.ping().catch(() => null)) === 'PONG') return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`redis on ${this.port} did not start (see ${this.dir}/redis.log)`);
  }

  async kill() {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  async close() {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

interface Setup {
  database: Database;
  /** The store the next request uses: an embedded restart replaces it. */
  store: () => QueueStore;
  /** Loses the line the way this setup can (FLUSHALL, a restart), with the clock where it is. */
  lose(concertId: string): Promise<void>;
  /** Restores asked of the store since the start. */
  restores: () => number;
}

/**
 * A queue of thirty fans on real services: five ACTIVE (one of whom pays), the rest WAITING. Then the
 * line is lost, a newcomer arrives before any old token is seen, and every old fan comes back with the
 * tokens they hold, in reverse order.
 */
async function lineSurvivesLoss(setup: Setup) {
  const clock = manualClock(Date.now());
  const tokens = createQueueTokens({ secret: 'queue-secret-that-is-long-enough-0123456789' });
  const records = createQueueRecords(setup.database.db);
  const { concertId, scheduleId, seatIds } = await freshSchedule(setup.database, clock, 3, 1000);
  const c = String(concertId);
  const app = () =>
    createApp(
      {
        store: setup.store(),
        tokens,
        clock,
        records,
        userTokens: testTokens(),
        rateLimiter: createMemoryRateLimiter({ perSecond: 1000, burst: 1000 }),
      },
      httpOptions(),
    );
  const access = () => createQueueAccess({ tokens, store: setup.store(), clock, records });
  const enter = async (user: string) => {
    const res = await app().request('/v1/queue/tokens', {
      method: 'POST',
      headers: { ...(await bearer(user)), 'content-type': 'application/json' },
      body: JSON.stringify({ concertId: c }),
    });
    expect(res.status).toBe(201);
    return (await res.json()) as {
      status: string;
      position: number;
      queueToken: string;
      accessToken?: string;
    };
  };
  const status = async (user: string, queueToken: string) => {
    const res = await app().request('/v1/queue/status', {
      headers: { ...(await bearer(user)), 'x-queue-token': queueToken },
    });
    const body = (await res.json()) as { status: string; position: number; accessToken?: string };
    return { code: res.status, ...body };
  };
  const refusal = (p: Promise<unknown>) =>
    p.then(
      () => 'allowed',
      (error: { code?: string }) => error.code ?? 'thrown',
    );

  const queueTokens = new Map<string, string>();
  const accessTokens = new Map<string, string>();
  for (const [i, user] of users.entries()) {
    const answer = await enter(user);
    expect(answer.status).toBe(i < 5 ? 'ACTIVE' : 'WAITING');
    expect(answer.position).toBe(i < 5 ? 0 : i - 4);
    queueTokens.set(user, answer.queueToken);
    if (answer.accessToken) accessTokens.set(user, answer.accessToken);
  }
  // u01 pays; the payment ends the access, and u06 takes the free slot on its next poll.
  clock.advance(1000);
  const held = await hold(setup.database, clock, 'u01', scheduleId, seatIds[0]!);
  if (!held.ok) throw new Error('setup: hold');
  await charge(setup.database, 'u01', 1000, clock.now());
  await payReservation(
    { seats: seatStoreFor(setup.database.db), clock },
    { userId: 'u01', reservationId: Number(held.value.id), idempotencyKey: `pay-${c}` },
  ).then(orThrow);
  await access().release(c, 'u01');
  const u06 = await status('u06', queueTokens.get('u06')!);
  expect(u06.status).toBe('ACTIVE');
  accessTokens.set('u06', u06.accessToken!);
  const activeUntil = clock.now() - 1000 + defaults.activeTtlSeconds * 1000;
  const activeUntilU06 = clock.now() + defaults.activeTtlSeconds * 1000;
  const waiting = users.slice(6);

  clock.advance(10_000);
  await setup.lose(c);

  // Before any old token is seen: the newcomer waits, though the lost line left every slot free.
  const late = await enter('late');
  expect(late.status).toBe('WAITING');

  for (const user of [...waiting].reverse()) {
    expect((await status(user, queueTokens.get(user)!)).code).toBe(200);
  }
  for (const [i, user] of waiting.entries()) {
    expect(await status(user, queueTokens.get(user)!)).toMatchObject({
      code: 200,
      status: 'WAITING',
      position: i + 1,
    });
  }
  expect(await status('late', late.queueToken)).toMatchObject({
    status: 'WAITING',
    position: waiting.length + 1,
  });

  // The active fans keep their access until its end; the one who paid stays refused.
  for (const user of ['u02', 'u03', 'u04', 'u05', 'u06']) {
    const granted = orThrow(await access().check(accessTokens.get(user), user, c));
    expect(granted.activeUntil).toBeGreaterThanOrEqual(user === 'u06' ? activeUntilU06 : activeUntil);
    expect(granted.activeUntil).toBeLessThan((user === 'u06' ? activeUntilU06 : activeUntil) + 1000);
  }
  expect(await refusal(access().check(accessTokens.get('u01'), 'u01', c).then(orThrow))).toBe(
    'QUEUE_NOT_ACTIVE',
  );
  expect(await status('u01', queueTokens.get('u01')!)).toMatchObject({ code: 403 });

  // Admissions resume in the old order: a freed slot goes to the head of the old line, not the newcomer.
  clock.advance(recoveryWindowMs);
  await access().release(c, 'u02');
  expect(await status('u07', queueTokens.get('u07')!)).toMatchObject({ status: 'ACTIVE' });
  expect(await status('late', late.queueToken)).toMatchObject({
    status: 'WAITING',
    position: waiting.length,
  });
  expect((await setup.store().counts(c, clock.now())).active).toBe(5);

  // And an access ends at its activeUntil as it always did.
  clock.advance(defaults.activeTtlSeconds * 1000);
  expect(await refusal(access().check(accessTokens.get('u03'), 'u03', c).then(orThrow))).toBe(
    'QUEUE_NOT_ACTIVE',
  );
  return { concertId: c };
}

const counting = (store: QueueStore, count: { restores: number }): QueueStore => ({
  ...store,
  restore: (...args) => {
    count.restores++;
    return store.restore(...args);
  },
});

describe('the waiting line survives losing Redis (real Redis, MariaDB)', () => {
  let redis: OwnRedis;
  let client: Redis;
  let database: Database;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    redis = new OwnRedis(await freePort());
    client = new Redis({ host: '127.0.0.1', port: redis.port, maxRetriesPerRequest: 1, lazyConnect: true });
    client.on('error', () => undefined);
    await redis.start(client);
    ({ database, drop } = await freshMysqlDatabase());
  });
  afterAll(async () => {
    client?.disconnect();
    await redis?.close();
    await drop?.();
  });

  const redisSetup = (lose: (concertId: string) => Promise<void>) => {
    const count = { restores: 0 };
    const registry = createQueueRecords(database.db);
    const store = counting(
      createRedisQueueStore(client, defaults, { prefix: `q${uniqueSuffix()}`, registry }),
      count,
    );
    return { database, store: () => store, lose, restores: () => count.restores };
  };

  it('FLUSHALL in the middle of the line: every fan keeps place and order, actives keep access', async () => {
    const setup = redisSetup(async () => {
      await client.flushall();
    });
    await lineSurvivesLoss(setup);
    expect(setup.restores()).toBeGreaterThanOrEqual(24 + 5);
  });

  it('a Redis crash (kill -9) and restart: the append-only file brings the whole line back', async () => {
    let epochBefore = '';
    const setup = redisSetup(async (concertId) => {
      epochBefore = await setup.store().epoch(concertId);
      await redis.kill();
      await redis.start(client);
    });
    const { concertId } = await lineSurvivesLoss(setup);
    expect(epochBefore).not.toBe('');
    expect(await setup.store().epoch(concertId)).toBe(epochBefore);
    // Nothing had to be restored from tokens: the line itself came back.
    expect(setup.restores()).toBe(0);
  });
});

describe('the embedded line survives a restart of its process (SQLite)', () => {
  it('restores every place and access from the tokens into the new process', async () => {
    const database = await embeddedDatabase();
    const count = { restores: 0 };
    const registry = createQueueRecords(database.db);
    let store = counting(createMemoryQueueStore(defaults, { registry }), count);
    await lineSurvivesLoss({
      database,
      store: () => store,
      async lose() {
        store = counting(createMemoryQueueStore(defaults, { registry }), count);
      },
      restores: () => count.restores,
    });
    expect(count.restores).toBeGreaterThanOrEqual(24 + 5);
    await database.close();
  });
});
