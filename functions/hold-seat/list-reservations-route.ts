import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import type { Clock } from '../../shared/clock.ts';
import type { AppEnv } from '../../shared/http/env.ts';
import { bearerSecurity, errorResponses } from '../../shared/http/openapi-common.ts';
import { reservationSchema } from '../../shared/http/reservation-schema.ts';
import { reservationView } from '../../shared/seats/reservation.ts';
import type { SeatStore } from '../../shared/seats/seat-store.ts';

/**
 * A reservation cursor is the id of the last reservation a page showed, in decimal: the OpenAPI pattern then
 * describes exactly the cursors the API accepts, and every value it allows is a valid place to resume.
 */
const reservationCursorPattern = /^[0-9]{1,15}$/;

const reservationPageSchema = z
  .object({ items: z.array(reservationSchema), nextCursor: z.string().nullable() })
  .openapi('ReservationPage');

/** `GET /v1/reservations`: the caller's own reservations, newest first, a page at a time. */
export function listReservationsRoute(
  app: OpenAPIHono<AppEnv>,
  deps: { seats: SeatStore; clock: Clock },
  user: MiddlewareHandler<AppEnv>[],
) {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/reservations',
      summary: "The caller's reservations, newest first",
      security: bearerSecurity,
      middleware: user,
      request: {
        query: z.object({
          status: z
            .enum(['HELD', 'CONFIRMED', 'EXPIRED', 'CANCELLED'])
            .optional()
            .openapi({ description: 'Only reservations that read this status now' }),
          limit: z.coerce.number().int().min(1).max(100).default(20),
          cursor: z
            .string()
            .regex(reservationCursorPattern, 'must be the nextCursor of a previous page')
            .optional()
            .openapi({
              description: 'The `nextCursor` of the previous page, as it was given, with the same status',
            }),
        }),
      },
      responses: {
        200: {
          description: 'A page of reservations',
          content: { 'application/json': { schema: reservationPageSchema } },
        },
        ...errorResponses({
          400: 'VALIDATION_FAILED',
          401: 'UNAUTHENTICATED',
          429: 'RATE_LIMITED',
          503: 'DEPENDENCY_UNAVAILABLE',
        }),
      },
    }),
    async (c) => {
      const { status, limit, cursor } = c.req.valid('query');
      const now = deps.clock.now();
      const page = await deps.seats.reservationsOf({
        userId: c.get('user').id,
        limit,
        now,
        status,
        beforeId: cursor === undefined ? undefined : Number(cursor),
      });
      const last = page.rows.at(-1);
      return c.json(
        {
          items: page.rows.map((row) => reservationView(row, now)),
          nextCursor: page.more && last ? String(last.id) : null,
        },
        200,
      );
    },
  );
}
