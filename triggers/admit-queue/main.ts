import { aimdConfigOf, shopHealthFor } from '../../shared/admission/for-runtime.ts';
import { activationHookFor, activationWriterFor } from '../../shared/outbox/queue-activated.ts';
import type { OnActivated } from '../../shared/queue/activated.ts';
import type { JournalWriter } from '../../shared/queue/activation-journal.ts';
import { queueStoreFor } from '../../shared/queue/for-runtime.ts';
import type { Runtime } from '../../shared/runtime.ts';
import { isEntryPoint, type Mount, serveFunctions } from '../../shared/serve.ts';
import { admitQueueRoutes } from './app.ts';
import { type AdmitDeps, admitAll } from './use-cases.ts';

/** Where admissions become events: the answer's hook, and the writer of the journal's leftovers. */
export interface ActivationWiring {
  onActivated?: (rt: Runtime) => OnActivated;
  writeJournaled?: (rt: Runtime) => JournalWriter;
}

/** The outbox, for the deployed function and the all-in-one server. */
export const outboxActivations: ActivationWiring = {
  onActivated: activationHookFor,
  writeJournaled: activationWriterFor,
};

function depsFor(rt: Runtime, wiring: ActivationWiring): AdmitDeps {
  return {
    store: queueStoreFor(rt),
    clock: rt.clock,
    logger: rt.logger,
    metrics: rt.metrics,
    adaptive: {
      board: shopHealthFor(rt).board,
      config: aimdConfigOf(rt.config),
      windowSeconds: rt.config.ADMISSION_WINDOW_SECONDS,
    },
    ...(wiring.onActivated ? { onActivated: wiring.onActivated(rt) } : {}),
    ...(wiring.writeJournaled ? { writeJournaled: wiring.writeJournaled(rt) } : {}),
  };
}

export function mountWith(wiring: ActivationWiring = {}): Mount {
  return (rt) => admitQueueRoutes(depsFor(rt, wiring));
}

export const mount: Mount = mountWith(outboxActivations);

/**
 * For the all-in-one server (in place of PingSource): runs admitAll every `intervalMs`, never two at once.
 * Returns the stop function `onStart` hands back.
 */
export function startAdmitScheduler(
  rt: Runtime,
  options: ActivationWiring & { intervalMs?: number } = {},
): () => Promise<void> {
  const deps = depsFor(rt, options);
  let running: Promise<unknown> | undefined;
  const timer = setInterval(() => {
    if (running) return;
    running = admitAll(deps)
      .catch((error: unknown) => rt.logger.warn({ err: error }, 'admit-queue run failed'))
      .finally(() => {
        running = undefined;
      });
  }, options.intervalMs ?? 1000);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}

if (isEntryPoint(import.meta.url)) await serveFunctions({ name: 'admit-queue', mounts: [mount] });
