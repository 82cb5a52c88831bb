import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { admittedUser, createConcertOverHttp, seatIdsOf } from '../../tests/support/api-fixture.ts';
import { call, startTestServer, type TestServer } from '../../tests/support/embedded-server.ts';
import { badTokens, bearer } from '../../tests/support/harness.ts';

let server: TestServer;
let scheduleId: string;
let otherScheduleId: string;
let seatIds: string[];
let concertId: string;

beforeEach(async () => {
  server = await startTestServer({ HOLD_TTL_SECONDS: '60' });
  const created = await createConcertOverHttp(server, {
    title: 'Test',
    seatCount: 3,
    price: 50_000,
    schedules: 2,
  });
  concertId = created.concertId;
  scheduleId = created.scheduleId;
  otherScheduleId = created.scheduleIds[1]!;
  seatIds = await seatIdsOf(server, await accessFor('seed'), scheduleId);
});
afterEach(() => server.close());

const accessFor = (userId: string, concert = concertId) => admittedUser(server, userId, concert);

const holdBody = (seat = 0) => ({ scheduleId, seatId: seatIds[seat]! });

describe('hold-seat: happy path', () => {
  it('holds, shows the seat HELD in the map, reads and cancels the reservation', async () => {
    const alice = await accessFor('alice');
    const held = await call(server, 'POST', '/v1/reservations', { headers: alice, body: holdBody() });
    expect(held.status).toBe(201);
    expect(held.body).toMatchObject({ scheduleId, seatId: seatIds[0], status: 'HELD', price: 50_000 });
    const expiresAt = Date.parse(held.body.expiresAt as string);
    expect(expiresAt).toBe(server.clock.now() + 60_000);

    const map = await call(server, 'GET', `/v1/schedules/${scheduleId}/seats`, { headers: alice });
    expect((map.body.items as { status: string }[]).map((s) => s.status)).toEqual([
      'HELD',
      'AVAILABLE',
      'AVAILABLE',
    ]);

    const id = held.body.id as string;
    expect((await call(server, 'GET', `/v1/reservations/${id}`, { headers: alice })).body.status).toBe(
      'HELD',
    );
    const cancelled = await call(server, 'DELETE', `/v1/reservations/${id}`, { headers: alice });
    expect(cancelled).toMatchObject({ status: 200, body: { status: 'CANCELLED' } });
    const after = await call(server, 'GET', `/v1/schedules/${scheduleId}/seats`, { headers: alice });
    expect((after.body.items as { status: string }[])[0]!.status).toBe('AVAILABLE');
    const bob = await accessFor('bob');
    expect((await call(server, 'POST', '/v1/reservations', { headers: bob, body: holdBody() })).status).toBe(
      201,
    );
  });

  it('lets a hold lapse: the seat shows AVAILABLE and goes to the next user; the old reservation reads EXPIRED', async () => {
    const alice = await accessFor('alice');
    const held = await call(server, 'POST', '/v1/reservations', { headers: alice, body: holdBody(1) });
    server.clock.advance(60_001);
    const bob = await accessFor('bob');
    const map = await call(server, 'GET', `/v1/schedules/${scheduleId}/seats`, { headers: bob });
    expect((map.body.items as { status: string }[])[1]!.status).toBe('AVAILABLE');
    expect((await call(server, 'POST', '/v1/reservations', { headers: bob, body: holdBody(1) })).status).toBe(
      201,
    );
    const old = await call(server, 'GET', `/v1/reservations/${held.body.id as string}`, { headers: alice });
    expect(old.body.status).toBe('EXPIRED');
  });

  it('counts available seats per schedule', async () => {
    const alice = await accessFor('alice');
    await call(server, 'POST', '/v1/reservations', { headers: alice, body: holdBody(2) });
    const list = await call(server, 'GET', `/v1/concerts/${concertId}/schedules`, { headers: alice });
    expect((list.body.items as { availableSeats: number }[]).map((s) => s.availableSeats)).toEqual([2, 3]);
  });
});

describe('hold-seat: errors', () => {
  it('answers SEAT_TAKEN to a second user', async () => {
    await call(server, 'POST', '/v1/reservations', { headers: await accessFor('alice'), body: holdBody() });
    const second = await call(server, 'POST', '/v1/reservations', {
      headers: await accessFor('bob'),
      body: holdBody(),
    });
    expect(second.status).toBe(409);
    expect(second.body.error).toMatchObject({ code: 'SEAT_TAKEN' });
  });

  it('answers NOT_FOUND for an unknown schedule, or a seat of another schedule', async () => {
    const alice = await accessFor('alice');
    const unknown = await call(server, 'POST', '/v1/reservations', {
      headers: alice,
      body: { scheduleId: '999999', seatId: seatIds[0] },
    });
    expect(unknown.status).toBe(404);
    const elsewhere = await call(server, 'POST', '/v1/reservations', {
      headers: alice,
      body: { scheduleId: otherScheduleId, seatId: seatIds[0] },
    });
    expect(elsewhere.status).toBe(404);
    expect((await call(server, 'GET', '/v1/reservations/424242', { headers: alice })).status).toBe(404);
  });

  it.each([
    [{ scheduleId: 'abc', seatId: '1' }],
    [{ scheduleId: '1' }],
    [{ scheduleId: 1, seatId: 2 }],
    [{ scheduleId: '1', seatId: '1', userId: 'x' }],
  ])('answers VALIDATION_FAILED for %j', async (body) => {
    const res = await call(server, 'POST', '/v1/reservations', { headers: await accessFor('val'), body });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'VALIDATION_FAILED' });
  });

  it('answers FORBIDDEN on another user’s reservation, and HOLD_EXPIRED when cancelling a lapsed hold', async () => {
    const alice = await accessFor('alice');
    const held = await call(server, 'POST', '/v1/reservations', { headers: alice, body: holdBody() });
    const id = held.body.id as string;
    const bob = await accessFor('bob');
    expect((await call(server, 'GET', `/v1/reservations/${id}`, { headers: bob })).status).toBe(403);
    expect((await call(server, 'DELETE', `/v1/reservations/${id}`, { headers: bob })).status).toBe(403);
    server.clock.advance(61_000);
    const late = await call(server, 'DELETE', `/v1/reservations/${id}`, { headers: alice });
    expect(late.status).toBe(409);
    expect(late.body.error).toMatchObject({ code: 'HOLD_EXPIRED' });
  });
});

describe('hold-seat: security', () => {
  it('needs the queue: missing, forged, other concert or other user access tokens are refused', async () => {
    const auth = await bearer('carol');
    const none = await call(server, 'POST', '/v1/reservations', { headers: auth, body: holdBody() });
    expect(none.body.error).toMatchObject({ code: 'QUEUE_TOKEN_REQUIRED' });
    const forged = await call(server, 'POST', '/v1/reservations', {
      headers: { ...auth, 'x-queue-token': 'x.y.z' },
      body: holdBody(),
    });
    expect(forged.body.error).toMatchObject({ code: 'QUEUE_TOKEN_INVALID' });
    const dave = await accessFor('dave');
    const stolen = await call(server, 'POST', '/v1/reservations', {
      headers: { ...auth, 'x-queue-token': dave['x-queue-token'] },
      body: holdBody(),
    });
    expect(stolen.status).toBe(403);
    expect(stolen.body.error).toMatchObject({ code: 'QUEUE_TOKEN_INVALID' });
    const other = await createConcertOverHttp(server, { title: 'Other', seatCount: 1, price: 1 });
    const elsewhere = await accessFor('carol', other.concertId);
    const wrongConcert = await call(server, 'POST', '/v1/reservations', {
      headers: elsewhere,
      body: holdBody(),
    });
    expect(wrongConcert.body.error).toMatchObject({ code: 'QUEUE_TOKEN_INVALID' });
  });

  it.each(['forged', 'algNone', 'expired', 'wrongAudience'])('refuses a %s user token', async (kind) => {
    const token = (await badTokens('mallory'))[kind];
    const res = await call(server, 'POST', '/v1/reservations', {
      headers: { authorization: `Bearer ${token}` },
      body: holdBody(),
    });
    expect(res.status).toBe(401);
  });
});
