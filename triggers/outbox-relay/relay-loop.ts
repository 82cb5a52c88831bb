import type { Logger } from '../../shared/logger.ts';
import { type RelayDeps, relayOnce } from './relay.ts';

/**
 * Keeps the outbox drained: a batch right after a full one, else a short pause. Used by the all-in-one
 * server and by the relay's own process in Knative (min-scale 1), where a PingSource call is the backstop.
 * A failing run (Kafka down) backs off up to 5 s and is logged once per streak, not once per try.
 */
export function startRelayLoop(
  deps: RelayDeps & { logger: Logger; intervalMs: number; onError?(): void },
): () => Promise<void> {
  let stopped = false;
  let failures = 0;
  let wake: (() => void) | undefined;
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      timer.unref();
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  const loop = (async () => {
    while (!stopped) {
      try {
        const n = await relayOnce(deps);
        if (failures > 0) deps.logger.info({ after: failures }, 'outbox relay recovered');
        failures = 0;
        if (n < deps.batch) await pause(deps.intervalMs);
      } catch (error) {
        failures++;
        deps.onError?.();
        if (failures === 1)
          deps.logger.warn(
            { err: error instanceof Error ? error.message : String(error) },
            'outbox relay failed; retrying',
          );
        await pause(Math.min(deps.intervalMs * 2 ** failures, 5000));
      }
    }
  })();
  return async () => {
    stopped = true;
    wake?.();
    await loop;
  };
}
