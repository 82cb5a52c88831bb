import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { shopHealthFor } from '../../shared/admission/for-runtime.ts';
import { readShopHealth } from '../../shared/admission/health-board.ts';
import { queueAccessFor } from '../../shared/queue/for-runtime.ts';
import { admittedUser, createConcertOverHttp, seatIdsOf } from '../../tests/support/api-fixture.ts';
import { call, startTestServer, type TestServer } from '../../tests/support/embedded-server.ts';

let server: TestServer;
let concertId: string;
let scheduleId: string;
let seatIds: string[];

beforeEach(async () => {
  server = await startTestServer({ HOLD_TTL_SECONDS: '60' });
  const created = await createConcertOverHttp(server, { title: 'Pay', seatCount: 4, price: 30_000 });
  concertId = created.concertId;
  scheduleId = created.scheduleId;
  seatIds = await seatIdsOf(server, await access('seed'), scheduleId);
});
afterEach(() => server.close());

const access = (userId: string) => admittedUser(server, userId, concertId);

async function holdAndFund(userId: string, seat: number, points: number) {
  const headers = await access(userId);
  const held = await call(server, 'POST', '/v1/reservations', {
    headers,
    body: { scheduleId, seatId: seatIds[seat] },
  });
  if (points > 0) {
    await call(server, 'POST', '/v1/points/charges', {
      headers: { ...headers, 'idempotency-key': `fund-${userId}` },
      body: { amount: points },
    });
  }
  return { headers, reservationId: held.body.id as string };
}

const pay = (headers: Record<string, string>, reservationId: string, key: string, body: unknown = {}) =>
  call(server, 'POST', `/v1/reservations/${reservationId}/payments`, {
    headers: { ...headers, 'idempotency-key': key },
    body,
  });

describe('pay: happy path', () => {
  it('counts holds and payments, refusals included, where the admit trigger reads the shop health', async () => {
    const { headers, reservationId } = await holdAndFund('alice', 0, 50_000);
    expect((await pay(headers, reservationId, 'k1')).status).toBe(201);
    const bob = await access('bob');
    const taken = await call(server, 'POST', '/v1/reservations', {
      headers: bob,
      body: { scheduleId, seatId: seatIds[0] },
    });
    expect(taken.status).toBe(409);
    const { recording, board } = shopHealthFor(server.runtime);
    await recording.flush();
    server.clock.advance(1000);
    const health = await readShopHealth(board, server.clock.now(), 5);
    expect(health).toMatchObject({
      hold: { count: 2 },
      pay: { count: 1 },
      unavailable: 0,
      poolSaturation: null,
    });
    expect(health.hold.p99Ms).toBeGreaterThan(0);
  });

  it('pays, replays the same answer for the same key, ends the queue access, and sells the seat', async () => {
    const { headers, reservationId } = await holdAndFund('alice', 0, 50_000);
    const paid = await pay(headers, reservationId, 'k1');
    expect(paid).toMatchObject({
      status: 201,
      body: { reservationId, amount: 30_000, status: 'PAID', balance: 20_000 },
    });
    const again = await pay(headers, reservationId, 'k1');
    expect(again.status).toBe(201);
    expect(again.body).toEqual(paid.body);
    expect(again.headers.get('idempotent-replayed')).toBe('true');

    const map = await call(server, 'GET', `/v1/schedules/${scheduleId}/seats`, { headers });
    expect(map.status).toBe(403);
    expect(map.body.error).toMatchObject({ code: 'QUEUE_NOT_ACTIVE' });
    const fresh = await access('alice');
    const after = await call(server, 'GET', `/v1/schedules/${scheduleId}/seats`, { headers: fresh });
    expect((after.body.items as { status: string }[])[0]!.status).toBe('SOLD');
    expect((await call(server, 'GET', `/v1/reservations/${reservationId}`, { headers })).body.status).toBe(
      'CONFIRMED',
    );
    const history = await call(server, 'GET', '/v1/points/history', { headers });
    expect((history.body.items as { type: string; amount: number }[])[0]).toMatchObject({
      type: 'USE',
      amount: 30_000,
    });
  });
});

describe('pay: Redis missing the follow-up', () => {
  it('answers 201 for a committed payment when the slot release and the seat-map refresh fail', async () => {
    const { headers, reservationId } = await holdAndFund('kim', 1, 50_000);
    const access = queueAccessFor(server.runtime);
    const { seatCache } = server.runtime;
    const release = access.release;
    const invalidate = seatCache.invalidate;
    const lost = () => Promise.reject(new Error('Connection is closed.'));
    access.release = lost;
    seatCache.invalidate = lost;
    try {
      const paid = await pay(headers, reservationId, 'k-redis');
      expect(paid).toMatchObject({ status: 201, body: { status: 'PAID', balance: 20_000 } });
    } finally {
      access.release = release;
      seatCache.invalidate = invalidate;
    }
    const again = await pay(headers, reservationId, 'k-redis');
    expect(again).toMatchObject({ status: 201, body: { balance: 20_000 } });
    expect(again.headers.get('idempotent-replayed')).toBe('true');
  });
});

describe('pay: errors', () => {
  it('INSUFFICIENT_POINTS leaves the hold and the wallet as they were', async () => {
    const { headers, reservationId } = await holdAndFund('bob', 1, 10_000);
    const res = await pay(headers, reservationId, 'k');
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({ code: 'INSUFFICIENT_POINTS' });
    expect((await call(server, 'GET', '/v1/points', { headers })).body.balance).toBe(10_000);
    expect((await call(server, 'GET', `/v1/reservations/${reservationId}`, { headers })).body.status).toBe(
      'HELD',
    );
  });

  it('HOLD_EXPIRED after the hold ran out', async () => {
    const { headers, reservationId } = await holdAndFund('carol', 2, 50_000);
    server.clock.advance(60_001);
    const res = await pay(headers, reservationId, 'k');
    expect(res.body.error).toMatchObject({ code: 'HOLD_EXPIRED' });
    expect((await call(server, 'GET', '/v1/points', { headers })).body.balance).toBe(50_000);
  });

  it('ALREADY_PAID for a second key, IDEMPOTENCY_KEY_REUSED for a key used on another reservation', async () => {
    const { headers, reservationId } = await holdAndFund('dave', 3, 100_000);
    await pay(headers, reservationId, 'first');
    const fresh = await access('dave');
    const second = await pay(fresh, reservationId, 'second');
    expect(second.body.error).toMatchObject({ code: 'ALREADY_PAID' });
    const reused = await pay(fresh, String(Number(reservationId) + 1), 'first');
    expect(reused.status).toBe(409);
    expect(reused.body.error).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED' });
  });

  it('FORBIDDEN for another user, NOT_FOUND for no reservation, VALIDATION_FAILED without a key or with a body', async () => {
    const { reservationId } = await holdAndFund('erin', 0, 0);
    const frank = await access('frank');
    expect((await pay(frank, reservationId, 'k')).body.error).toMatchObject({ code: 'FORBIDDEN' });
    expect((await pay(frank, '987654', 'k')).status).toBe(404);
    const noKey = await call(server, 'POST', `/v1/reservations/${reservationId}/payments`, {
      headers: frank,
      body: {},
    });
    expect(noKey.body.error).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect((await pay(frank, reservationId, 'k', { amount: 1 })).body.error).toMatchObject({
      code: 'VALIDATION_FAILED',
    });
  });

  it('needs the queue access token', async () => {
    const { headers, reservationId } = await holdAndFund('gina', 1, 50_000);
    const { 'x-queue-token': _, ...withoutQueue } = headers;
    expect((await pay(withoutQueue, reservationId, 'k')).body.error).toMatchObject({
      code: 'QUEUE_TOKEN_REQUIRED',
    });
  });
});
