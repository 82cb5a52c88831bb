import type { CloudEvent } from 'cloudevents';
import type { Context } from 'hono';
import { AppError } from '../errors.ts';
import { httpToEvent } from '../events/cloudevents.ts';
import type { AppEnv } from './env.ts';

/** The CloudEvent of a binary-mode (or structured) HTTP delivery, as Knative sources send them. */
export async function receiveCloudEvent(c: Context<AppEnv>): Promise<CloudEvent<unknown>> {
  const headers: Record<string, string> = {};
  c.req.raw.headers.forEach((value, key) => {
    headers[key] = value;
  });
  const body = await c.req.text();
  try {
    const event = httpToEvent(headers, body);
    c.set('logger', c.get('logger').child({ ceId: event.id, ceType: event.type }));
    return event;
  } catch (error) {
    throw new AppError(
      'VALIDATION_FAILED',
      `Not a CloudEvent: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}
