import { createRoute, z } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import type { UserTokens } from '../../shared/auth/user-tokens.ts';
import { authenticate } from '../../shared/http/authenticate.ts';
import { createHttpApp, type HttpAppOptions } from '../../shared/http/create-http-app.ts';
import type { AppEnv } from '../../shared/http/env.ts';
import {
  bearerSecurity,
  errorResponses,
  idString,
  optionalHeader,
} from '../../shared/http/openapi-common.ts';
import { rateLimitPerUser } from '../../shared/http/rate-limit.ts';
import { queueTokenHeader } from '../../shared/http/require-queue-access.ts';
import { createRouter } from '../../shared/http/router.ts';
import type { RateLimiter } from '../../shared/rate-limit/rate-limiter.ts';
import { orThrow } from '../../shared/result.ts';
import { defaultStreamOptions, type StreamOptions, streamQueueStatus } from './stream.ts';
import {
  enterQueue,
  pollStatus,
  type QueueDeps,
  queueAdminView,
  readTicket,
  updateQueueSettings,
} from './use-cases.ts';

export interface EnterQueueDeps extends QueueDeps {
  userTokens: UserTokens;
  rateLimiter: RateLimiter;
  stream?: Partial<StreamOptions>;
}

const queueAnswerSchema = z
  .object({
    queueToken: z.string(),
    status: z.enum(['WAITING', 'ACTIVE']),
    position: z.number().int().openapi({ description: 'Users ahead plus one; 0 when ACTIVE' }),
    etaSeconds: z.number().int(),
    pollAfterSeconds: z.number().int().min(1).max(30),
    paused: z
      .boolean()
      .openapi({ description: 'The organiser paused admissions: the place is kept, the line does not move' }),
    accessToken: z.string().optional().openapi({ description: 'Only when ACTIVE: send as X-Queue-Token' }),
    activeUntil: z.string().optional().openapi({ description: 'Only when ACTIVE' }),
    opensAt: z
      .string()
      .optional()
      .openapi({ description: 'Only before the opening; position is then the number registered so far' }),
  })
  .openapi('QueueStatus');

const adminViewSchema = z
  .object({
    concertId: z.string(),
    waiting: z.number().int(),
    preRegistered: z.number().int(),
    active: z.number().int(),
    admittedTotal: z.number().int(),
    admissionRatePerSecond: z.number(),
    maxActive: z.number().int(),
    admitPerSecond: z.number().int(),
    activeTtlSeconds: z.number().int(),
    idleTimeoutSeconds: z.number().int(),
    paused: z.boolean(),
    opensAt: z.string().nullable(),
    admission: z.enum(['fixed', 'adaptive']),
    minAdmitPerSecond: z.number().int().nullable(),
    maxAdmitPerSecond: z.number().int().nullable(),
    admissionChange: z
      .enum(['raise', 'cut'])
      .nullable()
      .openapi({ description: 'Adaptive admission: the last change of admitPerSecond' }),
    admissionReason: z
      .string()
      .nullable()
      .openapi({ description: 'Why, e.g. "cut: hold p99 180 ms > budget 100 ms"' }),
    admissionChangedAt: z.string().nullable(),
  })
  .openapi('QueueAdminView');

const settingsBody = z
  .object({
    maxActive: z.number().int().min(1).max(1_000_000).optional(),
    admitPerSecond: z.number().int().min(1).max(100_000).optional(),
    activeTtlSeconds: z.number().int().min(10).max(86_400).optional(),
    idleTimeoutSeconds: z.number().int().min(5).max(86_400).optional(),
    paused: z.boolean().optional(),
    admission: z
      .enum(['fixed', 'adaptive'])
      .nullable()
      .optional()
      .openapi({ description: 'adaptive: the rate follows the shop health within the bounds; null: fixed' }),
    minAdmitPerSecond: z.number().int().min(1).max(100_000).nullable().optional(),
    maxAdmitPerSecond: z.number().int().min(1).max(100_000).nullable().optional(),
    opensAt: z.iso
      .datetime({ offset: true })
      .nullable()
      .optional()
      .openapi({ description: 'ISO-8601; null removes it' }),
  })
  .strict()
  .openapi('QueueSettings');

const queueTokenParameter = optionalHeader(queueTokenHeader, 'The queueToken from POST /v1/queue/tokens');

const userErrors = errorResponses({
  401: 'UNAUTHENTICATED',
  429: 'RATE_LIMITED',
  503: 'DEPENDENCY_UNAVAILABLE',
});

/**
 * `stream` serves only `GET /v1/queue/stream`: the Knative Service `queue-stream` runs this image that way so
 * the long-lived streams scale on open connections, apart from the short polls (knative/router.ts).
 */
export type QueueRouteSet = 'all' | 'stream';

/**
 * The stream's caller is the holder of the queue token in its query (EventSource cannot send a bearer
 * token), so the per-user rate limit after it counts that user.
 */
function queueTokenHolder(deps: QueueDeps): MiddlewareHandler<AppEnv> {
  return async function streamCaller(c, next) {
    const ticket = orThrow(await readTicket(deps, c.req.query('queueToken')));
    c.set('user', { id: ticket.userId, role: 'user' });
    await next();
  };
}

export function queueRoutes(deps: EnterQueueDeps, routeSet: QueueRouteSet = 'all') {
  const app = createRouter();
  const all = routeSet === 'all';
  const user = [authenticate(deps.userTokens), rateLimitPerUser(deps.rateLimiter, deps.clock)];
  const admin = [authenticate(deps.userTokens, { role: 'admin' })];
  const streamOptions = { ...defaultStreamOptions, ...deps.stream };

  if (all)
    app.openapi(
      createRoute({
        method: 'post',
        path: '/v1/queue/tokens',
        summary: 'Enter the waiting queue of a concert (the same place on every call)',
        security: bearerSecurity,
        middleware: user,
        request: {
          body: {
            required: true,
            content: { 'application/json': { schema: z.object({ concertId: idString }).strict() } },
          },
        },
        responses: {
          201: {
            description: 'A place in line, or ACTIVE',
            content: { 'application/json': { schema: queueAnswerSchema } },
          },
          ...errorResponses({ 400: 'VALIDATION_FAILED, MALFORMED_JSON', 404: 'NOT_FOUND' }),
          ...userErrors,
        },
      }),
      async (c) => {
        const { concertId } = c.req.valid('json');
        return c.json(orThrow(await enterQueue(deps, { userId: c.get('user').id, concertId })), 201);
      },
    );

  if (all)
    app.openapi(
      createRoute({
        method: 'get',
        path: '/v1/queue/status',
        summary: 'Where the caller stands in line; admits waiting users as slots free',
        security: bearerSecurity,
        middleware: user,
        parameters: [queueTokenParameter],
        responses: {
          200: { description: 'Status', content: { 'application/json': { schema: queueAnswerSchema } } },
          ...errorResponses({
            403: 'QUEUE_TOKEN_REQUIRED, QUEUE_TOKEN_INVALID (forged, expired, another user, or the place lapsed)',
          }),
          ...userErrors,
        },
      }),
      async (c) => {
        const queueToken = c.req.header(queueTokenHeader);
        const ticket = orThrow(await readTicket(deps, queueToken, c.get('user').id));
        return c.json(orThrow(await pollStatus(deps, ticket, queueToken!)), 200);
      },
    );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/queue/stream',
      summary: 'Status as Server-Sent Events (for EventSource, which cannot send headers)',
      description:
        'Event `status` (the status JSON) whenever position or status changes, at most once a second; the last ' +
        'one is ACTIVE with the accessToken, then the stream closes. Holding it open counts as polling. The ' +
        'server closes it after a few minutes; reconnect. Event `error` with an error body ends it early.',
      middleware: [queueTokenHolder(deps), rateLimitPerUser(deps.rateLimiter, deps.clock)],
      request: {
        query: z.object({ queueToken: z.string().optional().openapi({ description: 'The queueToken' }) }),
      },
      responses: {
        200: { description: 'text/event-stream' },
        ...errorResponses({ 403: 'QUEUE_TOKEN_REQUIRED, QUEUE_TOKEN_INVALID' }),
        ...errorResponses({ 429: 'RATE_LIMITED', 503: 'DEPENDENCY_UNAVAILABLE' }),
      },
    }),
    async (c) => {
      const { queueToken } = c.req.valid('query');
      // Verified by queueTokenHolder already: this is the verifier's cache.
      const ticket = orThrow(await readTicket(deps, queueToken));
      const first = orThrow(await pollStatus(deps, ticket, queueToken!));
      return streamQueueStatus(c, deps, ticket, queueToken!, first, streamOptions);
    },
  );

  const concertParam = z.object({ concertId: idString });

  if (all)
    app.openapi(
      createRoute({
        method: 'get',
        path: '/v1/admin/queues/{concertId}',
        summary: 'Queue counts and settings of a concert (admin)',
        security: bearerSecurity,
        middleware: admin,
        request: { params: concertParam },
        responses: {
          200: {
            description: 'Counts and settings',
            content: { 'application/json': { schema: adminViewSchema } },
          },
          ...errorResponses({
            400: 'VALIDATION_FAILED',
            401: 'UNAUTHENTICATED',
            403: 'FORBIDDEN',
            404: 'NOT_FOUND',
            503: 'DEPENDENCY_UNAVAILABLE',
          }),
        },
      }),
      async (c) => c.json(orThrow(await queueAdminView(deps, c.req.valid('param').concertId)), 200),
    );

  if (all)
    app.openapi(
      createRoute({
        method: 'put',
        path: '/v1/admin/queues/{concertId}',
        summary: 'Change queue settings of a concert (admin; every field optional)',
        security: bearerSecurity,
        middleware: admin,
        request: {
          params: concertParam,
          body: { required: true, content: { 'application/json': { schema: settingsBody } } },
        },
        responses: {
          200: {
            description: 'Counts and settings',
            content: { 'application/json': { schema: adminViewSchema } },
          },
          ...errorResponses({
            400: 'VALIDATION_FAILED, MALFORMED_JSON',
            401: 'UNAUTHENTICATED',
            403: 'FORBIDDEN',
            404: 'NOT_FOUND',
            503: 'DEPENDENCY_UNAVAILABLE',
          }),
        },
      }),
      async (c) => {
        const { opensAt, ...rest } = c.req.valid('json');
        const patch = {
          ...rest,
          ...(opensAt === undefined ? {} : { opensAt: opensAt === null ? null : Date.parse(opensAt) }),
        };
        return c.json(orThrow(await updateQueueSettings(deps, c.req.valid('param').concertId, patch)), 200);
      },
    );
  return app;
}

export function createApp(deps: EnterQueueDeps, http: Omit<HttpAppOptions, 'routes' | 'name'>) {
  return createHttpApp({ ...http, name: 'enter-queue', routes: [queueRoutes(deps)] });
}
