import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
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
    // Straight onto the Node response where there is one: c.header() would give the answer a web Headers
    // object, which takes the Node adapter off its fast path for plain header objects.
    const outgoing = (c.env as { outgoing?: ServerResponse } | undefined)?.outgoing;
    if (outgoing && typeof outgoing.setHeader === 'function') outgoing.setHeader('X-Request-Id', id);
    else c.header('X-Request-Id', id);
    await next();
  };
}
