import { reportKafkaReadiness } from '../../shared/events/readiness.ts';
import type { Runtime } from '../../shared/runtime.ts';
import { isEntryPoint, type Mount, serveFunctions } from '../../shared/serve.ts';
import { relayRoutes } from './app.ts';
import type { RelayDeps } from './relay.ts';
import { startRelayLoop } from './relay-loop.ts';

export function relayDeps(rt: Runtime): RelayDeps {
  return {
    db: rt.database.db,
    bus: rt.bus,
    clock: rt.clock,
    batch: rt.config.OUTBOX_RELAY_BATCH,
    onPublished: (n) => rt.metrics.outboxPublished.inc(n),
  };
}

export function startRelay(rt: Runtime): () => Promise<void> {
  return startRelayLoop({
    ...relayDeps(rt),
    logger: rt.logger,
    intervalMs: rt.config.OUTBOX_RELAY_INTERVAL_MS,
    onError: () => rt.metrics.outboxRelayErrors.inc(),
  });
}

/** The relay as its own process: without Kafka it has nothing to do, so its /readyz says 503 meanwhile. */
export async function startStandaloneRelay(rt: Runtime): Promise<() => Promise<void>> {
  reportKafkaReadiness(rt, 'unavailable');
  return startRelay(rt);
}

export const mount: Mount = (rt) => relayRoutes(relayDeps(rt));

if (isEntryPoint(import.meta.url)) {
  // Its own process in Knative (min-scale 1): the loop keeps latency low, PingSource posts are the backstop.
  await serveFunctions({ name: 'outbox-relay', mounts: [mount], onStart: startStandaloneRelay });
}
