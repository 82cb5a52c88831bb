import { createRoute, z } from '@hono/zod-openapi';
import { AppError } from '../../shared/errors.ts';
import { receiveCloudEvent } from '../../shared/http/cloudevent-receiver.ts';
import { createHttpApp, type HttpAppOptions } from '../../shared/http/create-http-app.ts';
import { errorResponses } from '../../shared/http/openapi-common.ts';
import { createRouter } from '../../shared/http/router.ts';
import { topics } from '../../shared/outbox/events.ts';
import { type ReleaseDeps, releaseSeat } from './release.ts';

const reservationEvent = z.object({
  reservationId: z.string(),
  scheduleId: z.string(),
  seatId: z.string(),
  userId: z.string(),
  price: z.number(),
  expiresAt: z.string(),
});
const accepted = new Set<string>([topics.reservationExpired, topics.reservationCancelled]);

/** `POST /`: KafkaSource delivery of reservation.expired / reservation.cancelled, binary mode. */
export function releaseSeatRoutes(deps: ReleaseDeps) {
  const app = createRouter();
  app.openapi(
    createRoute({
      method: 'post',
      path: '/',
      summary: 'Release a seat after reservation.expired or reservation.cancelled (KafkaSource target)',
      responses: {
        200: {
          description: 'Handled (or already handled)',
          content: {
            'application/json': { schema: z.object({ result: z.enum(['done', 'duplicate', 'ignored']) }) },
          },
        },
        ...errorResponses({ 400: 'VALIDATION_FAILED', 503: 'DEPENDENCY_UNAVAILABLE' }),
      },
    }),
    async (c) => {
      const event = await receiveCloudEvent(c);
      if (!accepted.has(event.type)) return c.json({ result: 'ignored' as const }, 200);
      const data = reservationEvent.safeParse(event.data);
      if (!data.success) throw new AppError('VALIDATION_FAILED', `Unexpected ${event.type} data`);
      return c.json({ result: await releaseSeat(deps, { id: event.id, data: data.data }) }, 200);
    },
  );
  return app;
}

export function createApp(deps: ReleaseDeps, http: Omit<HttpAppOptions, 'routes' | 'name'>) {
  return createHttpApp({ ...http, name: 'release-seat', routes: [releaseSeatRoutes(deps)] });
}
