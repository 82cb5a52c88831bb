import { activationHookFor } from '../../shared/outbox/queue-activated.ts';
import type { OnActivated } from '../../shared/queue/activated.ts';
import { queueStoreFor, queueTokensFor } from '../../shared/queue/for-runtime.ts';
import type { Runtime } from '../../shared/runtime.ts';
import { isEntryPoint, type Mount, serveFunctions } from '../../shared/serve.ts';
import { queueRoutes } from './app.ts';

/** `onActivated` builds, per runtime, the hook that publishes queue.activated (the event wiring passes it). */
export function mountWith(options: { onActivated?: (rt: Runtime) => OnActivated } = {}): Mount {
  return (rt) =>
    queueRoutes({
      store: queueStoreFor(rt),
      tokens: queueTokensFor(rt),
      clock: rt.clock,
      logger: rt.logger,
      userTokens: rt.userTokens,
      rateLimiter: rt.rateLimiter,
      concertExists: rt.concertExists,
      ...(options.onActivated ? { onActivated: options.onActivated(rt) } : {}),
    });
}

export const mount: Mount = mountWith({ onActivated: activationHookFor });

if (isEntryPoint(import.meta.url)) await serveFunctions({ name: 'enter-queue', mounts: [mount] });
