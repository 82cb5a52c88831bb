import { activationHookFor } from '../../shared/outbox/queue-activated.ts';
import type { OnActivated } from '../../shared/queue/activated.ts';
import { queueRecordsFor, queueStoreFor, queueTokensFor } from '../../shared/queue/for-runtime.ts';
import { createLineSnapshots, defaultLineSnapshotOptions } from '../../shared/queue/line-snapshot.ts';
import type { Runtime } from '../../shared/runtime.ts';
import { isEntryPoint, type Mount, serveFunctions } from '../../shared/serve.ts';
import { queueRoutes } from './app.ts';

/** `onActivated` builds, per runtime, the hook that publishes queue.activated (the event wiring passes it). */
export function mountWith(options: { onActivated?: (rt: Runtime) => OnActivated } = {}): Mount {
  return (rt) => {
    const onActivated = options.onActivated?.(rt);
    const records = queueRecordsFor(rt);
    const store = queueStoreFor(rt);
    rt.gaugeRefreshers.push(() => refreshQueueGauges(rt));
    // The embedded line is process memory already: a snapshot of it would only add staleness.
    const lines = rt.redis
      ? createLineSnapshots({
          ...defaultLineSnapshotOptions,
          store,
          clock: rt.clock,
          logger: rt.logger,
          ...(onActivated ? { onActivated } : {}),
        })
      : undefined;
    return queueRoutes(
      {
        store,
        tokens: queueTokensFor(rt),
        clock: rt.clock,
        logger: rt.logger,
        userTokens: rt.userTokens,
        rateLimiter: rt.rateLimiter,
        concertExists: rt.concertExists,
        ...(records ? { records } : {}),
        ...(onActivated ? { onActivated } : {}),
        ...(lines ? { lines } : {}),
      },
      rt.config.QUEUE_ROUTES,
    );
  };
}

/**
 * Queue sizes for the scrape (bounded to 100 concerts). Only reads: a scrape must not change the line, so
 * admission stays with the status polls and the admit-queue trigger.
 */
export async function refreshQueueGauges(
  rt: Pick<Runtime, 'metrics' | 'clock'> & Parameters<typeof queueStoreFor>[0],
): Promise<void> {
  const store = queueStoreFor(rt);
  const now = rt.clock.now();
  for (const concertId of (await store.concerts()).slice(0, 100)) {
    const counts = await store.counts(concertId, now);
    rt.metrics.queueWaiting.set({ concert: concertId }, counts.waiting);
    rt.metrics.queueActive.set({ concert: concertId }, counts.active);
  }
}

export const mount: Mount = mountWith({ onActivated: activationHookFor });

if (isEntryPoint(import.meta.url)) await serveFunctions({ name: 'enter-queue', mounts: [mount] });
