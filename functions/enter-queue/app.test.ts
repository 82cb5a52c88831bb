import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createQueueAccess } from '../../shared/queue/access-token-check.ts';
import { createLineSnapshots, type LineSnapshots } from '../../shared/queue/line-snapshot.ts';
import { createMemoryQueueStore } from '../../shared/queue/memory-queue-store.ts';
import type { QueueStore } from '../../shared/queue/queue-store.ts';
import { createQueueTokens } from '../../shared/queue/queue-tokens.ts';
import { createMemoryRateLimiter } from '../../shared/rate-limit/memory-rate-limiter.ts';
import { orThrow } from '../../shared/result.ts';
import { badTokens, bearer, httpOptions, manualClock, testTokens } from '../../tests/support/harness.ts';
import { createApp, type EnterQueueDeps } from './app.ts';

const queueSecret = 'queue-secret-that-is-long-enough-0123456789';
const defaults = { maxActive: 2, admitPerSecond: 10, activeTtlSeconds: 600, idleTimeoutSeconds: 30 };

interface Answer {
  queueToken: string;
  status: 'WAITING' | 'ACTIVE';
  position: number;
  etaSeconds: number;
  pollAfterSeconds: number;
  paused: boolean;
  accessToken?: string;
  activeUntil?: string;
  opensAt?: string;
}
interface ErrorBody {
  error: { code: string; message: string; requestId: string; details?: { field: string }[] };
}

let clock: ReturnType<typeof manualClock>;
let store: QueueStore;
let activated: [string, string[]][];
let app: ReturnType<typeof createApp>;
const tokens = createQueueTokens({ secret: queueSecret });

function makeApp(over: Partial<EnterQueueDeps> = {}, burst = 1000) {
  return createApp(
    {
      store,
      tokens,
      clock,
      userTokens: testTokens(),
      rateLimiter: createMemoryRateLimiter({ perSecond: 1, burst }),
      onActivated: (concertId, ids) => {
        activated.push([concertId, ids]);
      },
      stream: { checkMs: 5, maxStreamMs: 60_000, keepAliveMs: 15_000 },
      ...over,
    },
    httpOptions(),
  );
}

beforeEach(() => {
  clock = manualClock();
  store = createMemoryQueueStore(defaults);
  activated = [];
  app = makeApp();
});

const post = (path: string, headers: Record<string, string>, body: unknown) =>
  app.request(path, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

async function enter(userId: string, concertId = '1'): Promise<Answer> {
  const res = await post('/v1/queue/tokens', await bearer(userId), { concertId });
  expect(res.status).toBe(201);
  return (await res.json()) as Answer;
}

async function status(userId: string, queueToken: string | undefined) {
  const headers: Record<string, string> = await bearer(userId);
  if (queueToken !== undefined) headers['x-queue-token'] = queueToken;
  return app.request('/v1/queue/status', { headers });
}

const codeOf = async (res: Response) => ((await res.json()) as ErrorBody).error.code;

describe('enter-queue: happy path', () => {
  it('admits at once while there is room, then lines users up; status admits them as slots free', async () => {
    const a = await enter('a');
    expect(a).toMatchObject({ status: 'ACTIVE', position: 0, etaSeconds: 0 });
    expect(a.accessToken).toBeTruthy();
    expect(a.activeUntil).toBe(new Date(clock.now() + 600_000).toISOString());
    await enter('b');
    const c = await enter('c');
    expect(c).toMatchObject({ status: 'WAITING', position: 1 });
    expect(c.accessToken).toBeUndefined();
    expect(c.pollAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(c.pollAfterSeconds).toBeLessThanOrEqual(10); // a third of the 30 s idle timeout
    expect(c.etaSeconds).toBeGreaterThan(0);

    const waiting = await status('c', c.queueToken);
    expect(waiting.status).toBe(200);
    expect(await waiting.json()).toMatchObject({ status: 'WAITING', position: 1, queueToken: c.queueToken });

    // a pays: the slot frees, c's next poll admits c, and c's access token passes the [queue] guard.
    const access = createQueueAccess({ tokens, store, clock });
    await access.release('1', 'a');
    clock.advance(1000);
    const active = (await (await status('c', c.queueToken)).json()) as Answer;
    expect(active).toMatchObject({ status: 'ACTIVE', position: 0 });
    expect(orThrow(await access.check(active.accessToken, 'c', '1'))).toEqual({
      activeUntil: clock.now() + 600_000,
    });
    expect(activated).toEqual([
      ['1', ['a']],
      ['1', ['b']],
      ['1', ['c']],
    ]);
  });

  it('gives the same place on every enter (another tab), with a token that works too', async () => {
    await enter('a');
    await enter('b');
    const first = await enter('x');
    const second = await enter('x');
    expect(second.position).toBe(first.position);
    // The same place is the same grant: this process hands back the token it already signed for it.
    expect(second.queueToken).toBe(first.queueToken);
    expect(await (await status('x', first.queueToken)).json()).toMatchObject({
      status: 'WAITING',
      position: 1,
    });
    expect((await store.admit('1', clock.now())).waiting).toBe(1);
  });

  it('keeps queues per concert', async () => {
    await enter('a', '1');
    await enter('b', '1');
    expect((await enter('c', '1')).status).toBe('WAITING');
    expect((await enter('c', '2')).status).toBe('ACTIVE');
  });

  it('places early users at the opening and says when it is', async () => {
    const admin = await bearer('boss', 'admin');
    const opensAt = new Date(clock.now() + 60_000).toISOString();
    const put = await app.request('/v1/admin/queues/1', {
      method: 'PUT',
      headers: { ...admin, 'content-type': 'application/json' },
      body: JSON.stringify({ opensAt }),
    });
    expect(put.status).toBe(200);
    const early = await enter('early');
    expect(early).toMatchObject({ status: 'WAITING', position: 1, opensAt });
    expect(early.pollAfterSeconds).toBeLessThanOrEqual(10);
    // Early users poll like everyone (the idle timeout applies before the opening too).
    for (let i = 0; i < 3; i++) {
      clock.advance(20_000);
      expect((await status('early', early.queueToken)).status).toBe(200);
    }
    expect(await (await status('early', early.queueToken)).json()).toMatchObject({ status: 'ACTIVE' });
  });

  it('lets an admin read and change the queue of a concert', async () => {
    const admin = await bearer('boss', 'admin');
    await enter('a');
    await enter('b');
    await enter('c');
    const read = await app.request('/v1/admin/queues/1', { headers: admin });
    expect(read.status).toBe(200);
    expect(await read.json()).toEqual({
      concertId: '1',
      waiting: 1,
      preRegistered: 0,
      active: 2,
      admittedTotal: 2,
      admissionRatePerSecond: expect.any(Number),
      ...defaults,
      paused: false,
      opensAt: null,
      admission: 'fixed',
      minAdmitPerSecond: null,
      maxAdmitPerSecond: null,
      admissionChange: null,
      admissionReason: null,
      admissionChangedAt: null,
    });
    const put = await app.request('/v1/admin/queues/1', {
      method: 'PUT',
      headers: { ...admin, 'content-type': 'application/json' },
      body: JSON.stringify({ maxActive: 3, admitPerSecond: 5, paused: false, idleTimeoutSeconds: 120 }),
    });
    expect(put.status).toBe(200);
    // The PUT runs the admission step: the new slot goes to c at once.
    expect(await put.json()).toMatchObject({
      maxActive: 3,
      admitPerSecond: 5,
      idleTimeoutSeconds: 120,
      active: 3,
    });
    expect(activated.at(-1)).toEqual(['1', ['c']]);
  });

  it('streams status events and closes after the ACTIVE one', async () => {
    await enter('a');
    await enter('b');
    const c = await enter('c');
    const res = await app.request(`/v1/queue/stream?queueToken=${c.queueToken}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    const readUntil = async (pattern: RegExp) => {
      while (!pattern.test(text)) {
        const { value, done } = await reader.read();
        if (done) return;
        text += value;
      }
    };
    await readUntil(/"status":"WAITING"/);
    expect(text).toMatch(/^event: status\ndata: \{.*"position":1/);
    await store.release('1', 'a');
    await readUntil(/"status":"ACTIVE"/);
    const { done } = await reader.read();
    expect(done).toBe(true);
    const events = text.trim().split('\n\n');
    expect(events).toHaveLength(2); // nothing repeated while the position stood still
    expect(JSON.parse(events[1]!.split('data: ')[1]!)).toMatchObject({
      status: 'ACTIVE',
      accessToken: expect.any(String),
    });
  });

  it('says in every answer whether the line is paused, and streams the change while the place stands still', async () => {
    await enter('a');
    await enter('b');
    const c = await enter('c');
    expect(c).toMatchObject({ status: 'WAITING', paused: false });
    await store.updateSettings('1', { paused: true });
    expect(await (await status('c', c.queueToken)).json()).toMatchObject({ position: 1, paused: true });
    expect(await enter('d')).toMatchObject({ status: 'WAITING', position: 2, paused: true });

    const res = await app.request(`/v1/queue/stream?queueToken=${c.queueToken}`);
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    const readUntil = async (pattern: RegExp) => {
      while (!pattern.test(text)) {
        const { value, done } = await reader.read();
        if (done) return;
        text += value;
      }
    };
    await readUntil(/"paused":true/);
    await store.updateSettings('1', { paused: false });
    await readUntil(/"paused":false/);
    await reader.cancel();
    const events = text
      .trim()
      .split('\n\n')
      .filter((e) => e.startsWith('event: status'))
      .map((e) => JSON.parse(e.split('data: ')[1]!) as Answer);
    expect(events.map((e) => [e.position, e.paused])).toEqual([
      [1, true],
      [1, false],
    ]);
  });

  it('closes a stream after its maximum duration, and the stream counts as polling', async () => {
    app = makeApp({ stream: { checkMs: 5, maxStreamMs: 10_000, keepAliveMs: 1_000_000 } });
    await enter('a');
    await enter('b');
    const c = await enter('c');
    const res = await app.request(`/v1/queue/stream?queueToken=${c.queueToken}`);
    const reader = res.body!.getReader();
    await reader.read();
    clock.advance(25_000); // near the 30 s idle timeout, but the stream kept polling
    await new Promise((r) => setTimeout(r, 30));
    clock.advance(10_000);
    while (!(await reader.read()).done) {
      // drain until the server closes
    }
    expect(await (await status('c', c.queueToken)).json()).toMatchObject({ status: 'WAITING', position: 1 });
  });
});

describe('enter-queue: errors', () => {
  it.each([
    [{ concertId: 'abc' }, 'concertId'],
    [{ concertId: 1 }, 'concertId'],
    [{}, 'concertId'],
    [{ concertId: '1', extra: true }, ''],
  ])('refuses %j with VALIDATION_FAILED', async (body, field) => {
    const res = await post('/v1/queue/tokens', await bearer('v'), body);
    expect(res.status).toBe(400);
    const error = ((await res.json()) as ErrorBody).error;
    expect(error.code).toBe('VALIDATION_FAILED');
    if (field) expect(error.details?.map((d) => d.field)).toContain(field);
  });

  it('answers MALFORMED_JSON for a broken body', async () => {
    const res = await post('/v1/queue/tokens', await bearer('v'), '{"concertId": ');
    expect(res.status).toBe(400);
    expect(await codeOf(res)).toBe('MALFORMED_JSON');
  });

  it('answers 404 for a concert that does not exist, when it can tell', async () => {
    app = makeApp({ concertExists: async (id) => id === '1' });
    const res = await post('/v1/queue/tokens', await bearer('v'), { concertId: '999' });
    expect(res.status).toBe(404);
    expect(await codeOf(res)).toBe('NOT_FOUND');
    expect((await post('/v1/queue/tokens', await bearer('v'), { concertId: '1' })).status).toBe(201);
    const admin = await app.request('/v1/admin/queues/999', { headers: await bearer('boss', 'admin') });
    expect(admin.status).toBe(404);
  });

  it('asks for the queue token: QUEUE_TOKEN_REQUIRED', async () => {
    const res = await status('v', undefined);
    expect(res.status).toBe(403);
    expect(await codeOf(res)).toBe('QUEUE_TOKEN_REQUIRED');
    const stream = await app.request('/v1/queue/stream');
    expect(stream.status).toBe(403);
    expect(await codeOf(stream)).toBe('QUEUE_TOKEN_REQUIRED');
  });

  it('tells a user whose place lapsed to enter again: QUEUE_TOKEN_INVALID', async () => {
    await enter('a');
    await enter('b');
    const c = await enter('c');
    clock.advance(30_000);
    const res = await status('c', c.queueToken);
    expect(res.status).toBe(403);
    const error = ((await res.json()) as ErrorBody).error;
    expect(error.code).toBe('QUEUE_TOKEN_INVALID');
    expect(error.message).toMatch(/enter the queue again/);
    expect((await enter('c')).position).toBe(1);
  });

  it('answers ACTIVE then refuses the place after the access ended (released after payment)', async () => {
    const a = await enter('a');
    await store.release('1', 'a');
    const res = await status('a', a.queueToken);
    expect(res.status).toBe(403);
    expect(await codeOf(res)).toBe('QUEUE_TOKEN_INVALID');
  });

  it('rate limits per user with 429 and Retry-After', async () => {
    app = makeApp({}, 2);
    const auth = await bearer('busy');
    const codes = [];
    for (let i = 0; i < 3; i++) codes.push((await post('/v1/queue/tokens', auth, { concertId: '1' })).status);
    expect(codes).toEqual([201, 201, 429]);
    const res = await post('/v1/queue/tokens', auth, { concertId: '1' });
    expect(res.headers.get('retry-after')).toBe('1');
  });

  it.each([
    [{ maxActive: 0 }, 'maxActive'],
    [{ admitPerSecond: 1.5 }, 'admitPerSecond'],
    [{ activeTtlSeconds: 5 }, 'activeTtlSeconds'],
    [{ idleTimeoutSeconds: 'x' }, 'idleTimeoutSeconds'],
    [{ paused: 'yes' }, 'paused'],
    [{ opensAt: 'tomorrow' }, 'opensAt'],
    [{ surprise: 1 }, ''],
  ])('refuses admin settings %j with VALIDATION_FAILED', async (body, field) => {
    const res = await app.request('/v1/admin/queues/1', {
      method: 'PUT',
      headers: { ...(await bearer('boss', 'admin')), 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(400);
    const error = ((await res.json()) as ErrorBody).error;
    expect(error.code).toBe('VALIDATION_FAILED');
    if (field) expect(error.details?.map((d) => d.field)).toContain(field);
  });

  const putSettings = async (body: unknown) =>
    app.request('/v1/admin/queues/1', {
      method: 'PUT',
      headers: { ...(await bearer('boss', 'admin')), 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  it.each([
    [{ minAdmitPerSecond: -1 }, 'minAdmitPerSecond'],
    [{ maxAdmitPerSecond: 0 }, 'maxAdmitPerSecond'],
    [{ admission: 'sometimes' }, 'admission'],
    [{ admission: 'adaptive' }, 'minAdmitPerSecond'],
    [{ admission: 'adaptive', minAdmitPerSecond: 5 }, 'maxAdmitPerSecond'],
    [{ minAdmitPerSecond: 50, maxAdmitPerSecond: 10 }, 'minAdmitPerSecond'],
    [
      { admission: 'adaptive', minAdmitPerSecond: 5, maxAdmitPerSecond: 20, admitPerSecond: 30 },
      'admitPerSecond',
    ],
  ])('refuses admission settings %j with VALIDATION_FAILED naming the field', async (body, field) => {
    const res = await putSettings(body);
    expect(res.status).toBe(400);
    const error = ((await res.json()) as ErrorBody).error;
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.details?.map((d) => d.field)).toContain(field);
    expect(await store.admission('1')).toMatchObject({ admission: 'fixed', minAdmitPerSecond: null });
  });

  it('checks admission bounds against the ones the line already has', async () => {
    expect((await putSettings({ minAdmitPerSecond: 10, maxAdmitPerSecond: 100 })).status).toBe(200);
    const res = await putSettings({ maxAdmitPerSecond: 5 });
    expect(res.status).toBe(400);
    expect(((await res.json()) as ErrorBody).error.message).toBe(
      'minAdmitPerSecond must not exceed maxAdmitPerSecond (5)',
    );
    expect((await putSettings({ admission: 'adaptive', minAdmitPerSecond: null })).status).toBe(400);
  });

  it('switches a line to adaptive admission and shows the rate and the last reason', async () => {
    const admin = await bearer('boss', 'admin');
    const put = await putSettings({ admission: 'adaptive', minAdmitPerSecond: 20, maxAdmitPerSecond: 100 });
    expect(put.status).toBe(200);
    // The fixed rate (10) was below the new bounds: it starts at the minimum.
    expect(await put.json()).toMatchObject({
      admission: 'adaptive',
      minAdmitPerSecond: 20,
      maxAdmitPerSecond: 100,
      admitPerSecond: 20,
      admissionReason: null,
    });
    // What the admit trigger writes when it changes the rate.
    await store.updateSettings('1', {
      admitPerSecond: 14,
      admissionChange: 'cut',
      admissionReason: 'cut: hold p99 180 ms > budget 100 ms',
      admissionChangedAt: clock.now(),
    });
    const read = await app.request('/v1/admin/queues/1', { headers: admin });
    expect(await read.json()).toMatchObject({
      admitPerSecond: 14,
      admissionChange: 'cut',
      admissionReason: 'cut: hold p99 180 ms > budget 100 ms',
      admissionChangedAt: new Date(clock.now()).toISOString(),
    });
    const fixed = await putSettings({ admission: 'fixed' });
    expect(await fixed.json()).toMatchObject({
      admission: 'fixed',
      admitPerSecond: 14,
      admissionChange: null,
      admissionReason: null,
      admissionChangedAt: null,
    });
  });

  it('refuses a non-decimal concert id in admin paths', async () => {
    const res = await app.request('/v1/admin/queues/abc', { headers: await bearer('boss', 'admin') });
    expect(res.status).toBe(400);
  });
});

describe('enter-queue: security', () => {
  it('refuses a missing bearer token on the user endpoints', async () => {
    const res = await app.request('/v1/queue/tokens', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"concertId":"1"}',
    });
    expect(res.status).toBe(401);
    expect(await codeOf(res)).toBe('UNAUTHENTICATED');
    expect((await app.request('/v1/queue/status')).status).toBe(401);
  });

  it.each(['forged', 'algNone', 'expired', 'wrongAudience', 'garbage'])(
    'refuses a %s user token',
    async (kind) => {
      const token = (await badTokens('mallory'))[kind];
      const res = await post('/v1/queue/tokens', { authorization: `Bearer ${token}` }, { concertId: '1' });
      expect(res.status).toBe(401);
      expect(await codeOf(res)).toBe('UNAUTHENTICATED');
    },
  );

  it("refuses another user's queue token: QUEUE_TOKEN_INVALID", async () => {
    const alice = await enter('alice');
    const res = await status('mallory', alice.queueToken);
    expect(res.status).toBe(403);
    expect(await codeOf(res)).toBe('QUEUE_TOKEN_INVALID');
  });

  it('refuses forged, alg none, expired and user tokens as queue tokens', async () => {
    await enter('alice');
    const other = createQueueTokens({ secret: 'another-queue-secret-long-enough-0000000' });
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const now = clock.now();
    const forgedTokens = {
      forged: await other.issueQueueToken({ userId: 'alice', concertId: '1', seq: 1 }, now),
      algNone: `${b64({ alg: 'none' })}.${b64({ sub: 'alice', cid: '1', seq: 1, typ: 'queue', aud: 'concert-queue', iss: 'concert-queue', jti: 'x', exp: now / 1000 + 60 })}.`,
      expired: await tokens.issueQueueToken({ userId: 'alice', concertId: '1', seq: 1 }, now - 48 * 3600_000),
      userToken: (await bearer('alice')).authorization!.slice('Bearer '.length),
      accessToken: await tokens.issueAccessToken(
        { userId: 'alice', concertId: '1', activeUntil: now + 60_000 },
        now,
      ),
    };
    for (const [kind, token] of Object.entries(forgedTokens)) {
      const res = await status('alice', token);
      expect(`${kind}: ${res.status} ${await codeOf(res)}`).toBe(`${kind}: 403 QUEUE_TOKEN_INVALID`);
      const stream = await app.request(`/v1/queue/stream?queueToken=${encodeURIComponent(token)}`);
      expect(`${kind}: ${stream.status}`).toBe(`${kind}: 403`);
    }
  });

  it('keeps the admin endpoints for admins', async () => {
    const asUser = await app.request('/v1/admin/queues/1', { headers: await bearer('alice') });
    expect(asUser.status).toBe(403);
    expect(await codeOf(asUser)).toBe('FORBIDDEN');
    expect((await app.request('/v1/admin/queues/1')).status).toBe(401);
    const put = await app.request('/v1/admin/queues/1', {
      method: 'PUT',
      headers: { ...(await bearer('alice')), 'content-type': 'application/json' },
      body: '{"paused":true}',
    });
    expect(put.status).toBe(403);
    expect((await store.settings('1')).paused).toBe(false);
  });

  it('documents every queue route in /openapi.json', async () => {
    const doc = (await (await app.request('/openapi.json')).json()) as { paths: Record<string, object> };
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/v1/queue/tokens',
        '/v1/queue/status',
        '/v1/queue/stream',
        '/v1/admin/queues/{concertId}',
      ]),
    );
  });
});

describe('enter-queue with the line snapshot (as served on Redis)', () => {
  let lines: LineSnapshots;
  let storeStatusCalls: number;

  beforeEach(() => {
    const real = store;
    storeStatusCalls = 0;
    store = {
      ...real,
      status: (...args) => {
        storeStatusCalls++;
        return real.status(...args);
      },
    };
    lines = createLineSnapshots({
      store,
      clock,
      tickMs: 5,
      maxAgeMs: 1000,
      idleMs: 30_000,
      timer: false,
      onActivated: (concertId, ids) => {
        activated.push([concertId, ids]);
      },
    });
    app = makeApp({ lines });
  });
  afterEach(() => lines.close());

  it('answers a waiting poll from the last read, its heartbeat going with the next read', async () => {
    await enter('a');
    await enter('b');
    const c = await enter('c');
    const d = await enter('d');
    expect(await (await status('d', d.queueToken)).json()).toMatchObject({ status: 'WAITING', position: 2 });
    expect(storeStatusCalls).toBe(1); // no read yet: the store answered
    await lines.readNow();
    for (let i = 0; i < 4; i++) {
      for (let s = 0; s < 10; s++) {
        clock.advance(1000);
        await lines.readNow();
      }
      const res = await status('d', d.queueToken);
      expect([i, await res.json()]).toMatchObject([i, { status: 'WAITING', position: i >= 2 ? 1 : 2 }]);
    }
    expect(storeStatusCalls).toBe(1);
    // c never polled: dropped as idle by a read's admission step; d, polled only through the snapshot, stays.
    expect((await store.counts('1', clock.now())).waiting).toBe(1);
    expect(await (await status('c', c.queueToken)).json()).toMatchObject({
      error: { code: 'QUEUE_TOKEN_INVALID' },
    });
  });

  it('tells an admitted user at once after an admin change on this process', async () => {
    const admin = await bearer('boss', 'admin');
    await enter('a');
    await enter('b');
    const c = await enter('c');
    await lines.readNow();
    expect(await (await status('c', c.queueToken)).json()).toMatchObject({ status: 'WAITING', position: 1 });
    const put = await app.request('/v1/admin/queues/1', {
      method: 'PUT',
      headers: { ...admin, 'content-type': 'application/json' },
      body: JSON.stringify({ maxActive: 3 }),
    });
    expect(put.status).toBe(200);
    expect(await (await status('c', c.queueToken)).json()).toMatchObject({
      status: 'ACTIVE',
      accessToken: expect.any(String),
    });
  });

  it('streams from the reads: positions as the frontier moves, then ACTIVE, without a store call per check', async () => {
    await enter('a');
    await enter('b');
    await enter('c');
    const d = await enter('d');
    await lines.readNow();
    const res = await app.request(`/v1/queue/stream?queueToken=${d.queueToken}`);
    expect(res.status).toBe(200);
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    const readUntil = async (pattern: RegExp) => {
      while (!pattern.test(text)) {
        const { value, done } = await reader.read();
        if (done) return;
        text += value;
      }
    };
    await readUntil(/"position":2/);
    for (let i = 0; i < 5; i++) await lines.readNow();
    expect(storeStatusCalls).toBe(0);
    await store.release('1', 'a');
    await lines.readNow();
    clock.advance(5); // the stream's checkMs: one event per check at most
    await lines.readNow();
    await readUntil(/"position":1/);
    expect(storeStatusCalls).toBe(0);
    await store.release('1', 'b');
    await lines.readNow();
    await readUntil(/"status":"ACTIVE"/);
    expect((await reader.read()).done).toBe(true);
    // Admitted by the read: the stream knew it from there, and never asked the store.
    expect(storeStatusCalls).toBe(0);
    const events = text.trim().split('\n\n');
    expect(events.map((e) => JSON.parse(e.split('data: ')[1]!).position)).toEqual([2, 1, 0]);
    expect(activated.at(-1)).toEqual(['1', ['d']]);
  });

  it('streams a place before the opening from the reads, then follows the token the opening gives', async () => {
    await store.updateSettings('1', { opensAt: clock.now() + 5000, maxActive: 1 });
    const p = await enter('p');
    await enter('q');
    await lines.readNow();
    const res = await app.request(`/v1/queue/stream?queueToken=${p.queueToken}`);
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    const readUntil = async (pattern: RegExp) => {
      while (!pattern.test(text)) {
        const { value, done } = await reader.read();
        if (done) return;
        text += value;
      }
    };
    await readUntil(/"position":2/);
    expect(text).toContain('"opensAt"');
    // Whether a place before the opening is still held only the store knows: the stream's start asks it.
    expect(storeStatusCalls).toBe(1);
    await lines.readNow();
    expect(storeStatusCalls).toBe(1);
    clock.advance(5000);
    await lines.readNow();
    await lines.readNow();
    // At the opening one of the two is admitted, the other waits first in line.
    await readUntil(/"status":"ACTIVE"|"position":1,/);
    // Admitted: the read said so. Drawn into the line: the stream asked the store for its place, once.
    expect(storeStatusCalls).toBe(/"status":"ACTIVE"/.test(text) ? 1 : 2);
    reader.cancel();
  });
});
