import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seatGuardKey } from '../../shared/seats/hold-guard.ts';
import { seatStoreFor } from '../../shared/seats/seat-store.ts';
import { createApp as createExpireHoldsApp } from '../../triggers/expire-holds/app.ts';
import { admittedUser, createConcertOverHttp, seatIdsOf } from '../support/api-fixture.ts';
import { call, startTestServer, type TestServer } from '../support/embedded-server.ts';
import { waitFor } from '../support/events-fixture.ts';
import { httpOptions } from '../support/harness.ts';
import { freshMysqlDatabase, serviceUrls, uniqueSuffix } from '../support/real-services.ts';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.ts';

/**
 * MariaDB failing under a live server, through a relay between the server and a real MariaDB: the relay
 * stops forwarding when a statement that runs inside a transaction goes by, so requests stall wherever
 * they are, and then drops every connection and refuses new ones, as the sockets of a server killed with
 * SIGKILL do. A rollback on such
 * a dead connection is what used to turn outages into bare 500s. Left frozen, the relay is a server that
 * hangs (SIGSTOP): DB_QUERY_TIMEOUT_MS must bound every request then.
 */
const queryTimeoutMs = 1000;

describe('MariaDB killed or hung under concurrent requests', () => {
  let server: TestServer;
  let proxy: TcpProxy;
  let drop: () => Promise<void>;
  let sweep: () => Promise<Response>;
  let run = 0;

  beforeAll(async () => {
    const fresh = await freshMysqlDatabase();
    await fresh.database.close();
    drop = fresh.drop;
    const dbUrl = new URL(fresh.url);
    proxy = await startTcpProxy({ host: dbUrl.hostname, port: Number(dbUrl.port) });
    server = await startTestServer({
      DATABASE_URL: proxy.url(fresh.url),
      REDIS_URL: serviceUrls().redisUrl,
      REDIS_KEY_PREFIX: `dbfault-${uniqueSuffix()}:`,
      DB_MIGRATE: '0',
      DB_CONNECT_TIMEOUT_MS: String(queryTimeoutMs),
      DB_QUERY_TIMEOUT_MS: String(queryTimeoutMs),
      HOLD_TTL_SECONDS: '60',
    });
    const sweeper = createExpireHoldsApp(
      {
        seats: seatStoreFor(server.runtime.database.db),
        clock: server.clock,
        seatCache: server.runtime.seatCache,
      },
      httpOptions(),
    );
    sweep = async () =>
      sweeper.request('/', { method: 'POST', headers: { 'ce-type': 'dev.knative.sources.ping' } });
  });
  afterAll(async () => {
    await server?.close();
    await proxy?.close();
    await drop?.();
  });

  /** A concert whose seats are, in fours: lapsed holds, live holds to pay, live holds to cancel, free. */
  async function scene() {
    run++;
    const concert = await createConcertOverHttp(server, {
      title: `Fault ${run}`,
      seatCount: 16,
      price: 1000,
    });
    const user = async (name: string) => {
      const headers = await admittedUser(server, `${name}-${run}-${uniqueSuffix()}`, concert.concertId);
      const funded = await call(server, 'POST', '/v1/points/charges', {
        headers: { authorization: headers.authorization, 'idempotency-key': 'fund' },
        body: { amount: 100_000 },
      });
      expect(funded.status).toBe(201);
      return headers;
    };
    const holdAs = async (headers: Record<string, string>, seatId: string) => {
      const res = await call(server, 'POST', '/v1/reservations', {
        headers,
        body: { scheduleId: concert.scheduleId, seatId },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return String(res.body.id);
    };
    const users = await Promise.all(Array.from({ length: 12 }, (_, i) => user(`u${i}`)));
    const seats = await seatIdsOf(server, users[0]!, concert.scheduleId);
    const lapsing = `lapsing-${run}-${uniqueSuffix()}`;
    const lapsingHeaders = await admittedUser(server, lapsing, concert.concertId);
    for (const seat of seats.slice(0, 4)) await holdAs(lapsingHeaders, seat);
    server.clock.advance(61_000);
    // The guard in Redis lives in real time, not on the test's clock: forget it, so that the takeovers
    // reach the database as they would once the hold's time had really run out.
    for (const seat of seats.slice(0, 4))
      await server.runtime.holdGuard.release(seatGuardKey(concert.scheduleId, seat), lapsing);
    const toPay = [];
    const toCancel = [];
    for (let i = 0; i < 4; i++) toPay.push(await holdAs(users[i]!, seats[4 + i]!));
    for (let i = 0; i < 4; i++) toCancel.push(await holdAs(users[4 + i]!, seats[8 + i]!));
    return { concert, users, seats, toPay, toCancel };
  }

  type Outcome = { what: string; status: number; retryAfter: string | null; ms: number };

  /**
   * `withSweeper: false` keeps the sweeper out of a round: it drains every lapsed hold in one run, so
   * racing it would often free the takeovers' seats first and the round would test plain holds.
   */
  function load(s: Awaited<ReturnType<typeof scene>>, withSweeper = true): Promise<Outcome>[] {
    const { concert, users, seats, toPay, toCancel } = s;
    const timed = async (what: string, request: () => Promise<{ status: number; headers: Headers }>) => {
      const started = Date.now();
      const res = await request();
      return {
        what,
        status: res.status,
        retryAfter: res.headers.get('retry-after'),
        ms: Date.now() - started,
      };
    };
    const api = (
      what: string,
      method: string,
      path: string,
      headers: Record<string, string>,
      body?: unknown,
    ) => timed(what, () => call(server, method, path, { headers, ...(body === undefined ? {} : { body }) }));
    const key = uniqueSuffix();
    return [
      ...users.map((h, i) =>
        api(
          'charge',
          'POST',
          '/v1/points/charges',
          { ...h, 'idempotency-key': `c${i}-${key}` },
          { amount: 10 + i },
        ),
      ),
      ...users.map((h, i) =>
        api(
          'charge',
          'POST',
          '/v1/points/charges',
          { ...h, 'idempotency-key': `d${i}-${key}` },
          { amount: 20 + i },
        ),
      ),
      ...[0, 1, 2, 3].map((i) =>
        api('takeover', 'POST', '/v1/reservations', users[8 + i]!, {
          scheduleId: concert.scheduleId,
          seatId: seats[i],
        }),
      ),
      ...[0, 1, 2, 3].map((i) =>
        api('hold', 'POST', '/v1/reservations', users[8 + i]!, {
          scheduleId: concert.scheduleId,
          seatId: seats[12 + i],
        }),
      ),
      ...toPay.map((id, i) =>
        api(
          'pay',
          'POST',
          `/v1/reservations/${id}/payments`,
          { ...users[i]!, 'idempotency-key': `p-${key}` },
          {},
        ),
      ),
      ...toCancel.map((id, i) => api('cancel', 'DELETE', `/v1/reservations/${id}`, users[4 + i]!)),
      ...users.slice(0, 4).map((h) => api('balance', 'GET', '/v1/points', h)),
      ...users.slice(0, 2).map((h) => api('history', 'GET', '/v1/points/history', h)),
      ...(withSweeper ? [timed('sweeper', sweep)] : []),
    ];
  }

  /** Settles within `ms`, or says which requests were still waiting. */
  async function settleWithin(requests: Promise<Outcome>[], ms: number): Promise<Outcome[]> {
    const done: (Outcome | undefined)[] = requests.map(() => undefined);
    requests.forEach((r, i) => {
      r.then((o) => {
        done[i] = o;
      });
    });
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const waiting = done.filter((o) => o === undefined).length;
        reject(new Error(`${waiting} of ${requests.length} requests still waiting after ${ms} ms`));
      }, ms);
    });
    try {
      return await Promise.race([Promise.all(requests), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  const summary = (outcomes: Outcome[]) => {
    const counts: Record<string, number> = {};
    for (const o of outcomes) counts[`${o.what} ${o.status}`] = (counts[`${o.what} ${o.status}`] ?? 0) + 1;
    return counts;
  };

  async function backToNormal() {
    await proxy.restore();
    await waitFor(async () => (await call(server, 'GET', '/readyz')).status === 200, 15_000, 'readiness');
  }

  it('killed in the middle of transactions: every failure is 503 with Retry-After, none is a 500', async () => {
    const all: Outcome[] = [];
    // Each round stops MariaDB as one path is inside its transaction: a charge writing its ledger row, a
    // takeover calling its procedure, a cancel or the sweeper marking a reservation.
    for (const marker of [
      'insert into `point_ledger`',
      'call hold_seat(',
      'update `reservations` set `status`',
    ]) {
      const requests = load(await scene(), marker !== 'call hold_seat(');
      const caught = await Promise.race([
        proxy.freezeOn(marker).then(() => true),
        new Promise<false>((r) => setTimeout(() => r(false), 5000)),
      ]);
      expect(caught, marker).toBe(true);
      await new Promise((r) => setTimeout(r, 100));
      await proxy.cut();
      try {
        all.push(...(await settleWithin(requests, 10_000)));
      } finally {
        await backToNormal();
      }
    }
    console.log('MariaDB killed mid-transaction, answers:', summary(all));
    const failed = all.filter((o) => o.status >= 500);
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.filter((o) => o.status !== 503 || Number(o.retryAfter) <= 0)).toEqual([]);
    expect(all.filter((o) => o.status >= 400 && o.status < 500 && o.status !== 409)).toEqual([]);
  });

  it('hung (stops answering, connections stay open): 503 with Retry-After within about DB_QUERY_TIMEOUT_MS', async () => {
    const s = await scene();
    // Connections that were open before the hang, and new ones during it, both have to give up in time.
    proxy.freeze();
    let outcomes: Outcome[];
    try {
      outcomes = await settleWithin(load(s), 4 * queryTimeoutMs + 2000);
    } finally {
      await backToNormal();
    }
    console.log('MariaDB hung, answers:', summary(outcomes));
    expect(outcomes.filter((o) => o.status !== 503 || Number(o.retryAfter) <= 0)).toEqual([]);
    // Getting a connection and one statement each wait at most the timeout; the rest fails at once.
    expect(Math.max(...outcomes.map((o) => o.ms))).toBeLessThan(3 * queryTimeoutMs + 1000);
    // And once it answers again, so does the server.
    const charged = await call(server, 'POST', '/v1/points/charges', {
      headers: { authorization: s.users[0]!.authorization, 'idempotency-key': 'after-hang' },
      body: { amount: 1 },
    });
    expect(charged.status).toBe(201);
  });
});
