import { activationHookFor } from '../../shared/outbox/queue-activated.ts';
import { announceActivated, type OnActivated } from '../../shared/queue/activated.ts';
import { queueStoreFor, queueTokensFor } from '../../shared/queue/for-runtime.ts';
import type { Runtime } from '../../shared/runtime.ts';
import { isEntryPoint, type Mount, serveFunctions } from '../../shared/serve.ts';
import { queueRoutes } from './app.ts';

/** `onActivated` builds, per runtime, the hook that publishes queue.activated (the event wiring passes it). */
export function mountWith(options: { onActivated?: (rt: Runtime) => OnActivated } = {}): Mount {
  return (rt) => {
    const onActivated = options.onActivated?.(rt);
    rt.gaugeRefreshers.push(() => refreshQueueGauges(rt, onActivated));
    return queueRoutes({
      store: queueStoreFor(rt),
      tokens: queueTokensFor(rt),
      clock: rt.clock,
      logger: rt.logger,
      userTokens: rt.userTokens,
      rateLimiter: rt.rateLimiter,
      concertExists: rt.concertExists,
      ...(onActivated ? { onActivated } : {}),
    });
  };
}

/**
 * Queue sizes for the scrape: the admission step counts the line as it runs (bounded to 100 concerts); any
 * users it admits are announced like every other admission.
 */
async function refreshQueueGauges(rt: Runtime, onActivated: OnActivated | undefined): Promise<void> {
  const store = queueStoreFor(rt);
  for (const concertId of (await store.concerts()).slice(0, 100)) {
    const snapshot = await store.admit(concertId, rt.clock.now());
    announceActivated({ onActivated, logger: rt.logger }, concertId, snapshot.admitted);
    rt.metrics.queueWaiting.set({ concert: concertId }, snapshot.waiting);
    rt.metrics.queueActive.set({ concert: concertId }, snapshot.active);
  }
}

export const mount: Mount = mountWith({ onActivated: activationHookFor });

if (isEntryPoint(import.meta.url)) await serveFunctions({ name: 'enter-queue', mounts: [mount] });
