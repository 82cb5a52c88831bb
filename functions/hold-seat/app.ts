import { createRoute, z } from '@hono/zod-openapi';
import type { ShopHealthRecording } from '../../shared/admission/for-runtime.ts';
import { recordShopHealth } from '../../shared/admission/health-middleware.ts';
import type { UserTokens } from '../../shared/auth/user-tokens.ts';
import { AppError } from '../../shared/errors.ts';
import { authenticate } from '../../shared/http/authenticate.ts';
import { createHttpApp, type HttpAppOptions } from '../../shared/http/create-http-app.ts';
import {
  bearerSecurity,
  errorResponses,
  idString,
  optionalHeader,
} from '../../shared/http/openapi-common.ts';
import { rateLimitPerUser } from '../../shared/http/rate-limit.ts';
import {
  type QueueAccessCheck,
  queueTokenHeader,
  requireQueueAccess,
  sentJson,
} from '../../shared/http/require-queue-access.ts';
import { reservationSchema } from '../../shared/http/reservation-schema.ts';
import { createRouter } from '../../shared/http/router.ts';
import type { RateLimiter } from '../../shared/rate-limit/rate-limiter.ts';
import { orThrow } from '../../shared/result.ts';
import { type HoldDeps, holdSeat } from './hold-seat.ts';
import { listReservationsRoute } from './list-reservations-route.ts';
import { cancelReservation, getReservation } from './manage-reservation.ts';

export interface HoldSeatDeps extends HoldDeps {
  userTokens: UserTokens;
  rateLimiter: RateLimiter;
  queueAccess: QueueAccessCheck;
  concertOfSchedule(scheduleId: number): Promise<number | null>;
  /** Latency and 503s of holds, for adaptive admission. */
  health?: ShopHealthRecording;
}

const common = errorResponses({ 401: 'UNAUTHENTICATED', 429: 'RATE_LIMITED', 503: 'DEPENDENCY_UNAVAILABLE' });

const holdBody = z.object({ scheduleId: idString, seatId: idString }).strict();

export function reservationRoutes(deps: HoldSeatDeps) {
  const app = createRouter();
  const user = [authenticate(deps.userTokens), rateLimitPerUser(deps.rateLimiter, deps.clock)];
  const slotForSchedule = requireQueueAccess(deps.queueAccess, async (c) => {
    const body = holdBody.safeParse(await sentJson(c));
    if (!body.success) return null;
    const concertId = await deps.concertOfSchedule(Number(body.data.scheduleId));
    if (concertId === null) throw new AppError('NOT_FOUND', 'No such schedule');
    return String(concertId);
  });

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/reservations',
      summary: 'Hold a seat [queue]',
      security: bearerSecurity,
      middleware: [...(deps.health ? [recordShopHealth(deps.health, 'hold')] : []), ...user, slotForSchedule],
      parameters: [optionalHeader(queueTokenHeader)],
      request: {
        body: { required: true, content: { 'application/json': { schema: holdBody } } },
      },
      responses: {
        201: { description: 'Held', content: { 'application/json': { schema: reservationSchema } } },
        ...errorResponses({
          400: 'VALIDATION_FAILED, MALFORMED_JSON',
          403: 'QUEUE_TOKEN_REQUIRED, QUEUE_TOKEN_INVALID, QUEUE_NOT_ACTIVE',
          404: 'NOT_FOUND',
          409: 'SEAT_TAKEN',
        }),
        ...common,
      },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const userId = c.get('user').id;
      const scheduleId = Number(body.scheduleId);
      const held = await holdSeat(deps, { userId, scheduleId, seatId: Number(body.seatId) });
      return c.json(orThrow(held), 201);
    },
  );

  listReservationsRoute(app, deps, user);

  const byId = { params: z.object({ id: idString }) };
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/reservations/{id}',
      summary: 'A reservation of the caller',
      security: bearerSecurity,
      middleware: user,
      request: byId,
      responses: {
        200: { description: 'Reservation', content: { 'application/json': { schema: reservationSchema } } },
        ...errorResponses({ 400: 'VALIDATION_FAILED', 403: 'FORBIDDEN', 404: 'NOT_FOUND' }),
        ...common,
      },
    }),
    async (c) => {
      const result = await getReservation(deps, {
        userId: c.get('user').id,
        reservationId: Number(c.req.valid('param').id),
      });
      return c.json(orThrow(result), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/v1/reservations/{id}',
      summary: 'Cancel a hold; the seat is released at once',
      security: bearerSecurity,
      middleware: user,
      request: byId,
      responses: {
        200: { description: 'Cancelled', content: { 'application/json': { schema: reservationSchema } } },
        ...errorResponses({
          400: 'VALIDATION_FAILED',
          403: 'FORBIDDEN',
          404: 'NOT_FOUND',
          409: 'HOLD_EXPIRED, ALREADY_PAID',
        }),
        ...common,
      },
    }),
    async (c) => {
      const result = await cancelReservation(deps, {
        userId: c.get('user').id,
        reservationId: Number(c.req.valid('param').id),
      });
      return c.json(orThrow(result), 200);
    },
  );
  return app;
}

export function createApp(deps: HoldSeatDeps, http: Omit<HttpAppOptions, 'routes' | 'name'>) {
  return createHttpApp({ ...http, name: 'hold-seat', routes: [reservationRoutes(deps)] });
}
