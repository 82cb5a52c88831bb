import { aimdConfigOf, shopHealthFor } from '../../shared/admission/for-runtime.ts';
import { activationHookFor } from '../../shared/outbox/queue-activated.ts';
import type { OnActivated } from '../../shared/queue/activated.ts';
import { queueStoreFor } from '../../shared/queue/for-runtime.ts';
import type { Runtime } from '../../shared/runtime.ts';
import { isEntryPoint, type Mount, serveFunctions } from '../../shared/serve.ts';
import { admitQueueRoutes } from './app.ts';
import { type AdmitDeps, admitAll } from './use-cases.ts';

type HookFactory = (rt: Runtime) => OnActivated;

function depsFor(rt: Runtime, onActivated?: HookFactory): AdmitDeps {
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
    ...(onActivated ? { onActivated: onActivated(rt) } : {}),
  };
}

export function mountWith(options: { onActivated?: HookFactory } = {}): Mount {
  return (rt) => admitQueueRoutes(depsFor(rt, options.onActivated));
}

export const mount: Mount = mountWith({ onActivated: activationHookFor });

/**
 * For the all-in-one server (in place of PingSource): runs admitAll every `intervalMs`, never two at once.
 * Returns the stop function `onStart` hands back.
 */
export function startAdmitScheduler(
  rt: Runtime,
  options: { intervalMs?: number; onActivated?: HookFactory } = {},
): () => Promise<void> {
  const deps = depsFor(rt, options.onActivated);
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
