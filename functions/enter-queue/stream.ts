import type { Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import { AppError } from '../../shared/errors.ts';
import type { AppEnv } from '../../shared/http/env.ts';
import type { QueueTicket } from '../../shared/queue/queue-tokens.ts';
import { isRedisOutage } from '../../shared/redis/client.ts';
import { type QueueAnswer, type QueueDeps, queueStatus } from './use-cases.ts';

export interface StreamOptions {
  /** How often the line is checked (the API promises at most one event a second). */
  checkMs: number;
  /** After this the server closes the stream; EventSource reconnects on its own. */
  maxStreamMs: number;
  /** A comment line when nothing changed for this long, so proxies keep the connection. */
  keepAliveMs: number;
}

export const defaultStreamOptions: StreamOptions = {
  checkMs: 1000,
  maxStreamMs: 5 * 60_000,
  keepAliveMs: 15_000,
};

/**
 * GET /v1/queue/stream: the status answer as Server-Sent Events. Each check is a status call, so holding the
 * stream open counts as polling; the stream ends after the ACTIVE event, when the client goes away, or after
 * maxStreamMs. `first` is the answer already computed (errors before the stream are plain HTTP errors).
 */
export function streamQueueStatus(
  c: Context<AppEnv>,
  deps: QueueDeps,
  ticket: QueueTicket,
  queueToken: string,
  first: QueueAnswer,
  options: StreamOptions,
): Response {
  return streamSSE(c, async (stream) => {
    let wake: (() => void) | undefined;
    stream.onAbort(() => wake?.());
    const sleep = (ms: number) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });

    const deadline = deps.clock.now() + options.maxStreamMs;
    let current = first;
    let lastKey = '';
    let lastWrite = deps.clock.now();
    while (!stream.aborted) {
      const key = `${current.status}:${current.position}:${current.paused}`;
      if (key !== lastKey) {
        await stream.writeSSE({ event: 'status', data: JSON.stringify(current) });
        lastKey = key;
        lastWrite = deps.clock.now();
      } else if (deps.clock.now() - lastWrite >= options.keepAliveMs) {
        await stream.write(': keep-alive\n\n');
        lastWrite = deps.clock.now();
      }
      if (current.status === 'ACTIVE' || deps.clock.now() >= deadline) return;
      await sleep(options.checkMs);
      if (stream.aborted) return;
      let next: Awaited<ReturnType<typeof queueStatus>>;
      try {
        next = await queueStatus(deps, ticket, queueToken);
      } catch (error) {
        await stream.writeSSE({ event: 'error', data: JSON.stringify(faultEvent(deps, error)) });
        return;
      }
      if (!next.ok) {
        const refusal = { error: { code: next.code, message: next.message } };
        await stream.writeSSE({ event: 'error', data: JSON.stringify(refusal) });
        return;
      }
      current = next.value;
    }
  });
}

/** A fault while streaming, as the `error` event: the HTTP answer was given when the stream began. */
function faultEvent(deps: QueueDeps, error: unknown) {
  if (error instanceof AppError) return { error: { code: error.code, message: error.message } };
  if (isRedisOutage(error)) {
    return { error: { code: 'DEPENDENCY_UNAVAILABLE', message: 'redis is unavailable, reconnect shortly' } };
  }
  deps.logger?.error({ err: error }, 'queue stream failed');
  return { error: { code: 'INTERNAL', message: 'Internal error' } };
}
