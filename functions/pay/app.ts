import { createRoute, z } from '@hono/zod-openapi';
import { afterCommit } from '../../shared/after-commit.ts';
import type { UserTokens } from '../../shared/auth/user-tokens.ts';
import { AppError } from '../../shared/errors.ts';
import { authenticate } from '../../shared/http/authenticate.ts';
import { createHttpApp, type HttpAppOptions } from '../../shared/http/create-http-app.ts';
import {
  bearerSecurity,
  errorResponses,
  idempotencyKeyHeader,
  idString,
} from '../../shared/http/openapi-common.ts';
import { rateLimitPerUser } from '../../shared/http/rate-limit.ts';
import {
  type QueueAccessCheck,
  queueTokenHeader,
  requireQueueAccess,
} from '../../shared/http/require-queue-access.ts';
import { createRouter } from '../../shared/http/router.ts';
import type { RateLimiter } from '../../shared/rate-limit/rate-limiter.ts';
import type { SeatCache } from '../../shared/seats/seat-cache.ts';
import { type PayDeps, payReservation, reservationOwner, storedPayment } from './pay.ts';

export interface PayFunctionDeps extends PayDeps {
  userTokens: UserTokens;
  rateLimiter: RateLimiter;
  queueAccess: QueueAccessCheck;
  seatCache: SeatCache;
  concertOfSchedule(scheduleId: number): Promise<number | null>;
  onOutcome?(outcome: string): void;
}

const paymentSchema = z
  .object({
    paymentId: z.string(),
    reservationId: z.string(),
    amount: z.number().int(),
    status: z.literal('PAID'),
    balance: z.number().int(),
  })
  .openapi('Payment');

export function paymentRoutes(deps: PayFunctionDeps) {
  const app = createRouter();
  const slotForReservation = requireQueueAccess(deps.queueAccess, async (c) => {
    const id = idString.safeParse(c.req.param('id'));
    const key = idempotencyKeyHeader.shape['idempotency-key'].safeParse(c.req.header('idempotency-key'));
    if (!id.success || !key.success) return null;
    const input = { userId: c.get('user').id, reservationId: Number(id.data), idempotencyKey: key.data };
    // A retry of a completed payment replays its answer even though the queue slot ended with it.
    if (await storedPayment(deps, input)) return null;
    const owner = await reservationOwner(deps, input.reservationId);
    if (!owner || owner.userId !== input.userId) return null;
    return String(await deps.concertOfSchedule(owner.scheduleId));
  });
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/reservations/{id}/payments',
      summary: 'Pay a held reservation with points [queue] (idempotent)',
      security: bearerSecurity,
      middleware: [
        authenticate(deps.userTokens),
        rateLimitPerUser(deps.rateLimiter, deps.clock),
        slotForReservation,
      ],
      request: {
        params: z.object({ id: idString }),
        headers: idempotencyKeyHeader.extend({ [queueTokenHeader]: z.string().optional() }),
        body: { required: false, content: { 'application/json': { schema: z.object({}).strict() } } },
      },
      responses: {
        201: { description: 'Paid', content: { 'application/json': { schema: paymentSchema } } },
        ...errorResponses({
          400: 'VALIDATION_FAILED, MALFORMED_JSON',
          401: 'UNAUTHENTICATED',
          403: 'QUEUE_TOKEN_REQUIRED, QUEUE_TOKEN_INVALID, QUEUE_NOT_ACTIVE, FORBIDDEN',
          404: 'NOT_FOUND',
          409: 'HOLD_EXPIRED, INSUFFICIENT_POINTS, ALREADY_PAID, IDEMPOTENCY_KEY_REUSED, IDEMPOTENCY_IN_PROGRESS (retry after Retry-After)',
          429: 'RATE_LIMITED',
          503: 'DEPENDENCY_UNAVAILABLE',
        }),
      },
    }),
    async (c) => {
      const input = {
        userId: c.get('user').id,
        reservationId: Number(c.req.valid('param').id),
        idempotencyKey: c.req.valid('header')['idempotency-key'],
      };
      try {
        const stored = await storedPayment(deps, input);
        if (stored) {
          deps.onOutcome?.('replayed');
          c.header('Idempotent-Replayed', 'true');
          return c.json(stored.body, 201);
        }
        const owner = await reservationOwner(deps, input.reservationId);
        if (!owner) throw new AppError('NOT_FOUND', 'No such reservation');
        if (owner.userId !== input.userId)
          throw new AppError('FORBIDDEN', 'This reservation belongs to another user');
        const concertId = String(await deps.concertOfSchedule(owner.scheduleId));

        const result = await payReservation(deps, input);
        deps.onOutcome?.(result.replayed ? 'replayed' : 'paid');
        if (result.replayed) c.header('Idempotent-Replayed', 'true');
        else {
          await afterCommit(
            [
              deps.queueAccess.release(concertId, input.userId),
              deps.seatCache.invalidate(String(owner.scheduleId)),
            ],
            (error) =>
              c
                .get('logger')
                .warn({ err: error, requestId: c.get('requestId') }, 'paid, but Redis missed the follow-up'),
          );
        }
        return c.json(result.body, 201);
      } catch (error) {
        if (error instanceof AppError) deps.onOutcome?.(error.code);
        throw error;
      }
    },
  );
  return app;
}

export function createApp(deps: PayFunctionDeps, http: Omit<HttpAppOptions, 'routes' | 'name'>) {
  return createHttpApp({ ...http, name: 'pay', routes: [paymentRoutes(deps)] });
}
