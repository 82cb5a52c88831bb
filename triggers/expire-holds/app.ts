import { createRoute, z } from '@hono/zod-openapi';
import { createHttpApp, type HttpAppOptions } from '../../shared/http/create-http-app.ts';
import { errorResponses } from '../../shared/http/openapi-common.ts';
import { createRouter } from '../../shared/http/router.ts';
import { type ExpireDeps, expireLapsedHolds } from './expire.ts';

export function expireHoldsRoutes(deps: ExpireDeps) {
  const app = createRouter();
  app.openapi(
    createRoute({
      method: 'post',
      path: '/',
      summary: 'Expire lapsed holds and emit reservation.expired (PingSource target)',
      responses: {
        200: {
          description: 'How many holds were expired, and whether the run reached the end of the backlog',
          content: {
            'application/json': {
              schema: z.object({ expired: z.number().int(), drained: z.boolean() }),
            },
          },
        },
        ...errorResponses({ 503: 'DEPENDENCY_UNAVAILABLE' }),
      },
    }),
    async (c) => c.json(await expireLapsedHolds(deps), 200),
  );
  return app;
}

export function createApp(deps: ExpireDeps, http: Omit<HttpAppOptions, 'routes' | 'name'>) {
  return createHttpApp({ ...http, name: 'expire-holds', routes: [expireHoldsRoutes(deps)] });
}
