import { createRoute, z } from '@hono/zod-openapi';
import { receiveCloudEvent } from '../../shared/http/cloudevent-receiver.ts';
import { createHttpApp, type HttpAppOptions } from '../../shared/http/create-http-app.ts';
import { errorResponses } from '../../shared/http/openapi-common.ts';
import { createRouter } from '../../shared/http/router.ts';
import { createNotify, type NotifyDeps } from './notify.ts';

/** `POST /`: KafkaSource delivery of the events users hear about. */
export function notifyRoutes(deps: NotifyDeps) {
  const notify = createNotify(deps);
  const app = createRouter();
  app.openapi(
    createRoute({
      method: 'post',
      path: '/',
      summary: 'Send a signed webhook for an event (KafkaSource target)',
      responses: {
        200: {
          description: 'Sent, already sent, or logged (no webhook configured)',
          content: {
            'application/json': { schema: z.object({ result: z.enum(['sent', 'duplicate', 'skipped']) }) },
          },
        },
        ...errorResponses({ 400: 'VALIDATION_FAILED', 503: 'DEPENDENCY_UNAVAILABLE' }),
      },
    }),
    async (c) => c.json({ result: await notify(await receiveCloudEvent(c)) }, 200),
  );
  return app;
}

export function createApp(deps: NotifyDeps, http: Omit<HttpAppOptions, 'routes' | 'name'>) {
  return createHttpApp({ ...http, name: 'notify', routes: [notifyRoutes(deps)] });
}
