import { createRoute, z } from '@hono/zod-openapi';
import { DependencyUnavailableError } from '../../shared/errors.ts';
import { isKafkaOutage } from '../../shared/events/kafka-bus.ts';
import { createHttpApp, type HttpAppOptions } from '../../shared/http/create-http-app.ts';
import { errorResponses } from '../../shared/http/openapi-common.ts';
import { createRouter } from '../../shared/http/router.ts';
import { drainOutbox, type RelayDeps } from './relay.ts';

/** `POST /`: a PingSource tick drains what is pending (the loop in the same process normally got there first). */
export function relayRoutes(deps: RelayDeps) {
  const app = createRouter();
  app.openapi(
    createRoute({
      method: 'post',
      path: '/',
      summary: 'Publish pending outbox events (PingSource target)',
      responses: {
        200: {
          description: 'How many events were published',
          content: { 'application/json': { schema: z.object({ published: z.number().int() }) } },
        },
        ...errorResponses({ 503: 'DEPENDENCY_UNAVAILABLE' }),
      },
    }),
    async (c) => {
      try {
        return c.json({ published: await drainOutbox(deps) }, 200);
      } catch (error) {
        if (isKafkaOutage(error)) throw new DependencyUnavailableError('kafka', error);
        throw error;
      }
    },
  );
  return app;
}

export function createApp(deps: RelayDeps, http: Omit<HttpAppOptions, 'routes' | 'name'>) {
  return createHttpApp({ ...http, name: 'outbox-relay', routes: [relayRoutes(deps)] });
}
