import { randomUUID } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import type { Logger } from '../logger.ts';
import type { AppEnv } from './env.ts';

const acceptable = /^[\w.:-]{1,128}$/;

/** Keeps a caller's X-Request-Id when it looks sane (traces across the ingress), else makes one. */
export function requestIdMiddleware(logger: Logger): MiddlewareHandler<AppEnv> {
  return async function requestId(c, next) {
    const incoming = c.req.header('x-request-id');
    const id = incoming && acceptable.test(incoming) ? incoming : randomUUID();
    c.set('requestId', id);
    // The plain logger: a child per request cost more than the rare line it would write; those lines
    // name the request id themselves.
    c.set('logger', logger);
    // Set before the route runs, so every answer the context builds carries it: JSON, errors, streams.
    c.header('X-Request-Id', id);
    await next();
    // A route that returns a Response of its own (a cached seat map, already serialised) bypasses the
    // context's headers.
    if (!c.res.headers.has('X-Request-Id')) c.res.headers.set('X-Request-Id', id);
  };
}
