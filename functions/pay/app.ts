import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { ShopHealthRecording } from '../../shared/admission/for-runtime.ts';
import { recordShopHealth } from '../../shared/admission/health-middleware.ts';
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
import { orThrow } from '../../shared/result.ts';
import type { SeatCache } from '../../shared/seats/seat-cache.ts';
import type { PaymentContext } from '../../shared/seats/seat-store.ts';
import { type PayDeps, payReservation, readPaymentContext } from './pay.ts';

export interface PayFunctionDeps extends PayDeps {
  userTokens: UserTokens;
  rateLimiter: RateLimiter;
  queueAccess: QueueAccessCheck;
  seatCache: SeatCache;
  concertOfSchedule(scheduleId: number): Promise<number | null>;
  onOutcome?(outcome: string): void;
  /** Latency and 503s of payments, for adaptive admission. */
  health?: ShopHealthRecording;
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
  // What the slot check read, handed to the payment so that it is not read again (one round trip).
  const readBefore = new WeakMap<Context, PaymentContext>();
  const slotForReservation = requireQueueAccess(deps.queueAccess, async (c) => {
    const id = idString.safeParse(c.req.param('id'));
    const key = idempotencyKeyHeader.shape['idempotency-key'].safeParse(c.req.header('idempotency-key'));
    if (!id.success || !key.success) return null;
    const userId = c.get('user').id;
    const known = await readPaymentContext(deps, {
      userId,
      reservationId: Number(id.data),
      idempotencyKey: key.data,
    });
    readBefore.set(c, known);
    const { stored, reservation } = known;
    // A retry of a completed payment replays its answer even though the queue slot ended with it.
    if (!stored.ok || stored.value) return null;
    if (!reservation || reservation.user_id !== userId) return null;
    return String(await deps.concertOfSchedule(Number(reservation.schedule_id)));
  });
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/reservations/{id}/payments',
      summary: 'Pay a held reservation with points [queue] (idempotent)',
      security: bearerSecurity,
      middleware: [
        ...(deps.health ? [recordShopHealth(deps.health, 'pay')] : []),
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
      const userId = c.get('user').id;
      let admitted: { concertId: string; scheduleId: number } | undefined;
      const result = await payReservation(
        deps,
        {
          userId,
          reservationId: Number(c.req.valid('param').id),
          idempotencyKey: c.req.valid('header')['idempotency-key'],
        },
        // The queue slot was checked by the route's middleware; this only learns which one to release.
        async (scheduleId) => {
          admitted = { concertId: String(await deps.concertOfSchedule(scheduleId)), scheduleId };
        },
        readBefore.get(c),
      ).catch((error: unknown) => {
        if (error instanceof AppError) deps.onOutcome?.(error.code);
        throw error;
      });
      deps.onOutcome?.(!result.ok ? result.code : result.value.replayed ? 'replayed' : 'paid');
      const payment = orThrow(result);
      if (payment.replayed) c.header('Idempotent-Replayed', 'true');
      else if (admitted) {
        const { concertId, scheduleId } = admitted;
        await afterCommit(
          [deps.queueAccess.release(concertId, userId), deps.seatCache.invalidate(String(scheduleId))],
          (error) =>
            c
              .get('logger')
              .warn({ err: error, requestId: c.get('requestId') }, 'paid, but Redis missed the follow-up'),
        );
      }
      return c.json(payment.body, 201);
    },
  );
  return app;
}

export function createApp(deps: PayFunctionDeps, http: Omit<HttpAppOptions, 'routes' | 'name'>) {
  return createHttpApp({ ...http, name: 'pay', routes: [paymentRoutes(deps)] });
}
