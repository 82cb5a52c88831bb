import { createRoute, z } from '@hono/zod-openapi';
import { AppError, DependencyUnavailableError } from '../../shared/errors.ts';
import { deadLetterTopic } from '../../shared/events/dispatcher.ts';
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
  // A KafkaSource's dead-letter sink: an event that failed every retry is kept on the dead-letter topic, as
  // the local dispatcher keeps its own, with the error attributes Knative adds (ce-knativeerror*).
  app.openapi(
    createRoute({
      method: 'post',
      path: '/dead-letter',
      summary: 'Keep an event that failed every delivery attempt (KafkaSource dead-letter sink)',
      responses: {
        202: {
          description: 'Kept on the dead-letter topic',
          content: { 'application/json': { schema: z.object({ kept: z.literal(true) }) } },
        },
        ...errorResponses({ 400: 'VALIDATION_FAILED', 503: 'DEPENDENCY_UNAVAILABLE' }),
      },
    }),
    async (c) => {
      const headers: Record<string, string> = {};
      for (const [name, value] of c.req.raw.headers) {
        if (name.startsWith('ce-') || name === 'content-type') headers[name] = value;
      }
      const id = headers['ce-id'];
      if (!id || !headers['ce-type']) {
        throw new AppError('VALIDATION_FAILED', 'a binary-mode CloudEvent needs ce-id and ce-type headers');
      }
      try {
        await deps.bus.publish([{ topic: deadLetterTopic, key: id, value: await c.req.text(), headers }]);
      } catch (error) {
        if (isKafkaOutage(error)) throw new DependencyUnavailableError('kafka', error);
        throw error;
      }
      return c.json({ kept: true as const }, 202);
    },
  );
  return app;
}

export function createApp(deps: RelayDeps, http: Omit<HttpAppOptions, 'routes' | 'name'>) {
  return createHttpApp({ ...http, name: 'outbox-relay', routes: [relayRoutes(deps)] });
}
