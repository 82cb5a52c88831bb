import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admittedUser, seatIdsOf } from '../support/api-fixture.ts';
import { call, type TestServer } from '../support/embedded-server.ts';
import { bearer } from '../support/harness.ts';
import { uniqueSuffix } from '../support/real-services.ts';
import { type ServerTarget, serverTargets } from '../support/server-targets.ts';

/**
 * The public catalogue (paging, filters, HTTP caching) and the caller's reservation list, through the
 * all-in-one app on the embedded adapters and on real MariaDB + Redis. Each case keeps to concerts whose
 * schedules fall in a time window of its own, so the others' concerts never show in its pages.
 */

type Answer = Awaited<ReturnType<typeof call>>;
type Page = { items: { id: string }[]; nextCursor: string | null };
const outcome = (res: Answer) =>
  `${res.status} ${(res.body.error as { code?: string } | undefined)?.code ?? ''}`.trim();
const fieldsOf = (res: Answer) =>
  ((res.body.error as { details?: { field: string }[] } | undefined)?.details ?? []).map((d) => d.field);

const suffix = uniqueSuffix();
let counter = 0;
const uid = (name: string) => `${name}-${(++counter).toString(36)}-${suffix}`;

interface ScheduleSpec {
  startsAt: string;
  price: number;
  seatCount?: number;
}

async function concert(s: TestServer, title: string, schedules: ScheduleSpec[]) {
  const created = await call(s, 'POST', '/v1/admin/concerts', {
    headers: await bearer('root', 'admin'),
    body: { title, venue: 'Hall', schedules: schedules.map((x) => ({ seatCount: 2, ...x })) },
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return {
    id: created.body.id as string,
    scheduleIds: (created.body.schedules as { id: string }[]).map((x) => x.id),
  };
}

/** Every page of a listing, following nextCursor from the first; the ids in the order served. */
async function walk(s: TestServer, path: string, limit: number): Promise<string[][]> {
  const pages: string[][] = [];
  let cursor: string | null = null;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const res = await call(s, 'GET', `${path}${sep}limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const page = res.body as unknown as Page;
    pages.push(page.items.map((item) => item.id));
    cursor = page.nextCursor;
    if (pages.length > 50) throw new Error(`${path}: no end of pages`);
  } while (cursor !== null);
  return pages;
}

const ids = async (s: TestServer, path: string) =>
  ((await call(s, 'GET', path)).body as unknown as Page).items.map((item) => item.id);

describe.each(serverTargets)('catalogue and my reservations on $name', (target: ServerTarget) => {
  let place: Awaited<ReturnType<ServerTarget['open']>>;
  let server: TestServer;
  beforeAll(async () => {
    place = await target.open();
    server = await place.start({ HOLD_TTL_SECONDS: '60' });
  });
  afterAll(() => place?.close());

  describe('GET /v1/concerts', () => {
    it('pages newest first through nextCursor, every concert once, none cut; a concert added meanwhile does not shift later pages', async () => {
      const window = 'from=2041-01-01T00:00:00Z&to=2042-01-01T00:00:00Z';
      const created: string[] = [];
      for (let i = 1; i <= 5; i++)
        created.push(
          (await concert(server, `Paged ${i}`, [{ startsAt: `2041-02-0${i}T19:00:00Z`, price: 1 }])).id,
        );
      const newestFirst = [...created].reverse();
      expect(await walk(server, `/v1/concerts?${window}`, 2)).toEqual([
        newestFirst.slice(0, 2),
        newestFirst.slice(2, 4),
        newestFirst.slice(4),
      ]);
      expect(await walk(server, `/v1/concerts?${window}`, 5)).toEqual([newestFirst]);

      const first = (await call(server, 'GET', `/v1/concerts?${window}&limit=2`)).body as unknown as Page;
      const late = (await concert(server, 'Late', [{ startsAt: '2041-03-01T19:00:00Z', price: 1 }])).id;
      const second = (await call(server, 'GET', `/v1/concerts?${window}&limit=2&cursor=${first.nextCursor}`))
        .body as unknown as Page;
      expect(second.items.map((c) => c.id)).toEqual(newestFirst.slice(2, 4));
      expect((await walk(server, `/v1/concerts?${window}`, 100)).flat()).toEqual([late, ...newestFirst]);
    });

    it('filters by upcoming, on sale, start dates and price, and summarises the schedules that passed', async () => {
      const window = 'from=2000-01-01T00:00:00Z&to=2040-01-01T00:00:00Z';
      const past = await concert(server, 'Past', [{ startsAt: '2001-05-01T19:00:00Z', price: 10_000 }]);
      const mixed = await concert(server, 'Mixed', [
        { startsAt: '2001-06-01T19:00:00Z', price: 50_000 },
        { startsAt: '2039-06-01T19:00:00Z', price: 70_000 },
        { startsAt: '2039-06-02T19:00:00Z', price: 90_000 },
      ]);
      const soldOut = await concert(server, 'Sold out', [
        { startsAt: '2039-07-01T19:00:00Z', price: 30_000, seatCount: 1 },
      ]);
      const fan = await admittedUser(server, uid('fan'), soldOut.id);
      const [seat] = await seatIdsOf(server, fan, soldOut.scheduleIds[0]!);
      const held = await call(server, 'POST', '/v1/reservations', {
        headers: fan,
        body: { scheduleId: soldOut.scheduleIds[0], seatId: seat },
      });
      expect(outcome(held)).toBe('201');

      expect(await ids(server, `/v1/concerts?${window}`)).toEqual([soldOut.id, mixed.id, past.id]);
      expect(await ids(server, `/v1/concerts?${window}&upcoming=true`)).toEqual([soldOut.id, mixed.id]);
      expect(await ids(server, `/v1/concerts?${window}&upcoming=false`)).toEqual([
        soldOut.id,
        mixed.id,
        past.id,
      ]);
      expect(await ids(server, `/v1/concerts?${window}&onSale=true`)).toEqual([mixed.id]);
      expect(await ids(server, '/v1/concerts?from=2001-06-01T19:00:00Z&to=2001-06-01T19:00:00.001Z')).toEqual(
        [mixed.id],
      );
      expect(await ids(server, '/v1/concerts?from=2001-01-01T00:00:00Z&to=2001-06-01T19:00:00Z')).toEqual([
        past.id,
      ]);
      expect(await ids(server, `/v1/concerts?${window}&minPrice=30000&maxPrice=50000`)).toEqual([
        soldOut.id,
        mixed.id,
      ]);
      expect(await ids(server, `/v1/concerts?${window}&minPrice=95000`)).toEqual([]);

      const upcomingMixed = (await call(server, 'GET', `/v1/concerts?${window}&upcoming=true&minPrice=80000`))
        .body as unknown as Page;
      expect(upcomingMixed).toEqual({
        items: [
          {
            id: mixed.id,
            title: 'Mixed',
            venue: 'Hall',
            firstStartsAt: '2039-06-02T19:00:00.000Z',
            lastStartsAt: '2039-06-02T19:00:00.000Z',
            minPrice: 90_000,
            maxPrice: 90_000,
          },
        ],
        nextCursor: null,
      });
      expect(
        ((await call(server, 'GET', `/v1/concerts?${window}`)).body as unknown as Page).items[1],
      ).toEqual(
        expect.objectContaining({
          id: mixed.id,
          firstStartsAt: '2001-06-01T19:00:00.000Z',
          lastStartsAt: '2039-06-02T19:00:00.000Z',
          minPrice: 50_000,
          maxPrice: 90_000,
        }),
      );

      // A lapsed hold frees the seat for the next hold attempt, so the concert is on sale again.
      server.clock.advance(60_001);
      expect(await ids(server, `/v1/concerts?${window}&onSale=true`)).toEqual([soldOut.id, mixed.id]);
    });

    it('answers 400 VALIDATION_FAILED naming each bad parameter; crossed ranges name their upper end', async () => {
      const cases: [query: string, fields: string[]][] = [
        ['limit=0', ['limit']],
        ['limit=101', ['limit']],
        ['limit=ten', ['limit']],
        ['cursor=abc', ['cursor']],
        ['cursor=-1', ['cursor']],
        ['onSale=yes', ['onSale']],
        ['upcoming=1', ['upcoming']],
        ['from=tomorrow', ['from']],
        ['to=2030-01-01', ['to']],
        ['minPrice=-1', ['minPrice']],
        ['maxPrice=1.5', ['maxPrice']],
        ['from=2030-01-02T00:00:00Z&to=2030-01-01T00:00:00Z', ['to']],
        ['minPrice=2&maxPrice=1', ['maxPrice']],
        ['limit=0&onSale=no', ['limit', 'onSale']],
      ];
      const seen = [];
      for (const [query] of cases) {
        const res = await call(server, 'GET', `/v1/concerts?${query}`);
        seen.push([query, outcome(res), fieldsOf(res).sort(), res.headers.get('cache-control')]);
      }
      expect(seen).toEqual(cases.map(([query, fields]) => [query, '400 VALIDATION_FAILED', fields, null]));
      expect(
        outcome(await call(server, 'GET', '/v1/concerts?from=2030-01-01T00:00:00Z&to=2030-01-01T00:00:00Z')),
      ).toBe('200');
    });
  });

  describe('HTTP caching of the catalogue', () => {
    it('is public: no token needed, a refused token ignored, and the answer the same for every caller', async () => {
      const { id } = await concert(server, 'Open', [{ startsAt: '2043-01-01T19:00:00Z', price: 5 }]);
      for (const path of ['/v1/concerts?from=2043-01-01T00:00:00Z', `/v1/concerts/${id}/schedules`]) {
        const anonymous = await call(server, 'GET', path);
        const signedIn = await call(server, 'GET', path, { headers: await bearer(uid('someone')) });
        const forged = await call(server, 'GET', path, { headers: { authorization: 'Bearer forged' } });
        expect([anonymous.status, signedIn.status, forged.status]).toEqual([200, 200, 200]);
        expect(signedIn.body).toEqual(anonymous.body);
        expect(forged.headers.get('etag')).toBe(anonymous.headers.get('etag'));
        expect(anonymous.headers.get('cache-control')).toBe('public, max-age=5');
      }
    });

    it('sends a strong ETag; If-None-Match with it is 304 without a body, in any list or weak form; a change makes a new one', async () => {
      const { id, scheduleIds } = await concert(server, 'Tagged', [
        { startsAt: '2044-01-01T19:00:00Z', price: 7, seatCount: 3 },
      ]);
      const path = `/v1/concerts/${id}/schedules`;
      const first = await call(server, 'GET', path);
      const etag = first.headers.get('etag')!;
      expect(etag).toMatch(/^"[^"]+"$/);
      expect((await call(server, 'GET', path)).headers.get('etag')).toBe(etag);
      for (const ifNoneMatch of [etag, `W/${etag}`, `"stale", ${etag}`, '*']) {
        const res = await server.app.request(path, { headers: { 'if-none-match': ifNoneMatch } });
        expect([ifNoneMatch, res.status, await res.text()]).toEqual([ifNoneMatch, 304, '']);
        expect(res.headers.get('etag')).toBe(etag);
        expect(res.headers.get('cache-control')).toBe('public, max-age=5');
      }
      expect((await call(server, 'GET', path, { headers: { 'if-none-match': '"stale"' } })).status).toBe(200);

      const fan = await admittedUser(server, uid('fan'), id);
      const [seat] = await seatIdsOf(server, fan, scheduleIds[0]!);
      expect(
        outcome(
          await call(server, 'POST', '/v1/reservations', {
            headers: fan,
            body: { scheduleId: scheduleIds[0], seatId: seat },
          }),
        ),
      ).toBe('201');
      const changed = await call(server, 'GET', path, { headers: { 'if-none-match': etag } });
      expect(changed.status).toBe(200);
      expect(changed.body.items).toMatchObject([{ availableSeats: 2 }]);
      expect(changed.headers.get('etag')).not.toBe(etag);

      const list = '/v1/concerts?from=2044-01-01T00:00:00Z&to=2045-01-01T00:00:00Z';
      const listed = await call(server, 'GET', list);
      expect(listed.headers.get('etag')).toMatch(/^"[^"]+"$/);
      const again = await call(server, 'GET', list, {
        headers: { 'if-none-match': listed.headers.get('etag')! },
      });
      expect(again.status).toBe(304);
      const other = await call(server, 'GET', `${list}&minPrice=8`, {
        headers: { 'if-none-match': listed.headers.get('etag')! },
      });
      expect(other.status).toBe(200);
    });

    it('an unknown concert is a cacheable 404 NOT_FOUND; a malformed id a 400 that is not cached', async () => {
      const missing = await call(server, 'GET', '/v1/concerts/987654321/schedules');
      expect([outcome(missing), missing.headers.get('cache-control')]).toEqual([
        '404 NOT_FOUND',
        'public, max-age=5',
      ]);
      const bad = await call(server, 'GET', '/v1/concerts/abc/schedules');
      expect([outcome(bad), bad.headers.get('cache-control')]).toEqual(['400 VALIDATION_FAILED', null]);
    });
  });

  describe('GET /v1/reservations', () => {
    it("lists only the caller's reservations, newest first, by the status they read now, a page at a time", async () => {
      const { id, scheduleIds } = await concert(server, 'Mine', [
        { startsAt: '2045-01-01T19:00:00Z', price: 20_000, seatCount: 5 },
      ]);
      const scheduleId = scheduleIds[0]!;
      const alice = await admittedUser(server, uid('alice'), id);
      const bob = await admittedUser(server, uid('bob'), id);
      const seats = await seatIdsOf(server, alice, scheduleId);
      const holdAs = async (headers: Record<string, string>, seatId: string) => {
        const res = await call(server, 'POST', '/v1/reservations', { headers, body: { scheduleId, seatId } });
        expect(outcome(res)).toBe('201');
        return res.body.id as string;
      };
      const [a, b, c, d] = [
        await holdAs(alice, seats[0]!),
        await holdAs(alice, seats[1]!),
        await holdAs(alice, seats[2]!),
        await holdAs(alice, seats[3]!),
      ];
      const other = await holdAs(bob, seats[4]!);
      expect(outcome(await call(server, 'DELETE', `/v1/reservations/${b}`, { headers: alice }))).toBe('200');
      const charged = await call(server, 'POST', '/v1/points/charges', {
        headers: { authorization: alice.authorization, 'idempotency-key': randomUUID() },
        body: { amount: 20_000 },
      });
      expect(outcome(charged)).toBe('201');
      const paid = await call(server, 'POST', `/v1/reservations/${c}/payments`, {
        headers: { ...alice, 'idempotency-key': randomUUID() },
        body: {},
      });
      expect(outcome(paid)).toBe('201');

      const mine = { authorization: alice.authorization };
      const all = await call(server, 'GET', '/v1/reservations', { headers: mine });
      expect(all.status).toBe(200);
      expect(all.body.nextCursor).toBeNull();
      expect((all.body.items as { id: string; status: string }[]).map((r) => `${r.id} ${r.status}`)).toEqual([
        `${d} HELD`,
        `${c} CONFIRMED`,
        `${b} CANCELLED`,
        `${a} HELD`,
      ]);
      expect(all.body.items).toContainEqual({
        id: a,
        scheduleId,
        seatId: seats[0],
        status: 'HELD',
        price: 20_000,
        expiresAt: expect.any(String),
      });
      const pages: string[][] = [];
      let cursor: string | null = null;
      do {
        const query: string = `/v1/reservations?limit=3${cursor ? `&cursor=${cursor}` : ''}`;
        const page = await call(server, 'GET', query, { headers: mine });
        pages.push((page.body.items as { id: string }[]).map((r) => r.id));
        cursor = page.body.nextCursor as string | null;
      } while (cursor !== null);
      expect(pages).toEqual([[d, c, b], [a]]);

      const byStatus = async (status: string) =>
        (
          (await call(server, 'GET', `/v1/reservations?status=${status}`, { headers: mine })).body.items as {
            id: string;
          }[]
        ).map((r) => r.id);
      expect(await byStatus('HELD')).toEqual([d, a]);
      expect(await byStatus('CONFIRMED')).toEqual([c]);
      expect(await byStatus('CANCELLED')).toEqual([b]);
      expect(await byStatus('EXPIRED')).toEqual([]);
      const bobs = await call(server, 'GET', '/v1/reservations', {
        headers: { authorization: bob.authorization },
      });
      expect((bobs.body.items as { id: string }[]).map((r) => r.id)).toEqual([other]);

      // Lapsed holds read EXPIRED before any sweeper marks them, and are listed under that status.
      server.clock.advance(60_001);
      expect(await byStatus('HELD')).toEqual([]);
      expect(await byStatus('EXPIRED')).toEqual([d, a]);
    });

    it('answers 400 VALIDATION_FAILED naming a bad status, limit or cursor', async () => {
      const headers = await bearer(uid('picky'));
      for (const [query, field] of [
        ['status=PAID', 'status'],
        ['status=held', 'status'],
        ['limit=0', 'limit'],
        ['limit=101', 'limit'],
        ['cursor=x1', 'cursor'],
      ] as const) {
        const res = await call(server, 'GET', `/v1/reservations?${query}`, { headers });
        expect([query, outcome(res), fieldsOf(res)]).toEqual([query, '400 VALIDATION_FAILED', [field]]);
      }
      expect(await call(server, 'GET', '/v1/reservations', { headers })).toMatchObject({
        status: 200,
        body: { items: [], nextCursor: null },
      });
    });
  });
});
