import { createRoute, z } from '@hono/zod-openapi';
import type { UserTokens } from '../../shared/auth/user-tokens.ts';
import { authenticate } from '../../shared/http/authenticate.ts';
import { createHttpApp, type HttpAppOptions } from '../../shared/http/create-http-app.ts';
import { bearerSecurity, errorResponses, idempotencyKeyHeader } from '../../shared/http/openapi-common.ts';
import { rateLimitPerUser } from '../../shared/http/rate-limit.ts';
import { createRouter } from '../../shared/http/router.ts';
import type { RateLimiter } from '../../shared/rate-limit/rate-limiter.ts';
import { orThrow } from '../../shared/result.ts';
import {
  chargePoints,
  decodeCursor,
  getBalance,
  historyCursorPattern,
  type PointsDeps,
  pointHistory,
} from './use-cases.ts';

export interface ChargePointsDeps extends PointsDeps {
  userTokens: UserTokens;
  rateLimiter: RateLimiter;
}

const balanceSchema = z.object({ userId: z.string(), balance: z.number().int() }).openapi('PointBalance');
const chargeBody = z.object({ amount: z.number().int().min(1).max(10_000_000) }).strict();
const chargeSchema = z
  .object({ userId: z.string(), balance: z.number().int(), chargeId: z.string() })
  .openapi('PointCharge');
const historySchema = z
  .object({
    items: z.array(
      z.object({
        id: z.string(),
        type: z.enum(['CHARGE', 'USE', 'REFUND']),
        amount: z.number().int(),
        balanceAfter: z.number().int(),
        at: z.string(),
      }),
    ),
    nextCursor: z.string().nullable(),
  })
  .openapi('PointHistory');

const authErrors = errorResponses({
  401: 'UNAUTHENTICATED',
  429: 'RATE_LIMITED',
  503: 'DEPENDENCY_UNAVAILABLE',
});

export function pointsRoutes(deps: ChargePointsDeps) {
  const app = createRouter();
  const auth = [authenticate(deps.userTokens), rateLimitPerUser(deps.rateLimiter, deps.clock)];

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/points',
      summary: 'Point balance of the caller',
      security: bearerSecurity,
      middleware: auth,
      responses: {
        200: { description: 'Balance', content: { 'application/json': { schema: balanceSchema } } },
        ...authErrors,
      },
    }),
    async (c) => c.json(await getBalance(deps, c.get('user').id), 200),
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/points/charges',
      summary: 'Charge points (idempotent)',
      security: bearerSecurity,
      middleware: auth,
      request: {
        headers: idempotencyKeyHeader,
        body: { required: true, content: { 'application/json': { schema: chargeBody } } },
      },
      responses: {
        201: { description: 'Charged', content: { 'application/json': { schema: chargeSchema } } },
        ...errorResponses({
          400: 'VALIDATION_FAILED, MALFORMED_JSON',
          409: 'IDEMPOTENCY_KEY_REUSED, IDEMPOTENCY_IN_PROGRESS (retry after Retry-After)',
        }),
        ...authErrors,
      },
    }),
    async (c) => {
      const { amount } = c.req.valid('json');
      const result = orThrow(
        await chargePoints(deps, {
          userId: c.get('user').id,
          amount,
          idempotencyKey: c.req.valid('header')['idempotency-key'],
        }),
      );
      if (result.replayed) c.header('Idempotent-Replayed', 'true');
      return c.json(result.body, 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/points/history',
      summary: 'Point ledger of the caller, newest first',
      security: bearerSecurity,
      middleware: auth,
      request: {
        query: z.object({
          limit: z.coerce.number().int().min(1).max(100).default(20),
          cursor: z
            .string()
            .regex(historyCursorPattern, 'must be the nextCursor of a previous page')
            .optional()
            .openapi({ description: 'The `nextCursor` of the previous page, as it was given' }),
        }),
      },
      responses: {
        200: {
          description: 'A page of the ledger',
          content: { 'application/json': { schema: historySchema } },
        },
        ...errorResponses({ 400: 'VALIDATION_FAILED' }),
        ...authErrors,
      },
    }),
    async (c) => {
      const { limit, cursor } = c.req.valid('query');
      const beforeId = cursor === undefined ? undefined : decodeCursor(cursor);
      const page = await pointHistory(deps, {
        userId: c.get('user').id,
        limit,
        ...(beforeId === undefined ? {} : { beforeId }),
      });
      return c.json(page, 200);
    },
  );
  return app;
}

export function createApp(deps: ChargePointsDeps, http: Omit<HttpAppOptions, 'routes' | 'name'>) {
  return createHttpApp({ ...http, name: 'charge-points', routes: [pointsRoutes(deps)] });
}
