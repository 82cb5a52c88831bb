import { createRoute, z } from '@hono/zod-openapi';
import { describe, expect, it } from 'vitest';
import { bearer, httpOptions, manualClock, testTokens } from '../../tests/support/harness.ts';
import { createQueueAccess } from '../queue/access-token-check.ts';
import { createMemoryQueueStore } from '../queue/memory-queue-store.ts';
import { createQueueTokens } from '../queue/queue-tokens.ts';
import { authenticate } from './authenticate.ts';
import { createHttpApp } from './create-http-app.ts';
import { idString } from './openapi-common.ts';
import { queueTokenHeader, requireQueueAccess, sentJson } from './require-queue-access.ts';
import { createRouter } from './router.ts';

const defaults = { maxActive: 5, admitPerSecond: 10, activeTtlSeconds: 60, idleTimeoutSeconds: 30 };
const clock = manualClock();
const store = createMemoryQueueStore(defaults);
const tokens = createQueueTokens({ secret: 'queue-secret-that-is-long-enough-0123456789' });
const access = createQueueAccess({ tokens, store, clock });
const body = z.object({ concertId: idString }).strict();

const routes = createRouter();
routes.openapi(
  createRoute({
    method: 'post',
    path: '/guarded',
    middleware: [
      authenticate(testTokens()),
      requireQueueAccess(access, async (c) => {
        const sent = body.safeParse(await sentJson(c));
        return sent.success ? sent.data.concertId : null;
      }),
    ],
    request: { body: { required: true, content: { 'application/json': { schema: body } } } },
    responses: { 200: { description: 'let through' } },
  }),
  (c) => c.json({ concertId: c.req.valid('json').concertId }, 200),
);
const app = createHttpApp({ ...httpOptions(), name: 'guarded', routes: [routes] });

async function activeToken(userId: string, concertId: string) {
  const view = await store.enter(concertId, userId, clock.now());
  return tokens.issueAccessToken({ userId, concertId, activeUntil: view.activeUntil }, clock.now());
}

async function post(userId: string, sent: string, headers: Record<string, string> = {}) {
  const res = await app.request('/guarded', {
    method: 'POST',
    headers: { ...(await bearer(userId)), 'content-type': 'application/json', ...headers },
    body: sent,
  });
  const json = (await res.json()) as { error?: { code: string } };
  return `${res.status} ${json.error?.code ?? 'OK'}`;
}

describe('requireQueueAccess', () => {
  it('lets an ACTIVE caller through for the concert the request names, and no one else', async () => {
    const token = await activeToken('alice', '1');
    const withToken = { [queueTokenHeader]: token };
    expect(await post('alice', '{"concertId":"1"}', withToken)).toBe('200 OK');
    expect(await post('alice', '{"concertId":"1"}')).toBe('403 QUEUE_TOKEN_REQUIRED');
    expect(await post('alice', '{"concertId":"2"}', withToken)).toBe('403 QUEUE_TOKEN_INVALID');
    expect(await post('bob', '{"concertId":"1"}', withToken)).toBe('403 QUEUE_TOKEN_INVALID');
    await access.release('1', 'alice');
    expect(await post('alice', '{"concertId":"1"}', withToken)).toBe('403 QUEUE_NOT_ACTIVE');
  });

  it('leaves a request that names no concert to the route, which refuses it as before', async () => {
    expect(await post('carol', '{"concert":"1"}')).toBe('400 VALIDATION_FAILED');
    expect(await post('carol', '{"concertId":')).toBe('400 MALFORMED_JSON');
    expect(await post('carol', '{"concertId":"1"}', { 'content-type': 'text/plain' })).toBe(
      '415 UNSUPPORTED_MEDIA_TYPE',
    );
  });
});
