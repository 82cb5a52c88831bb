import { createRoute, z } from '@hono/zod-openapi';
import { createHttpApp, type HttpAppOptions } from '../../shared/http/create-http-app.ts';
import { errorResponses } from '../../shared/http/openapi-common.ts';
import { createRouter } from '../../shared/http/router.ts';
import { type AdmitDeps, admitAll } from './use-cases.ts';

const summarySchema = z
  .object({ concerts: z.number().int(), admitted: z.number().int(), failed: z.number().int() })
  .openapi('AdmitSummary');

/**
 * `POST /`: what a PingSource delivers (the CloudEvent itself carries nothing this step needs). Mounted
 * only in the trigger's own process; the all-in-one server calls admitAll from its scheduler instead.
 */
export function admitQueueRoutes(deps: AdmitDeps) {
  const app = createRouter();
  app.openapi(
    createRoute({
      method: 'post',
      path: '/',
      summary: 'Run the queue admission step for every concert (PingSource target)',
      responses: {
        200: { description: 'What the step did', content: { 'application/json': { schema: summarySchema } } },
        ...errorResponses({ 503: 'DEPENDENCY_UNAVAILABLE' }),
      },
    }),
    async (c) => c.json(await admitAll(deps), 200),
  );
  return app;
}

export function createApp(deps: AdmitDeps, http: Omit<HttpAppOptions, 'routes' | 'name'>) {
  return createHttpApp({ ...http, name: 'admit-queue', routes: [admitQueueRoutes(deps)] });
}
