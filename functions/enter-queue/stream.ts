import type { Context } from 'hono';
import { AppError } from '../../shared/errors.ts';
import type { AppEnv } from '../../shared/http/env.ts';
import { openEventStream } from '../../shared/http/event-stream.ts';
import type { QueueTicket } from '../../shared/queue/queue-tokens.ts';
import { isRedisOutage } from '../../shared/redis/client.ts';
import { answer, type QueueAnswer, type QueueDeps, queueStatus, readTicket } from './use-cases.ts';

export interface StreamOptions {
  /**
   * How often the line is checked without the line snapshot; with it, the shortest time between two events
   * of a waiting user (the API promises at most one a second).
   */
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
 * GET /v1/queue/stream: the status answer as Server-Sent Events; the stream ends after the ACTIVE event, when
 * the client goes away, or after maxStreamMs. `first` is the answer already computed (errors before the
 * stream are plain HTTP errors). Holding the stream open counts as polling.
 *
 * With the process's line snapshot (deps.lines) every stream of a concert wakes on the snapshot's read and
 * finds its place in it: Redis sees no command per stream, and the heartbeats go with the reads. Only a
 * holder the snapshot cannot place (just admitted, the line opened, its data lost) asks the store, once.
 * Without it each stream asks the store every checkMs.
 */
export function streamQueueStatus(
  c: Context<AppEnv>,
  deps: QueueDeps,
  ticket: QueueTicket,
  queueToken: string,
  first: QueueAnswer,
  options: StreamOptions,
): Response {
  return openEventStream(c, async (stream) => {
    let wake: (() => void) | undefined;
    stream.onAbort(() => wake?.());
    const watch = deps.lines?.watch(ticket.concertId, ticket.userId);
    const nextCheck = () =>
      new Promise<void>((resolve) => {
        if (watch) {
          wake = resolve;
          void watch.next().then(resolve);
          return;
        }
        const timer = setTimeout(resolve, options.checkMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });

    let holder = ticket;
    let token = queueToken;
    /** The holder's answer now; null when a refusal event was written and the stream must end. */
    const check = async (current: QueueAnswer): Promise<QueueAnswer | null> => {
      const lookup = deps.lines?.lookup(holder, true);
      if (lookup?.kind === 'stale') return current;
      if (lookup?.kind === 'placed') return answer(deps, lookup.view, holder, token, deps.clock.now());
      const next = await queueStatus(deps, holder, token);
      if (!next.ok) {
        const refusal = { error: { code: next.code, message: next.message } };
        await stream.event('error', JSON.stringify(refusal));
        return null;
      }
      if (next.value.queueToken !== token) {
        // A token for the place as it is now (the line opened, or came back after a loss): follow it.
        const renewed = await readTicket(deps, next.value.queueToken);
        if (renewed.ok) {
          holder = renewed.value;
          token = next.value.queueToken;
        }
      }
      return next.value;
    };

    const deadline = deps.clock.now() + options.maxStreamMs;
    let current = first;
    let lastKey = '';
    let lastWrite = deps.clock.now();
    try {
      while (!stream.aborted) {
        const key = `${current.status}:${current.position}:${current.paused}`;
        // The snapshot wakes the stream more often than once a second; a new position waits for its turn.
        const early = current.status === 'WAITING' && deps.clock.now() - lastWrite < options.checkMs;
        if (key !== lastKey && !(watch && lastKey !== '' && early)) {
          await stream.event('status', JSON.stringify(current));
          lastKey = key;
          lastWrite = deps.clock.now();
        } else if (deps.clock.now() - lastWrite >= options.keepAliveMs) {
          await stream.comment('keep-alive');
          lastWrite = deps.clock.now();
        }
        if (current.status === 'ACTIVE' || deps.clock.now() >= deadline) return;
        await nextCheck();
        if (stream.aborted) return;
        let next: QueueAnswer | null;
        try {
          next = await check(current);
        } catch (error) {
          await stream.event('error', JSON.stringify(faultEvent(deps, error)));
          return;
        }
        if (next === null) return;
        current = next;
      }
    } finally {
      watch?.close();
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
