import { randomUUID } from 'node:crypto';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createQueueTokens } from '../../shared/queue/queue-tokens.ts';
import { admittedUser, createConcertOverHttp, seatIdsOf } from '../support/api-fixture.ts';
import { call, type TestServer } from '../support/embedded-server.ts';
import { badTokens, bearer } from '../support/harness.ts';
import { uniqueSuffix } from '../support/real-services.ts';
import { type ServerTarget, serverTargets } from '../support/server-targets.ts';

/**
 * The public HTTP contract of docs/api.md, endpoint by endpoint: the happy path and every error code
 * it lists, status and `error.code` both, through the all-in-one app. The same cases run on the embedded
 * adapters and on real MariaDB + Redis. Tests isolate by fresh users and concerts, not by new servers.
 */

type Headers = Record<string, string>;
type Answer = Awaited<ReturnType<typeof call>>;
interface ErrorBody {
  code?: string;
  message?: string;
  requestId?: string;
  details?: { field: string; message: string }[];
}

const errorOf = (res: Answer) => (res.body.error ?? {}) as ErrorBody;
/** "409 SEAT_TAKEN": one string, so a failing assertion shows status and code together. */
const outcome = (res: Answer) => `${res.status} ${errorOf(res).code ?? ''}`.trim();
const fieldsOf = (res: Answer) => (errorOf(res).details ?? []).map((d) => d.field);

const suffix = uniqueSuffix();
let counter = 0;
/** A user id nobody has used yet, in this run or any other. */
const uid = (name: string) => `${name}-${(++counter).toString(36)}-${suffix}`;

const adminHeaders = () => bearer('root', 'admin');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function newConcert(s: TestServer, seats = 4, price = 30_000) {
  const concert = await createConcertOverHttp(s, { title: `Contract ${counter}`, seatCount: seats, price });
  const seed = await admittedUser(s, uid('seed'), concert.concertId);
  return { ...concert, seatIds: await seatIdsOf(s, seed, concert.scheduleId) };
}

async function fund(s: TestServer, headers: Headers, amount: number) {
  const res = await call(s, 'POST', '/v1/points/charges', {
    headers: { authorization: headers.authorization!, 'idempotency-key': `fund-${randomUUID()}` },
    body: { amount },
  });
  expect(outcome(res)).toBe('201');
}

async function hold(s: TestServer, headers: Headers, scheduleId: string, seatId: string): Promise<string> {
  const res = await call(s, 'POST', '/v1/reservations', { headers, body: { scheduleId, seatId } });
  expect(outcome(res)).toBe('201');
  return res.body.id as string;
}

/** On a new concert: a user admitted to its queue holds the first seat and has `points` to pay with. */
/** A fresh concert, a user admitted to it holding its first `holds` seats, and points on the wallet. */
async function fundedHolds(s: TestServer, userId: string, points: number, holds = 1) {
  const concert = await newConcert(s);
  const headers = await admittedUser(s, userId, concert.concertId);
  const ids: string[] = [];
  for (const seatId of concert.seatIds.slice(0, holds))
    ids.push(await hold(s, headers, concert.scheduleId, seatId));
  await fund(s, headers, points);
  return { ...concert, headers, id: ids[0]!, ids };
}

const pay = (s: TestServer, headers: Headers, reservationId: string, key: string, body: unknown = {}) =>
  call(s, 'POST', `/v1/reservations/${reservationId}/payments`, {
    headers: { ...headers, 'idempotency-key': key },
    body,
  });

const balanceOf = async (s: TestServer, headers: Headers) =>
  (await call(s, 'GET', '/v1/points', { headers: { authorization: headers.authorization! } })).body.balance;

const seatStatuses = async (s: TestServer, headers: Headers, scheduleId: string) =>
  (
    (await call(s, 'GET', `/v1/schedules/${scheduleId}/seats`, { headers })).body.items as {
      status: string;
    }[]
  )?.map((seat) => seat.status);

/**
 * Every endpoint that takes a user JWT (the stream takes its queue token in the query instead; the public
 * catalogue takes none: see catalogue.contract.test.ts).
 */
const userEndpoints: [method: string, path: string, body?: unknown, headers?: Headers][] = [
  ['POST', '/v1/queue/tokens', { concertId: '1' }],
  ['GET', '/v1/queue/status', undefined, { 'x-queue-token': 'x' }],
  ['GET', '/v1/schedules/1/seats', undefined, { 'x-queue-token': 'x' }],
  ['POST', '/v1/reservations', { scheduleId: '1', seatId: '1' }, { 'x-queue-token': 'x' }],
  ['GET', '/v1/reservations'],
  ['GET', '/v1/reservations/1'],
  ['DELETE', '/v1/reservations/1'],
  ['POST', '/v1/reservations/1/payments', {}, { 'x-queue-token': 'x', 'idempotency-key': 'k' }],
  ['GET', '/v1/points'],
  ['POST', '/v1/points/charges', { amount: 1 }, { 'idempotency-key': 'k' }],
  ['GET', '/v1/points/history'],
];
const adminEndpoints: [method: string, path: string, body?: unknown][] = [
  [
    'POST',
    '/v1/admin/concerts',
    { title: 'T', venue: 'V', schedules: [{ startsAt: '2030-01-01T19:00:00Z', price: 1 }] },
  ],
  ['GET', '/v1/admin/queues/1'],
  ['PUT', '/v1/admin/queues/1', { paused: false }],
  ['GET', '/v1/admin/concerts/1/sales'],
  ['GET', '/v1/admin/concerts/1/events'],
];

describe.each(serverTargets)('HTTP API contract on $name', (target: ServerTarget) => {
  let place: Awaited<ReturnType<ServerTarget['open']>>;
  let server: TestServer;
  beforeAll(async () => {
    place = await target.open();
    server = await place.start({ HOLD_TTL_SECONDS: '60' });
  });
  afterAll(() => place?.close());

  const api = (method: string, path: string, options?: Parameters<typeof call>[3]) =>
    call(server, method, path, options);

  describe('operations', () => {
    it('answers health, readiness, metrics, OpenAPI 3.1 and docs; unknown routes get a JSON 404', async () => {
      expect(outcome(await api('GET', '/healthz'))).toBe('200');
      const ready = await api('GET', '/readyz');
      expect(outcome(ready)).toBe('200');
      expect(
        (ready.body.checks as { name: string; ok: boolean }[]).map((c) => `${c.name} ${c.ok}`).sort(),
      ).toEqual(target.real ? ['database true', 'redis true', 'stored procedures true'] : ['database true']);
      await api('GET', '/v1/points', { headers: await bearer(uid('scraped')) });
      const metrics = await server.app.request('/metrics');
      expect(metrics.status).toBe(200);
      expect(await metrics.text()).toMatch(
        /^http_requests_total\{.*route="\/v1\/points".*status="200".*\} \d+$/m,
      );
      const doc = await api('GET', '/openapi.json');
      expect(doc.body.openapi).toMatch(/^3\.1\./);
      expect(Object.keys(doc.body.paths as object)).toEqual(
        expect.arrayContaining([
          '/v1/dev/tokens',
          '/v1/queue/tokens',
          '/v1/queue/status',
          '/v1/queue/stream',
          '/v1/concerts',
          '/v1/concerts/{concertId}/schedules',
          '/v1/schedules/{scheduleId}/seats',
          '/v1/reservations',
          '/v1/reservations/{id}',
          '/v1/reservations/{id}/payments',
          '/v1/points',
          '/v1/points/charges',
          '/v1/points/history',
          '/v1/admin/concerts',
          '/v1/admin/concerts/{concertId}/sales',
          '/v1/admin/concerts/{concertId}/events',
          '/v1/admin/queues/{concertId}',
        ]),
      );
      const docs = await server.app.request('/docs');
      expect(docs.status).toBe(200);
      expect(docs.headers.get('content-type')).toMatch(/text\/html/);
      const missing = await api('GET', '/v1/nothing-here');
      expect(outcome(missing)).toBe('404 NOT_FOUND');
      expect(errorOf(missing).requestId).toMatch(/\S/);
      expect(errorOf(missing).message).toMatch(/\S/);
    });
  });

  describe('HTTP semantics', () => {
    const accessControl = (res: Answer) =>
      [...res.headers.keys()].filter((name) => name.startsWith('access-control-')).sort();

    it.each([
      ['DELETE', '/v1/points', 'GET, HEAD, OPTIONS'],
      ['GET', '/v1/points/charges', 'OPTIONS, POST'],
      ['PUT', '/v1/reservations/1', 'DELETE, GET, HEAD, OPTIONS'],
      ['GET', '/v1/reservations/1/payments', 'OPTIONS, POST'],
      ['POST', '/v1/concerts', 'GET, HEAD, OPTIONS'],
      ['DELETE', '/v1/admin/queues/1', 'GET, HEAD, OPTIONS, PUT'],
      ['POST', '/healthz', 'GET, HEAD, OPTIONS'],
    ])('%s %s: 405 METHOD_NOT_ALLOWED with Allow: %s', async (method, path, allow) => {
      const res = await api(method, path, { headers: await bearer(uid('verb')) });
      expect(outcome(res)).toBe('405 METHOD_NOT_ALLOWED');
      expect(res.headers.get('allow')).toBe(allow);
      const options = await api('OPTIONS', path);
      expect([options.status, options.headers.get('allow')]).toEqual([204, allow]);
      expect(accessControl(options)).toEqual([]);
    });

    it('an unknown path stays 404 NOT_FOUND for every method, OPTIONS included', async () => {
      for (const method of ['GET', 'POST', 'OPTIONS']) {
        const res = await api(method, '/v1/points/nowhere');
        expect(`${method} ${outcome(res)} ${res.headers.get('allow')}`).toBe(`${method} 404 NOT_FOUND null`);
      }
    });

    it('refuses a body that is not application/json with 415 UNSUPPORTED_MEDIA_TYPE on every JSON endpoint; the route documents it', async () => {
      const held = await fundedHolds(server, uid('typed'), 100_000);
      const user = await bearer(uid('typed'));
      const admin = await adminHeaders();
      const cases: [method: string, path: string, headers: Headers, body: unknown][] = [
        ['POST', '/v1/dev/tokens', {}, { userId: '42' }],
        ['POST', '/v1/queue/tokens', user, { concertId: held.concertId }],
        ['POST', '/v1/reservations', held.headers, { scheduleId: held.scheduleId, seatId: held.seatIds[1] }],
        ['POST', `/v1/reservations/${held.id}/payments`, { ...held.headers, 'idempotency-key': 'typed' }, {}],
        ['POST', '/v1/points/charges', { ...user, 'idempotency-key': 'typed' }, { amount: 5 }],
        ['POST', '/v1/admin/concerts', admin, { title: 'T', venue: 'V', schedules: [] }],
        ['PUT', `/v1/admin/queues/${held.concertId}`, admin, { paused: false }],
      ];
      const seen: string[] = [];
      for (const [method, path, headers, body] of cases) {
        for (const type of ['text/plain', 'application/x-www-form-urlencoded']) {
          const res = await api(method, path, {
            headers: { ...headers, 'content-type': type },
            raw: JSON.stringify(body),
          });
          seen.push(`${method} ${path} ${type}: ${outcome(res)}`);
        }
      }
      expect(seen).toEqual(
        cases.flatMap(([method, path]) =>
          ['text/plain', 'application/x-www-form-urlencoded'].map(
            (type) => `${method} ${path} ${type}: 415 UNSUPPORTED_MEDIA_TYPE`,
          ),
        ),
      );
      // Nothing was done: the hold is unpaid, the second seat free, the wallet untouched.
      expect(await seatStatuses(server, held.headers, held.scheduleId)).toEqual([
        'HELD',
        'AVAILABLE',
        'AVAILABLE',
        'AVAILABLE',
      ]);
      expect(await balanceOf(server, user)).toBe(0);
      // A JSON media type with parameters is JSON; a payment may come without any body at all.
      const charged = await api('POST', '/v1/points/charges', {
        headers: { ...user, 'idempotency-key': 'typed', 'content-type': 'application/json; charset=utf-8' },
        body: { amount: 5 },
      });
      expect(outcome(charged)).toBe('201');
      const paid = await server.app.request(`/v1/reservations/${held.id}/payments`, {
        method: 'POST',
        headers: { ...held.headers, 'idempotency-key': 'bare' },
      });
      expect(paid.status).toBe(201);

      const doc = (await api('GET', '/openapi.json')).body as {
        paths: Record<string, Record<string, { requestBody?: unknown; responses: Record<string, unknown> }>>;
      };
      const withBody = Object.entries(doc.paths).flatMap(([path, item]) =>
        Object.entries(item)
          .filter(([, operation]) => operation.requestBody !== undefined)
          .map(([method, operation]) => `${method} ${path} ${'415' in operation.responses}`),
      );
      expect(withBody.length).toBeGreaterThanOrEqual(cases.length);
      expect(withBody.filter((line) => line.endsWith('false'))).toEqual([]);
    });

    it('reports an unknown body field under its own name, nested ones by their path', async () => {
      const user = await bearer(uid('extra'));
      const charge = await api('POST', '/v1/points/charges', {
        headers: { ...user, 'idempotency-key': 'extra' },
        body: { amount: 5, bonus: 1, note: 'x' },
      });
      expect(outcome(charge)).toBe('400 VALIDATION_FAILED');
      expect(fieldsOf(charge).sort()).toEqual(['bonus', 'note']);
      const concert = await api('POST', '/v1/admin/concerts', {
        headers: await adminHeaders(),
        body: {
          title: 'T',
          venue: 'V',
          schedules: [{ startsAt: '2030-01-01T19:00:00Z', seatCount: 1, price: 1, vip: true }],
        },
      });
      expect(outcome(concert)).toBe('400 VALIDATION_FAILED');
      expect(fieldsOf(concert)).toEqual(['schedules.0.vip']);
      const notAnObject = await api('POST', '/v1/points/charges', {
        headers: { ...user, 'idempotency-key': 'extra' },
        body: [5],
      });
      expect(fieldsOf(notAnObject)).toEqual(['body']);
    });

    it('answers 401 with WWW-Authenticate: Bearer, and error="invalid_token" when a token was refused', async () => {
      const challenges: string[] = [];
      for (const [method, path, body, extra] of [...userEndpoints, ...adminEndpoints]) {
        const missing = await api(method, path, { headers: { ...extra }, body });
        const forged = await api(method, path, {
          headers: { ...extra, authorization: `Bearer ${(await badTokens('x')).forged}` },
          body,
        });
        challenges.push(
          `${method} ${path}: ${missing.status} ${missing.headers.get('www-authenticate')} / ${forged.status} ${forged.headers.get('www-authenticate')}`,
        );
      }
      expect(challenges).toEqual(
        [...userEndpoints, ...adminEndpoints].map(
          ([method, path]) =>
            `${method} ${path}: 401 Bearer realm="concert" / 401 Bearer realm="concert", error="invalid_token"`,
        ),
      );
    });

    it('sends no CORS headers when CORS_ORIGINS is not set', async () => {
      const origin = { origin: 'https://tickets.example' };
      const preflight = await api('OPTIONS', '/v1/points', {
        headers: { ...origin, 'access-control-request-method': 'GET' },
      });
      expect([preflight.status, accessControl(preflight)]).toEqual([204, []]);
      const read = await api('GET', '/v1/points', { headers: { ...origin, ...(await bearer(uid('cors'))) } });
      expect([read.status, accessControl(read)]).toEqual([200, []]);
    });

    it('CORS_ORIGINS: preflight and answers for a listed origin, nothing for another', async () => {
      const cors = await place.start({ CORS_ORIGINS: 'https://tickets.example, http://localhost:5173' });
      const preflight = await call(cors, 'OPTIONS', '/v1/reservations/7', {
        headers: {
          origin: 'http://localhost:5173',
          'access-control-request-method': 'DELETE',
          'access-control-request-headers': 'authorization, x-queue-token',
        },
      });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
      expect(preflight.headers.get('access-control-allow-methods')).toBe('DELETE,GET,HEAD,OPTIONS');
      expect(preflight.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('x-queue-token');
      expect(preflight.headers.get('access-control-allow-headers')?.toLowerCase()).toContain(
        'idempotency-key',
      );
      expect(preflight.headers.get('vary')).toMatch(/origin/i);

      const origin = { origin: 'https://tickets.example' };
      const read = await call(cors, 'GET', '/v1/points', {
        headers: { ...origin, ...(await bearer(uid('c'))) },
      });
      expect(read.status).toBe(200);
      expect(read.headers.get('access-control-allow-origin')).toBe('https://tickets.example');
      expect(read.headers.get('access-control-expose-headers')).toMatch(/Retry-After/);
      expect(read.headers.get('vary')).toMatch(/origin/i);
      const direct = await call(cors, 'GET', '/v1/points', { headers: await bearer(uid('c')) });
      expect([direct.status, accessControl(direct), direct.headers.get('vary')]).toEqual([200, [], 'Origin']);
      const refused = await call(cors, 'GET', '/v1/points', { headers: origin });
      expect(outcome(refused)).toBe('401 UNAUTHENTICATED');
      expect(refused.headers.get('access-control-allow-origin')).toBe('https://tickets.example');

      const other = { origin: 'https://evil.example' };
      const otherRead = await call(cors, 'GET', '/v1/points', {
        headers: { ...other, ...(await bearer(uid('c'))) },
      });
      expect(otherRead.headers.get('access-control-allow-origin')).toBeNull();
      const otherPreflight = await call(cors, 'OPTIONS', '/v1/points', {
        headers: { ...other, 'access-control-request-method': 'GET' },
      });
      expect(otherPreflight.headers.get('access-control-allow-origin')).toBeNull();
      const unknown = await call(cors, 'OPTIONS', '/v1/nowhere', {
        headers: { ...origin, 'access-control-request-method': 'GET' },
      });
      expect(outcome(unknown)).toBe('404 NOT_FOUND');
    });

    it('GET /v1/points/history: the cursor is described by a pattern, and every cursor it allows is accepted', async () => {
      const doc = (await api('GET', '/openapi.json')).body as {
        paths: Record<string, { get: { parameters: { name: string; schema: object }[] } }>;
      };
      const cursor = doc.paths['/v1/points/history']!.get.parameters.find((p) => p.name === 'cursor');
      expect(cursor?.schema).toHaveProperty('pattern');
      const allows = new Ajv2020({ strict: false }).compile(cursor!.schema);
      const candidates = [
        '0',
        '1',
        '42',
        '999999999999999',
        'abc',
        'x'.repeat(64),
        '-1',
        '1e3',
        Buffer.from('l:5').toString('base64url'),
      ];
      const valid = candidates.filter((candidate) => allows(candidate));
      expect(valid).toContain('1');
      const headers = await bearer(uid('cursor'));
      const seen: string[] = [];
      for (const candidate of candidates) {
        const res = await api('GET', `/v1/points/history?cursor=${encodeURIComponent(candidate)}`, {
          headers,
        });
        seen.push(`${candidate}: ${res.status}`);
      }
      expect(seen).toEqual(candidates.map((c) => `${c}: ${valid.includes(c) ? 200 : 400}`));
    });
  });

  describe('dev tokens', () => {
    it('mints a user or admin token that the API accepts (201)', async () => {
      const user = uid('dev');
      const minted = await api('POST', '/v1/dev/tokens', { body: { userId: user } });
      expect(outcome(minted)).toBe('201');
      const headers = { authorization: `Bearer ${minted.body.token as string}` };
      expect(await api('GET', '/v1/points', { headers })).toMatchObject({
        status: 200,
        body: { userId: user, balance: 0 },
      });
      expect(outcome(await api('GET', '/v1/admin/queues/1', { headers }))).toBe('403 FORBIDDEN');
      const admin = await api('POST', '/v1/dev/tokens', { body: { userId: uid('boss'), role: 'admin' } });
      expect(outcome(admin)).toBe('201');
      const created = await api('POST', '/v1/admin/concerts', {
        headers: { authorization: `Bearer ${admin.body.token as string}` },
        body: {
          title: 'Dev',
          venue: 'Hall',
          schedules: [{ startsAt: '2030-01-01T19:00:00Z', seatCount: 1, price: 1 }],
        },
      });
      expect(outcome(created)).toBe('201');
    });

    it.each([
      [{}, 'userId'],
      [{ userId: 'has space' }, 'userId'],
      [{ userId: 'x'.repeat(65) }, 'userId'],
      [{ userId: 42 }, 'userId'],
      [{ userId: '42', role: 'root' }, 'role'],
      [{ userId: '42', extra: true }, 'extra'],
    ])('refuses %j with 400 VALIDATION_FAILED', async (body, field) => {
      const res = await api('POST', '/v1/dev/tokens', { body });
      expect(outcome(res)).toBe('400 VALIDATION_FAILED');
      if (field) expect(fieldsOf(res)).toContain(field);
    });

    it('refuses a broken body with 400 MALFORMED_JSON', async () => {
      expect(outcome(await api('POST', '/v1/dev/tokens', { raw: '{"userId": ' }))).toBe('400 MALFORMED_JSON');
    });

    it('does not exist when DEV_AUTH=0 (404 NOT_FOUND), and is not documented then', async () => {
      const off = await place.start({ DEV_AUTH: '0' });
      expect(outcome(await call(off, 'POST', '/v1/dev/tokens', { body: { userId: '42' } }))).toBe(
        '404 NOT_FOUND',
      );
      const doc = await call(off, 'GET', '/openapi.json');
      expect(Object.keys(doc.body.paths as object)).not.toContain('/v1/dev/tokens');
      expect(Object.keys(doc.body.paths as object)).toContain('/v1/points');
    });
  });

  describe('authentication', () => {
    it.each(userEndpoints)(
      '%s %s answers 401 UNAUTHENTICATED to a missing, forged, alg none, expired, wrong-audience or garbage bearer',
      async (method, path, body, extra) => {
        const user = uid('mallory');
        const bad = await badTokens(user);
        const kinds: [string, Headers][] = [
          ['missing', {}],
          ['not bearer', { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` }],
          ...Object.entries(bad).map(([kind, token]): [string, Headers] => [
            kind,
            { authorization: `Bearer ${token}` },
          ]),
        ];
        const seen: string[] = [];
        for (const [kind, auth] of kinds) {
          const res = await api(method, path, { headers: { ...extra, ...auth }, body });
          seen.push(`${kind}: ${outcome(res)}`);
        }
        expect(seen).toEqual(kinds.map(([kind]) => `${kind}: 401 UNAUTHENTICATED`));
        // The same request with a genuine token gets past authentication.
        const genuine = await api(method, path, { headers: { ...extra, ...(await bearer(user)) }, body });
        expect(genuine.status).not.toBe(401);
      },
    );

    it.each(adminEndpoints)(
      '%s %s: 401 without or with a bad bearer, 403 FORBIDDEN for a user token, not for an admin',
      async (method, path, body) => {
        const kinds: [string, Headers][] = [
          ['missing', {}],
          ...Object.entries(await badTokens('root')).map(([kind, token]): [string, Headers] => [
            kind,
            { authorization: `Bearer ${token}` },
          ]),
        ];
        const seen: string[] = [];
        for (const [kind, headers] of kinds) {
          seen.push(`${kind}: ${outcome(await api(method, path, { headers, body }))}`);
        }
        expect(seen).toEqual(kinds.map(([kind]) => `${kind}: 401 UNAUTHENTICATED`));
        expect(outcome(await api(method, path, { headers: await bearer(uid('user')), body }))).toBe(
          '403 FORBIDDEN',
        );
        const asAdmin = await api(method, path, { headers: await adminHeaders(), body });
        expect([200, 201, 404]).toContain(asAdmin.status);
      },
    );
  });

  describe('waiting queue', () => {
    it('enters ACTIVE with an access token, then lines users up WAITING in FIFO order once full', async () => {
      const { concertId } = await newConcert(server);
      const admin = await adminHeaders();
      const limited = await api('PUT', `/v1/admin/queues/${concertId}`, {
        headers: admin,
        body: { maxActive: 1 },
      });
      expect(limited).toMatchObject({ status: 200, body: { maxActive: 1, active: 1, waiting: 0 } });

      const alice = await bearer(uid('alice'));
      const bob = await bearer(uid('bob'));
      const first = await api('POST', '/v1/queue/tokens', { headers: alice, body: { concertId } });
      expect(first).toMatchObject({ status: 201, body: { status: 'WAITING', position: 1 } });
      expect(first.body).not.toHaveProperty('accessToken');
      expect(first.body.queueToken).toEqual(expect.any(String));
      const second = await api('POST', '/v1/queue/tokens', { headers: bob, body: { concertId } });
      expect(second).toMatchObject({ status: 201, body: { status: 'WAITING', position: 2 } });
      const again = await api('POST', '/v1/queue/tokens', { headers: alice, body: { concertId } });
      expect(again).toMatchObject({ status: 201, body: { status: 'WAITING', position: 1 } });

      const status = await api('GET', '/v1/queue/status', {
        headers: { ...bob, 'x-queue-token': second.body.queueToken as string },
      });
      expect(status).toMatchObject({ status: 200, body: { status: 'WAITING', position: 2 } });
      expect(await api('GET', `/v1/admin/queues/${concertId}`, { headers: admin })).toMatchObject({
        status: 200,
        body: { waiting: 2, active: 1 },
      });

      // A free slot admits the first in line.
      await api('PUT', `/v1/admin/queues/${concertId}`, { headers: admin, body: { maxActive: 2 } });
      const admitted = await api('GET', '/v1/queue/status', {
        headers: { ...alice, 'x-queue-token': first.body.queueToken as string },
      });
      expect(admitted).toMatchObject({ status: 200, body: { status: 'ACTIVE', position: 0 } });
      expect(admitted.body.accessToken).toEqual(expect.any(String));
      expect(Date.parse(admitted.body.activeUntil as string)).toBeGreaterThan(server.clock.now());
      expect(
        (
          await api('GET', '/v1/queue/status', {
            headers: { ...bob, 'x-queue-token': second.body.queueToken as string },
          })
        ).body,
      ).toMatchObject({ status: 'WAITING', position: 1 });
    });

    it.each([
      [{ concertId: 'abc' }, 'concertId'],
      [{ concertId: 1 }, 'concertId'],
      [{}, 'concertId'],
      [{ concertId: '1', extra: true }, ''],
    ])('POST /v1/queue/tokens refuses %j with 400 VALIDATION_FAILED', async (body, field) => {
      const res = await api('POST', '/v1/queue/tokens', { headers: await bearer(uid('v')), body });
      expect(outcome(res)).toBe('400 VALIDATION_FAILED');
      if (field) expect(fieldsOf(res)).toContain(field);
    });

    it('POST /v1/queue/tokens: 400 MALFORMED_JSON, 404 NOT_FOUND for an unknown concert', async () => {
      const headers = await bearer(uid('v'));
      expect(outcome(await api('POST', '/v1/queue/tokens', { headers, raw: '{"concertId": ' }))).toBe(
        '400 MALFORMED_JSON',
      );
      expect(
        outcome(await api('POST', '/v1/queue/tokens', { headers, body: { concertId: '987654321' } })),
      ).toBe('404 NOT_FOUND');
    });

    it("GET /v1/queue/status: 403 QUEUE_TOKEN_REQUIRED, 403 QUEUE_TOKEN_INVALID for another user's or a forged token", async () => {
      const { concertId } = await newConcert(server);
      const alice = await bearer(uid('alice'));
      const entered = await api('POST', '/v1/queue/tokens', { headers: alice, body: { concertId } });
      const queueToken = entered.body.queueToken as string;
      expect(outcome(await api('GET', '/v1/queue/status', { headers: alice }))).toBe(
        '403 QUEUE_TOKEN_REQUIRED',
      );
      const mallory = await bearer(uid('mallory'));
      expect(
        outcome(
          await api('GET', '/v1/queue/status', { headers: { ...mallory, 'x-queue-token': queueToken } }),
        ),
      ).toBe('403 QUEUE_TOKEN_INVALID');
      const forged = await createQueueTokens({
        secret: 'another-queue-secret-long-enough-0000000',
      }).issueQueueToken({ userId: 'x', concertId, seq: 1 }, server.clock.now());
      expect(
        outcome(await api('GET', '/v1/queue/status', { headers: { ...alice, 'x-queue-token': forged } })),
      ).toBe('403 QUEUE_TOKEN_INVALID');
      expect(
        outcome(
          await api('GET', '/v1/queue/status', { headers: { ...alice, 'x-queue-token': 'not-a-token' } }),
        ),
      ).toBe('403 QUEUE_TOKEN_INVALID');
      expect(
        outcome(await api('GET', '/v1/queue/status', { headers: { ...alice, 'x-queue-token': queueToken } })),
      ).toBe('200');
    });

    it('GET /v1/queue/stream: 200 event stream ending with ACTIVE; 403 QUEUE_TOKEN_REQUIRED and QUEUE_TOKEN_INVALID', async () => {
      const { concertId } = await newConcert(server);
      const entered = await api('POST', '/v1/queue/tokens', {
        headers: await bearer(uid('sse')),
        body: { concertId },
      });
      const res = await server.app.request(
        `/v1/queue/stream?queueToken=${encodeURIComponent(entered.body.queueToken as string)}`,
      );
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
      const events = (await res.text()).trim().split('\n\n');
      const last = events.at(-1)!;
      expect(last).toMatch(/^event: status$/m);
      expect(JSON.parse(last.split('data: ')[1]!)).toMatchObject({
        status: 'ACTIVE',
        accessToken: expect.any(String),
      });
      expect(outcome(await api('GET', '/v1/queue/stream'))).toBe('403 QUEUE_TOKEN_REQUIRED');
      expect(outcome(await api('GET', '/v1/queue/stream?queueToken=forged'))).toBe('403 QUEUE_TOKEN_INVALID');
    });
  });

  describe('concerts and seats', () => {
    it('lists concerts and schedules with available seats; 404 NOT_FOUND and 400 VALIDATION_FAILED', async () => {
      const { concertId, scheduleId, seatIds } = await newConcert(server, 3);
      const headers = await bearer(uid('fan'));
      const list = await api('GET', '/v1/concerts', { headers });
      expect(list.status).toBe(200);
      expect(list.body.items).toContainEqual(
        expect.objectContaining({ id: concertId, title: expect.any(String), venue: 'Hall' }),
      );
      const schedules = await api('GET', `/v1/concerts/${concertId}/schedules`, { headers });
      expect(schedules).toMatchObject({
        status: 200,
        body: {
          items: [{ id: scheduleId, concertId, startsAt: '2030-01-01T19:00:00.000Z', availableSeats: 3 }],
        },
      });
      await hold(server, await admittedUser(server, uid('holder'), concertId), scheduleId, seatIds[0]!);
      expect((await api('GET', `/v1/concerts/${concertId}/schedules`, { headers })).body.items).toMatchObject(
        [{ availableSeats: 2 }],
      );
      expect(outcome(await api('GET', '/v1/concerts/987654321/schedules', { headers }))).toBe(
        '404 NOT_FOUND',
      );
      expect(outcome(await api('GET', '/v1/concerts/abc/schedules', { headers }))).toBe(
        '400 VALIDATION_FAILED',
      );
    });

    it('GET seats [queue]: 200 seat map; 404 NOT_FOUND for an unknown schedule, 400 VALIDATION_FAILED for a bad id', async () => {
      const { concertId, scheduleId, seatIds } = await newConcert(server, 3, 45_000);
      const headers = await admittedUser(server, uid('fan'), concertId);
      const map = await api('GET', `/v1/schedules/${scheduleId}/seats`, { headers });
      expect(map).toMatchObject({
        status: 200,
        body: {
          scheduleId,
          items: [1, 2, 3].map((number, i) => ({
            id: seatIds[i],
            number,
            price: 45_000,
            status: 'AVAILABLE',
          })),
        },
      });
      expect(outcome(await api('GET', '/v1/schedules/987654321/seats', { headers }))).toBe('404 NOT_FOUND');
      expect(outcome(await api('GET', '/v1/schedules/abc/seats', { headers }))).toBe('400 VALIDATION_FAILED');
    });
  });

  describe('[queue] access on the seat map, holds and payments', () => {
    /** Queue tokens that must not open alice's [queue] endpoints, and what each must be answered. */
    async function attacks(alice: string, concertId: string) {
      const now = server.clock.now();
      const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
      const genuineKey = createQueueTokens({ secret: server.runtime.secrets.queueTokenSecret });
      const otherKey = createQueueTokens({ secret: 'another-queue-secret-long-enough-0000000' });
      const other = await newConcert(server, 1);
      const line = await api('POST', '/v1/queue/tokens', {
        headers: await bearer(alice),
        body: { concertId },
      });
      const invalid = '403 QUEUE_TOKEN_INVALID';
      const list: [kind: string, token: string | undefined, expected: string][] = [
        ['missing', undefined, '403 QUEUE_TOKEN_REQUIRED'],
        ["another user's", (await admittedUser(server, uid('bob'), concertId))['x-queue-token'], invalid],
        ["another concert's", (await admittedUser(server, alice, other.concertId))['x-queue-token'], invalid],
        ['the place-in-line token', line.body.queueToken as string, invalid],
        [
          'forged',
          await otherKey.issueAccessToken({ userId: alice, concertId, activeUntil: now + 600_000 }, now),
          invalid,
        ],
        [
          'alg none',
          `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: alice, cid: concertId, typ: 'access', iss: 'concert-queue', aud: 'concert-queue', jti: 'x', exp: Math.ceil(now / 1000) + 600 })}.`,
          invalid,
        ],
        ['a user JWT', (await bearer(alice)).authorization!.slice('Bearer '.length), invalid],
        ['garbage', 'not-a-token', invalid],
        [
          'expired',
          await genuineKey.issueAccessToken(
            { userId: alice, concertId, activeUntil: now - 1000 },
            now - 601_000,
          ),
          '403 QUEUE_NOT_ACTIVE',
        ],
      ];
      return list;
    }

    it.each(['seat map', 'hold', 'pay'])(
      '%s: 403 QUEUE_TOKEN_REQUIRED, QUEUE_TOKEN_INVALID (another user, concert, forged, alg none…), QUEUE_NOT_ACTIVE (expired)',
      async (endpoint) => {
        const { concertId, scheduleId, seatIds } = await newConcert(server);
        const alice = uid('alice');
        const own = await admittedUser(server, alice, concertId);
        const reservationId = await hold(server, own, scheduleId, seatIds[0]!);
        await fund(server, own, 100_000);
        const send = (token: string | undefined) => {
          const headers = {
            ...(token === undefined ? {} : { 'x-queue-token': token }),
            authorization: own.authorization!,
          };
          if (endpoint === 'seat map') return api('GET', `/v1/schedules/${scheduleId}/seats`, { headers });
          if (endpoint === 'hold')
            return api('POST', '/v1/reservations', { headers, body: { scheduleId, seatId: seatIds[1] } });
          return pay(server, headers, reservationId, `k-${randomUUID()}`);
        };
        const cases = await attacks(alice, concertId);
        const seen: string[] = [];
        for (const [kind, token] of cases) seen.push(`${kind}: ${outcome(await send(token))}`);
        expect(seen).toEqual(cases.map(([kind, , expected]) => `${kind}: ${expected}`));
        // Nothing happened on the way, and alice's own access token still works.
        expect(await balanceOf(server, own)).toBe(100_000);
        expect(outcome(await send(own['x-queue-token']))).toBe(endpoint === 'seat map' ? '200' : '201');
      },
    );

    it('after a payment ends the slot: 403 QUEUE_NOT_ACTIVE on the seat map, holds and payments; the payment still replays', async () => {
      const user = uid('alice');
      const { concertId, scheduleId, seatIds, headers, ids } = await fundedHolds(server, user, 100_000, 2);
      const [first, second] = ids as [string, string];
      const paid = await pay(server, headers, first, 'pay-first');
      expect(outcome(paid)).toBe('201');

      expect(outcome(await api('GET', `/v1/schedules/${scheduleId}/seats`, { headers }))).toBe(
        '403 QUEUE_NOT_ACTIVE',
      );
      expect(
        outcome(await api('POST', '/v1/reservations', { headers, body: { scheduleId, seatId: seatIds[2] } })),
      ).toBe('403 QUEUE_NOT_ACTIVE');
      expect(outcome(await pay(server, headers, second, 'pay-second'))).toBe('403 QUEUE_NOT_ACTIVE');
      const replay = await pay(server, headers, first, 'pay-first');
      expect(outcome(replay)).toBe('201');
      expect(replay.body).toEqual(paid.body);
      expect(replay.headers.get('idempotent-replayed')).toBe('true');
      expect(await balanceOf(server, headers)).toBe(70_000);

      // Entering again gives a new slot with a new access token.
      const back = await admittedUser(server, user, concertId);
      expect(await seatStatuses(server, back, scheduleId)).toEqual([
        'SOLD',
        'HELD',
        'AVAILABLE',
        'AVAILABLE',
      ]);
    });

    it('after activeTtlSeconds: 403 QUEUE_NOT_ACTIVE', async () => {
      const { concertId, scheduleId } = await newConcert(server);
      const headers = await admittedUser(server, uid('slow'), concertId);
      expect(outcome(await api('GET', `/v1/schedules/${scheduleId}/seats`, { headers }))).toBe('200');
      server.clock.advance(601_000);
      expect(outcome(await api('GET', `/v1/schedules/${scheduleId}/seats`, { headers }))).toBe(
        '403 QUEUE_NOT_ACTIVE',
      );
    });
  });

  describe('holds', () => {
    it('POST /v1/reservations: 201 HELD until HOLD_TTL_SECONDS; 409 SEAT_TAKEN for another user', async () => {
      const { concertId, scheduleId, seatIds } = await newConcert(server);
      const alice = await admittedUser(server, uid('alice'), concertId);
      const held = await api('POST', '/v1/reservations', {
        headers: alice,
        body: { scheduleId, seatId: seatIds[1] },
      });
      expect(held).toMatchObject({
        status: 201,
        body: {
          id: expect.any(String),
          scheduleId,
          seatId: seatIds[1],
          status: 'HELD',
          price: 30_000,
          expiresAt: new Date(server.clock.now() + 60_000).toISOString(),
        },
      });
      expect(await seatStatuses(server, alice, scheduleId)).toEqual([
        'AVAILABLE',
        'HELD',
        'AVAILABLE',
        'AVAILABLE',
      ]);
      const bob = await admittedUser(server, uid('bob'), concertId);
      expect(
        outcome(
          await api('POST', '/v1/reservations', { headers: bob, body: { scheduleId, seatId: seatIds[1] } }),
        ),
      ).toBe('409 SEAT_TAKEN');
      // A sold seat is taken too.
      await fund(server, alice, 30_000);
      expect(outcome(await pay(server, alice, held.body.id as string, 'sell'))).toBe('201');
      expect(
        outcome(
          await api('POST', '/v1/reservations', { headers: bob, body: { scheduleId, seatId: seatIds[1] } }),
        ),
      ).toBe('409 SEAT_TAKEN');
    });

    it('POST /v1/reservations: 404 NOT_FOUND for an unknown schedule, an unknown seat, or a seat of another schedule', async () => {
      const { concertId, scheduleId } = await newConcert(server);
      const other = await newConcert(server, 1);
      const headers = await admittedUser(server, uid('lost'), concertId);
      const tries = [
        { scheduleId: '987654321', seatId: other.seatIds[0]! },
        { scheduleId, seatId: '987654321' },
        { scheduleId, seatId: other.seatIds[0]! },
      ];
      const seen = [];
      for (const body of tries) seen.push(outcome(await api('POST', '/v1/reservations', { headers, body })));
      expect(seen).toEqual(['404 NOT_FOUND', '404 NOT_FOUND', '404 NOT_FOUND']);
      // The seat of the other schedule was not touched.
      expect(
        await seatStatuses(
          server,
          await admittedUser(server, uid('other'), other.concertId),
          other.scheduleId,
        ),
      ).toEqual(['AVAILABLE']);
    });

    it('POST /v1/reservations: 404 NOT_FOUND for a seat of another schedule whether it is sold, held or free', async () => {
      const { concertId, scheduleId } = await newConcert(server);
      const other = await fundedHolds(server, uid('owner'), 30_000, 2);
      expect(outcome(await pay(server, other.headers, other.ids[0]!, 'sell'))).toBe('201');
      const headers = await admittedUser(server, uid('astray'), concertId);
      const seen = [];
      for (const seatId of other.seatIds.slice(0, 3))
        seen.push(outcome(await api('POST', '/v1/reservations', { headers, body: { scheduleId, seatId } })));
      expect(seen).toEqual(['404 NOT_FOUND', '404 NOT_FOUND', '404 NOT_FOUND']);
      const viewer = await admittedUser(server, uid('viewer'), other.concertId);
      expect(await seatStatuses(server, viewer, other.scheduleId)).toEqual([
        'SOLD',
        'HELD',
        'AVAILABLE',
        'AVAILABLE',
      ]);
    });

    it.each([
      [{}, 'scheduleId'],
      [{ scheduleId: '1' }, 'seatId'],
      [{ scheduleId: 'abc', seatId: '1' }, 'scheduleId'],
      [{ scheduleId: 1, seatId: 1 }, 'scheduleId'],
      [{ scheduleId: '1', seatId: '-1' }, 'seatId'],
      [{ scheduleId: '1', seatId: '1', extra: true }, ''],
    ])('POST /v1/reservations refuses %j with 400 VALIDATION_FAILED', async (body, field) => {
      const res = await api('POST', '/v1/reservations', { headers: await bearer(uid('v')), body });
      expect(outcome(res)).toBe('400 VALIDATION_FAILED');
      if (field) expect(fieldsOf(res)).toContain(field);
    });

    it('POST /v1/reservations refuses a broken body with 400 MALFORMED_JSON', async () => {
      const { concertId } = await newConcert(server, 1);
      const headers = await admittedUser(server, uid('v'), concertId);
      expect(outcome(await api('POST', '/v1/reservations', { headers, raw: '{"scheduleId": "1", ' }))).toBe(
        '400 MALFORMED_JSON',
      );
    });
  });

  describe('reservations: read and cancel', () => {
    it('GET: 200 HELD for the holder; 403 FORBIDDEN for another user; 404 NOT_FOUND; 400 VALIDATION_FAILED', async () => {
      const { concertId, scheduleId, seatIds } = await newConcert(server);
      const alice = await admittedUser(server, uid('alice'), concertId);
      const id = await hold(server, alice, scheduleId, seatIds[0]!);
      expect(await api('GET', `/v1/reservations/${id}`, { headers: alice })).toMatchObject({
        status: 200,
        body: { id, scheduleId, seatId: seatIds[0], status: 'HELD', price: 30_000 },
      });
      const bob = await bearer(uid('bob'));
      expect(outcome(await api('GET', `/v1/reservations/${id}`, { headers: bob }))).toBe('403 FORBIDDEN');
      expect(outcome(await api('GET', '/v1/reservations/987654321', { headers: alice }))).toBe(
        '404 NOT_FOUND',
      );
      expect(outcome(await api('GET', '/v1/reservations/9999999999999999999', { headers: alice }))).toBe(
        '404 NOT_FOUND',
      );
      expect(outcome(await api('GET', '/v1/reservations/abc', { headers: alice }))).toBe(
        '400 VALIDATION_FAILED',
      );
      expect(outcome(await api('GET', '/v1/reservations/1.5', { headers: alice }))).toBe(
        '400 VALIDATION_FAILED',
      );
    });

    it('DELETE: 200 CANCELLED and the seat is free at once; reading it answers CANCELLED; 403, 404 and 400 leave holds alone', async () => {
      const { concertId, scheduleId, seatIds } = await newConcert(server);
      const alice = await admittedUser(server, uid('alice'), concertId);
      const id = await hold(server, alice, scheduleId, seatIds[0]!);
      const bob = await admittedUser(server, uid('bob'), concertId);
      expect(outcome(await api('DELETE', `/v1/reservations/${id}`, { headers: bob }))).toBe('403 FORBIDDEN');
      expect(outcome(await api('DELETE', '/v1/reservations/987654321', { headers: alice }))).toBe(
        '404 NOT_FOUND',
      );
      expect(outcome(await api('DELETE', '/v1/reservations/abc', { headers: alice }))).toBe(
        '400 VALIDATION_FAILED',
      );
      expect((await api('GET', `/v1/reservations/${id}`, { headers: alice })).body.status).toBe('HELD');

      const cancelled = await api('DELETE', `/v1/reservations/${id}`, { headers: alice });
      expect(cancelled).toMatchObject({ status: 200, body: { id, status: 'CANCELLED' } });
      expect(await api('GET', `/v1/reservations/${id}`, { headers: alice })).toMatchObject({
        status: 200,
        body: { id, status: 'CANCELLED' },
      });
      expect(await api('DELETE', `/v1/reservations/${id}`, { headers: alice })).toMatchObject({
        status: 200,
        body: { status: 'CANCELLED' },
      });
      expect(await seatStatuses(server, bob, scheduleId)).toEqual([
        'AVAILABLE',
        'AVAILABLE',
        'AVAILABLE',
        'AVAILABLE',
      ]);
      expect(
        outcome(
          await api('POST', '/v1/reservations', { headers: bob, body: { scheduleId, seatId: seatIds[0] } }),
        ),
      ).toBe('201');
    });

    it('DELETE a lapsed hold: 409 HOLD_EXPIRED, and it reads EXPIRED', async () => {
      const { concertId, scheduleId, seatIds } = await newConcert(server);
      const alice = await admittedUser(server, uid('alice'), concertId);
      const id = await hold(server, alice, scheduleId, seatIds[0]!);
      server.clock.advance(60_001);
      expect(outcome(await api('DELETE', `/v1/reservations/${id}`, { headers: alice }))).toBe(
        '409 HOLD_EXPIRED',
      );
      expect(await api('GET', `/v1/reservations/${id}`, { headers: alice })).toMatchObject({
        status: 200,
        body: { status: 'EXPIRED' },
      });
    });
  });

  describe('payments', () => {
    it('201 PAID, replayed for the same key with Idempotent-Replayed, charged once; then ALREADY_PAID and IDEMPOTENCY_KEY_REUSED', async () => {
      const user = uid('alice');
      const { concertId, headers, ids } = await fundedHolds(server, user, 100_000, 2);
      const [id, other] = ids as [string, string];
      const paid = await pay(server, headers, id, 'pay-1');
      expect(paid).toMatchObject({
        status: 201,
        body: {
          paymentId: expect.any(String),
          reservationId: id,
          amount: 30_000,
          status: 'PAID',
          balance: 70_000,
        },
      });
      expect(paid.headers.get('idempotent-replayed')).toBeNull();
      const again = await pay(server, headers, id, 'pay-1');
      expect(outcome(again)).toBe('201');
      expect(again.body).toEqual(paid.body);
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      expect(await balanceOf(server, headers)).toBe(70_000);
      expect((await api('GET', `/v1/reservations/${id}`, { headers })).body.status).toBe('CONFIRMED');
      const history = await api('GET', '/v1/points/history', { headers });
      expect((history.body.items as { type: string }[]).map((e) => e.type)).toEqual(['USE', 'CHARGE']);

      const fresh = await admittedUser(server, user, concertId);
      expect(outcome(await pay(server, fresh, id, 'pay-2'))).toBe('409 ALREADY_PAID');
      expect(outcome(await api('DELETE', `/v1/reservations/${id}`, { headers: fresh }))).toBe(
        '409 ALREADY_PAID',
      );
      expect(outcome(await pay(server, fresh, other, 'pay-1'))).toBe('409 IDEMPOTENCY_KEY_REUSED');
      expect(await balanceOf(server, headers)).toBe(70_000);
      expect((await api('GET', `/v1/reservations/${other}`, { headers })).body.status).toBe('HELD');
    });

    it('409 INSUFFICIENT_POINTS leaves the wallet, the hold and the key as they were', async () => {
      const { headers, id } = await fundedHolds(server, uid('poor'), 29_999);
      expect(outcome(await pay(server, headers, id, 'try'))).toBe('409 INSUFFICIENT_POINTS');
      expect(await balanceOf(server, headers)).toBe(29_999);
      expect((await api('GET', `/v1/reservations/${id}`, { headers })).body.status).toBe('HELD');
      await fund(server, headers, 1);
      expect(await pay(server, headers, id, 'try')).toMatchObject({ status: 201, body: { balance: 0 } });
    });

    it('409 HOLD_EXPIRED after the hold ran out, nothing charged', async () => {
      const { headers, id } = await fundedHolds(server, uid('late'), 50_000);
      server.clock.advance(60_001);
      expect(outcome(await pay(server, headers, id, 'late'))).toBe('409 HOLD_EXPIRED');
      expect(await balanceOf(server, headers)).toBe(50_000);
      expect((await api('GET', `/v1/reservations/${id}`, { headers })).body.status).toBe('EXPIRED');
    });

    it('409 HOLD_EXPIRED for a cancelled reservation (said in the message), nothing charged', async () => {
      const { headers, id } = await fundedHolds(server, uid('undecided'), 50_000);
      expect((await api('DELETE', `/v1/reservations/${id}`, { headers })).status).toBe(200);
      const refused = await pay(server, headers, id, 'after-cancel');
      expect(refused).toMatchObject({
        status: 409,
        body: { error: { code: 'HOLD_EXPIRED', message: 'The reservation was cancelled' } },
      });
      expect(await balanceOf(server, headers)).toBe(50_000);
    });

    it("403 FORBIDDEN on another user's reservation, 404 NOT_FOUND, 400 VALIDATION_FAILED for a bad id", async () => {
      const { concertId, scheduleId, seatIds } = await newConcert(server);
      const alice = await admittedUser(server, uid('alice'), concertId);
      const id = await hold(server, alice, scheduleId, seatIds[0]!);
      const bob = await admittedUser(server, uid('bob'), concertId);
      await fund(server, bob, 100_000);
      expect(outcome(await pay(server, bob, id, 'steal'))).toBe('403 FORBIDDEN');
      expect(outcome(await pay(server, bob, '987654321', 'none'))).toBe('404 NOT_FOUND');
      expect(outcome(await pay(server, bob, 'abc', 'bad'))).toBe('400 VALIDATION_FAILED');
      expect(await balanceOf(server, bob)).toBe(100_000);
      expect((await api('GET', `/v1/reservations/${id}`, { headers: alice })).body.status).toBe('HELD');
    });

    it('400 VALIDATION_FAILED without a key, with a key over 64 characters or with a body; 400 MALFORMED_JSON; a 64-character key pays', async () => {
      const { headers, id } = await fundedHolds(server, uid('alice'), 30_000);
      const path = `/v1/reservations/${id}/payments`;
      const noKey = await api('POST', path, { headers, body: {} });
      expect(outcome(noKey)).toBe('400 VALIDATION_FAILED');
      expect(fieldsOf(noKey)).toContain('idempotency-key');
      const long = await pay(server, headers, id, 'k'.repeat(65));
      expect(outcome(long)).toBe('400 VALIDATION_FAILED');
      expect(fieldsOf(long)).toContain('idempotency-key');
      expect(outcome(await pay(server, headers, id, 'has space'))).toBe('400 VALIDATION_FAILED');
      expect(outcome(await pay(server, headers, id, 'k', { amount: 1 }))).toBe('400 VALIDATION_FAILED');
      expect(
        outcome(await api('POST', path, { headers: { ...headers, 'idempotency-key': 'k' }, raw: '{' })),
      ).toBe('400 MALFORMED_JSON');
      expect(await balanceOf(server, headers)).toBe(30_000);
      expect(outcome(await pay(server, headers, id, 'k'.repeat(64)))).toBe('201');
    });
  });

  describe('points', () => {
    it('GET /v1/points and POST /v1/points/charges: 200 and 201, replayed for the same key, 409 IDEMPOTENCY_KEY_REUSED for another amount', async () => {
      const user = uid('saver');
      const headers = await bearer(user);
      expect(await api('GET', '/v1/points', { headers })).toMatchObject({
        status: 200,
        body: { userId: user, balance: 0 },
      });
      const charge = (amount: number, key: string) =>
        api('POST', '/v1/points/charges', {
          headers: { ...headers, 'idempotency-key': key },
          body: { amount },
        });
      const first = await charge(10_000_000, 'c1');
      expect(first).toMatchObject({
        status: 201,
        body: { userId: user, balance: 10_000_000, chargeId: expect.any(String) },
      });
      const again = await charge(10_000_000, 'c1');
      expect(outcome(again)).toBe('201');
      expect(again.body).toEqual(first.body);
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      expect(outcome(await charge(5, 'c1'))).toBe('409 IDEMPOTENCY_KEY_REUSED');
      expect(await charge(1, 'c2')).toMatchObject({ status: 201, body: { balance: 10_000_001 } });
      expect(await api('GET', '/v1/points', { headers })).toMatchObject({ body: { balance: 10_000_001 } });
    });

    it.each([
      [{ amount: 0 }, 'k', 'amount'],
      [{ amount: 10_000_001 }, 'k', 'amount'],
      [{ amount: 1.5 }, 'k', 'amount'],
      [{ amount: '5' }, 'k', 'amount'],
      [{}, 'k', 'amount'],
      [{ amount: 5, extra: 1 }, 'k', ''],
      [{ amount: 5 }, undefined, 'idempotency-key'],
      [{ amount: 5 }, 'k'.repeat(65), 'idempotency-key'],
    ])('POST /v1/points/charges refuses %j (key %s) with 400 VALIDATION_FAILED', async (body, key, field) => {
      const headers = {
        ...(await bearer(uid('v'))),
        ...(key === undefined ? {} : { 'idempotency-key': key }),
      };
      const res = await api('POST', '/v1/points/charges', { headers, body });
      expect(outcome(res)).toBe('400 VALIDATION_FAILED');
      if (field) expect(fieldsOf(res)).toContain(field);
      expect((await api('GET', '/v1/points', { headers })).body.balance).toBe(0);
    });

    it('POST /v1/points/charges: 400 MALFORMED_JSON, 413 PAYLOAD_TOO_LARGE over 64 KB', async () => {
      const headers = { ...(await bearer(uid('v'))), 'idempotency-key': 'k' };
      expect(outcome(await api('POST', '/v1/points/charges', { headers, raw: '{"amount": 5' }))).toBe(
        '400 MALFORMED_JSON',
      );
      const big = JSON.stringify({ amount: 5, pad: 'x'.repeat(70_000) });
      expect(outcome(await api('POST', '/v1/points/charges', { headers, raw: big }))).toBe(
        '413 PAYLOAD_TOO_LARGE',
      );
      expect((await api('GET', '/v1/points', { headers })).body.balance).toBe(0);
    });

    it('GET /v1/points/history pages with a cursor, newest first, without duplicates or gaps', async () => {
      const headers = await bearer(uid('pager'));
      const charged: string[] = [];
      for (let amount = 1; amount <= 7; amount++) {
        const res = await api('POST', '/v1/points/charges', {
          headers: { ...headers, 'idempotency-key': `h${amount}` },
          body: { amount },
        });
        charged.push(res.body.chargeId as string);
      }
      const pages: { id: string; type: string; amount: number; balanceAfter: number; at: string }[][] = [];
      let cursor: string | null = null;
      do {
        const query: string = cursor === null ? '?limit=3' : `?limit=3&cursor=${encodeURIComponent(cursor)}`;
        const page = await api('GET', `/v1/points/history${query}`, { headers });
        expect(page.status).toBe(200);
        pages.push(page.body.items as (typeof pages)[number]);
        cursor = page.body.nextCursor as string | null;
      } while (cursor !== null && pages.length < 10);
      expect(pages.map((p) => p.length)).toEqual([3, 3, 1]);
      const items = pages.flat();
      expect(items.map((e) => e.id)).toEqual([...charged].reverse());
      expect(items.map((e) => `${e.type} ${e.amount} ${e.balanceAfter}`)).toEqual(
        [7, 6, 5, 4, 3, 2, 1].map((n) => `CHARGE ${n} ${(n * (n + 1)) / 2}`),
      );
      expect(items.every((e) => e.at === new Date(server.clock.now()).toISOString())).toBe(true);
      // A limit larger than the ledger: one page, no cursor.
      expect(await api('GET', '/v1/points/history?limit=100', { headers })).toMatchObject({
        status: 200,
        body: { nextCursor: null },
      });
    });

    it.each([
      ['limit=0', 'limit'],
      ['limit=101', 'limit'],
      ['limit=x', 'limit'],
      ['limit=1.5', 'limit'],
      ['cursor=garbage', 'cursor'],
      [`cursor=${Buffer.from('l:abc').toString('base64url')}`, 'cursor'],
      [`cursor=${'x'.repeat(65)}`, 'cursor'],
    ])('GET /v1/points/history?%s answers 400 VALIDATION_FAILED', async (query, field) => {
      const res = await api('GET', `/v1/points/history?${query}`, { headers: await bearer(uid('v')) });
      expect(outcome(res)).toBe('400 VALIDATION_FAILED');
      expect(fieldsOf(res)).toContain(field);
    });
  });

  describe('admin', () => {
    it('POST /v1/admin/concerts: 201 with seats 1..seatCount; 400 VALIDATION_FAILED with details; 400 MALFORMED_JSON', async () => {
      const headers = await adminHeaders();
      const created = await api('POST', '/v1/admin/concerts', {
        headers,
        body: {
          title: 'Gala',
          venue: 'Arena',
          schedules: [
            { startsAt: '2030-02-01T19:00:00Z', seatCount: 2, price: 10 },
            { startsAt: '2030-02-02T19:00:00Z', price: 20 },
          ],
        },
      });
      expect(created).toMatchObject({
        status: 201,
        body: {
          id: expect.any(String),
          title: 'Gala',
          venue: 'Arena',
          schedules: [
            { id: expect.any(String), startsAt: '2030-02-01T19:00:00.000Z', seatCount: 2, price: 10 },
            { id: expect.any(String), startsAt: '2030-02-02T19:00:00.000Z', seatCount: 50, price: 20 },
          ],
        },
      });
      const schedules = created.body.schedules as { id: string }[];
      const fan = await admittedUser(server, uid('fan'), created.body.id as string);
      const numbers = async (scheduleId: string) =>
        (
          (await api('GET', `/v1/schedules/${scheduleId}/seats`, { headers: fan })).body.items as {
            number: number;
          }[]
        ).map((s) => s.number);
      expect(await numbers(schedules[0]!.id)).toEqual([1, 2]);
      expect(await numbers(schedules[1]!.id)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));

      const invalid = await api('POST', '/v1/admin/concerts', {
        headers,
        body: { title: '', venue: 'Arena', schedules: [{ startsAt: 'soon', seatCount: 0, price: -1 }] },
      });
      expect(outcome(invalid)).toBe('400 VALIDATION_FAILED');
      expect(fieldsOf(invalid)).toEqual(
        expect.arrayContaining([
          'title',
          'schedules.0.startsAt',
          'schedules.0.seatCount',
          'schedules.0.price',
        ]),
      );
      expect(
        outcome(
          await api('POST', '/v1/admin/concerts', {
            headers,
            body: { title: 'x', venue: 'y', schedules: [] },
          }),
        ),
      ).toBe('400 VALIDATION_FAILED');
      expect(outcome(await api('POST', '/v1/admin/concerts', { headers, raw: '{"title": "x",' }))).toBe(
        '400 MALFORMED_JSON',
      );
    });

    it('GET and PUT /v1/admin/queues/{id}: 200; 404 NOT_FOUND; 400 VALIDATION_FAILED; 400 MALFORMED_JSON; a user cannot change it', async () => {
      const { concertId } = await newConcert(server, 1);
      const headers = await adminHeaders();
      const path = `/v1/admin/queues/${concertId}`;
      expect(await api('GET', path, { headers })).toMatchObject({
        status: 200,
        body: { waiting: 0, active: 1, admittedTotal: 1, paused: false, maxActive: 500, opensAt: null },
      });
      const opensAt = new Date(server.clock.now() + 3_600_000).toISOString();
      expect(
        await api('PUT', path, {
          headers,
          body: {
            maxActive: 7,
            admitPerSecond: 3,
            activeTtlSeconds: 120,
            idleTimeoutSeconds: 60,
            paused: true,
            opensAt,
          },
        }),
      ).toMatchObject({
        status: 200,
        body: {
          maxActive: 7,
          admitPerSecond: 3,
          activeTtlSeconds: 120,
          idleTimeoutSeconds: 60,
          paused: true,
          opensAt,
        },
      });
      expect(
        outcome(await api('PUT', path, { headers: await bearer(uid('user')), body: { paused: false } })),
      ).toBe('403 FORBIDDEN');
      expect((await api('GET', path, { headers })).body).toMatchObject({ paused: true, maxActive: 7 });

      expect(outcome(await api('GET', '/v1/admin/queues/987654321', { headers }))).toBe('404 NOT_FOUND');
      expect(
        outcome(await api('PUT', '/v1/admin/queues/987654321', { headers, body: { paused: true } })),
      ).toBe('404 NOT_FOUND');
      expect(outcome(await api('GET', '/v1/admin/queues/abc', { headers }))).toBe('400 VALIDATION_FAILED');
      expect(outcome(await api('PUT', '/v1/admin/queues/abc', { headers, body: {} }))).toBe(
        '400 VALIDATION_FAILED',
      );
      for (const [body, field] of [
        [{ maxActive: 0 }, 'maxActive'],
        [{ activeTtlSeconds: 5 }, 'activeTtlSeconds'],
        [{ paused: 'yes' }, 'paused'],
        [{ opensAt: 'tomorrow' }, 'opensAt'],
      ] as const) {
        const res = await api('PUT', path, { headers, body });
        expect(`${field}: ${outcome(res)} ${fieldsOf(res).includes(field)}`).toBe(
          `${field}: 400 VALIDATION_FAILED true`,
        );
      }
      expect(outcome(await api('PUT', path, { headers, raw: '{"paused": tru' }))).toBe('400 MALFORMED_JSON');
      expect((await api('GET', path, { headers })).body).toMatchObject({ paused: true, maxActive: 7 });
    });
  });

  describe('rate limits (RATE_LIMIT_PER_SECOND=1, RATE_LIMIT_BURST=2)', () => {
    let limited: TestServer;
    beforeAll(async () => {
      limited = await place.start({ RATE_LIMIT_PER_SECOND: '1', RATE_LIMIT_BURST: '2' });
    });

    it.each(userEndpoints)(
      '%s %s: the third request in a second is 429 RATE_LIMITED with Retry-After',
      async (method, path, body, extra) => {
        const headers = { ...extra, ...(await bearer(uid('busy'))) };
        const seen: string[] = [];
        for (let i = 0; i < 3; i++) seen.push(outcome(await call(limited, method, path, { headers, body })));
        expect(seen[0]).not.toMatch(/^429/);
        expect(seen[1]).not.toMatch(/^429/);
        expect(seen[2]).toBe('429 RATE_LIMITED');
        const refused = await call(limited, method, path, { headers, body });
        expect(outcome(refused)).toBe('429 RATE_LIMITED');
        expect(refused.headers.get('retry-after')).toBe('1');
      },
    );

    it('limits per user, and a second later lets the user in again', async () => {
      const busy = await bearer(uid('busy'));
      for (let i = 0; i < 2; i++)
        expect(outcome(await call(limited, 'GET', '/v1/points', { headers: busy }))).toBe('200');
      expect(outcome(await call(limited, 'GET', '/v1/points', { headers: busy }))).toBe('429 RATE_LIMITED');
      expect(outcome(await call(limited, 'GET', '/v1/points', { headers: await bearer(uid('calm')) }))).toBe(
        '200',
      );
      limited.clock.advance(1000);
      expect(outcome(await call(limited, 'GET', '/v1/points', { headers: busy }))).toBe('200');
    });

    it('GET /v1/queue/stream: 429 RATE_LIMITED with Retry-After for the same user', async () => {
      const { concertId } = await newConcert(limited, 1);
      const user = await bearer(uid('streamer'));
      const entered = await call(limited, 'POST', '/v1/queue/tokens', { headers: user, body: { concertId } });
      const path = `/v1/queue/stream?queueToken=${encodeURIComponent(entered.body.queueToken as string)}`;
      const first = await limited.app.request(path);
      expect(first.status).toBe(200);
      await first.text();
      const refused = await call(limited, 'GET', path);
      expect(outcome(refused)).toBe('429 RATE_LIMITED');
      expect(refused.headers.get('retry-after')).toBe('1');
    });
  });

  describe('hold expiry (HOLD_TTL_SECONDS=1)', () => {
    it('an expired hold cannot be paid (409 HOLD_EXPIRED) and another user can take the seat', async () => {
      const short = await place.start({ HOLD_TTL_SECONDS: '1' });
      const { concertId, scheduleId, seatIds } = await newConcert(short, 2);
      const alice = await admittedUser(short, uid('alice'), concertId);
      await fund(short, alice, 100_000);
      const lapsed = await hold(short, alice, scheduleId, seatIds[0]!);
      short.clock.advance(1001);
      // The Redis guard's TTL runs on Redis's clock, which the manual clock cannot move.
      if (target.real) await sleep(1100);

      expect(outcome(await pay(short, alice, lapsed, 'too-late'))).toBe('409 HOLD_EXPIRED');
      expect(await balanceOf(short, alice)).toBe(100_000);
      expect((await call(short, 'GET', `/v1/reservations/${lapsed}`, { headers: alice })).body.status).toBe(
        'EXPIRED',
      );

      const bob = await admittedUser(short, uid('bob'), concertId);
      const taken = await call(short, 'POST', '/v1/reservations', {
        headers: bob,
        body: { scheduleId, seatId: seatIds[0] },
      });
      expect(taken).toMatchObject({ status: 201, body: { status: 'HELD', seatId: seatIds[0] } });
      expect(taken.body.id).not.toBe(lapsed);
      expect(outcome(await pay(short, alice, lapsed, 'too-late-2'))).toBe('409 HOLD_EXPIRED');
      expect(outcome(await call(short, 'DELETE', `/v1/reservations/${lapsed}`, { headers: alice }))).toBe(
        '409 HOLD_EXPIRED',
      );
      await fund(short, bob, 30_000);
      expect(outcome(await pay(short, bob, taken.body.id as string, 'in-time'))).toBe('201');
      expect(await seatStatuses(short, alice, scheduleId)).toEqual(['SOLD', 'AVAILABLE']);
      expect((await call(short, 'GET', `/v1/reservations/${lapsed}`, { headers: alice })).body.status).toBe(
        'EXPIRED',
      );
    });
  });
});
