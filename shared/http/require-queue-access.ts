import type { Context, MiddlewareHandler } from 'hono';
import { orThrow, type Result } from '../result.ts';
import type { AppEnv } from './env.ts';

export const queueTokenHeader = 'x-queue-token';

/**
 * What the [queue] endpoints need of the waiting room (shared/queue/access-token-check.ts implements it):
 * the caller's X-Queue-Token must be an access token for this user and concert, and the user must still
 * be ACTIVE.
 */
export interface QueueAccessCheck {
  check(accessToken: string | undefined, userId: string, concertId: string): Promise<Result<unknown>>;
  release(concertId: string, userId: string): Promise<void>;
}

/**
 * The [queue] guard of a route, after `authenticate`: the caller's X-Queue-Token must grant an ACTIVE slot
 * for the concert the request is about, else 403 (QUEUE_TOKEN_REQUIRED, QUEUE_TOKEN_INVALID,
 * QUEUE_NOT_ACTIVE). `concertOf` names that concert, or null to leave the request to the route: one that
 * needs no slot (a payment already made, replayed) or that the route refuses itself (a body its validator
 * refuses, someone else's reservation). zod-openapi runs a route's middleware before its validators, so
 * `concertOf` reads the request as sent (`sentJson`, `c.req.param`), not `c.req.valid`.
 */
export function requireQueueAccess(
  access: Pick<QueueAccessCheck, 'check'>,
  concertOf: (c: Context<AppEnv>) => Promise<string | null>,
): MiddlewareHandler<AppEnv> {
  return async function queueAccess(c, next) {
    const concertId = await concertOf(c);
    if (concertId !== null) {
      orThrow(await access.check(c.req.header(queueTokenHeader), c.get('user').id, concertId));
    }
    await next();
  };
}

const jsonMediaType = /^application\/([\w.-]+\+)?json$/i;

/**
 * The JSON body as sent, before validation: undefined when it is not declared JSON or does not parse (the
 * route's validator then refuses it). Read through hono's body cache, so the validator does not parse it twice.
 */
export async function sentJson(c: Context<AppEnv>): Promise<unknown> {
  const mediaType = c.req.header('content-type')?.split(';')[0]?.trim() ?? '';
  if (!jsonMediaType.test(mediaType)) return undefined;
  return c.req.json().catch(() => undefined);
}
