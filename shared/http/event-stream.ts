import type { ServerResponse } from 'node:http';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import type { Context, MiddlewareHandler } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { AppEnv } from './env.ts';

/** Where a Server-Sent Events stream writes. */
export interface EventSink {
  event(name: string, data: string): Promise<void>;
  /** A comment line: keeps proxies from closing an idle stream. */
  comment(text: string): Promise<void>;
  readonly aborted: boolean;
  onAbort(listener: () => void): void;
}

/**
 * Bytes a client may leave unread before its stream is closed: a waiter gets a few small events a minute,
 * so a backlog this large means a client that stopped reading, and EventSource reconnects by itself.
 */
const unreadLimitBytes = 64 * 1024;

/**
 * Opens a `text/event-stream` answer and runs `produce` on it; the stream ends when `produce` returns.
 *
 * Served by Node (the functions and the all-in-one server), events are written to the Node response
 * itself, as @hono/node-server documents for direct responses: a web stream, its reader and the
 * adapter's pump per open stream cost several times the memory of the events, and a waiting room holds
 * tens of thousands of streams that mostly sit idle. Elsewhere (app.request in tests) Hono's streamSSE.
 */
export function openEventStream(c: Context<AppEnv>, produce: (sink: EventSink) => Promise<void>): Response {
  const outgoing = (c.env as { outgoing?: ServerResponse } | undefined)?.outgoing;
  if (!outgoing || typeof outgoing.writeHead !== 'function') {
    return streamSSE(c, (stream) =>
      produce({
        event: (name, data) => stream.writeSSE({ event: name, data }),
        comment: async (text) => {
          await stream.write(`: ${text}\n\n`);
        },
        get aborted() {
          return stream.aborted;
        },
        onAbort: (listener) => stream.onAbort(listener),
      }),
    );
  }

  // The headers the middleware prepared (request id, CORS) go out with the stream's own.
  const headers: Record<string, string> = {};
  c.res.headers.forEach((value, name) => {
    headers[name] = value;
  });
  outgoing.writeHead(200, {
    ...headers,
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
  });
  outgoing.flushHeaders();

  let aborted = false;
  const listeners: (() => void)[] = [];
  const abort = () => {
    if (aborted) return;
    aborted = true;
    for (const listener of listeners.splice(0)) listener();
  };
  outgoing.once('close', abort);
  const write = async (text: string) => {
    if (aborted) return;
    outgoing.write(text);
    if (outgoing.writableLength > unreadLimitBytes) outgoing.destroy();
  };
  const sink: EventSink = {
    event: (name, data) => write(`event: ${name}\ndata: ${data.replaceAll('\n', '\ndata: ')}\n\n`),
    comment: (text) => write(`: ${text}\n\n`),
    get aborted() {
      return aborted;
    },
    onAbort: (listener) => {
      if (aborted) listener();
      else listeners.push(listener);
    },
  };
  // Nothing the stream keeps may hold the context: it and the request it wraps would live as long.
  const logger = c.get('logger');
  produce(sink)
    .catch((error: unknown) => logger?.error({ err: error }, 'event stream failed'))
    .finally(() => {
      if (!outgoing.writableEnded) outgoing.end();
    });
  c.set('sentDirectly', true);
  return RESPONSE_ALREADY_SENT;
}

/**
 * The outermost middleware: hands the adapter the already-sent marker itself when a route wrote its answer
 * directly. Every middleware that sets a header after the route (CORS' Vary, the request id) makes Hono copy
 * the context's response into a new one, and a copy of the marker is an empty answer the adapter would try
 * to send a second time.
 */
export function directAnswers(): MiddlewareHandler<AppEnv> {
  return async function keepDirectAnswers(c, next) {
    await next();
    if (!c.get('sentDirectly')) return;
    // Assigning over a response would merge the two: clear it first.
    c.res = undefined as unknown as Response;
    c.res = RESPONSE_ALREADY_SENT;
  };
}
