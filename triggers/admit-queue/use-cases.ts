import type { Clock } from '../../shared/clock.ts';
import type { Logger } from '../../shared/logger.ts';
import { announceActivated, type OnActivated } from '../../shared/queue/activated.ts';
import type { QueueStore } from '../../shared/queue/queue-store.ts';

export interface AdmitDeps {
  store: QueueStore;
  clock: Clock;
  logger?: Logger;
  onActivated?: OnActivated;
  /** Concerts handled at once; each is one EVALSHA. */
  concurrency?: number;
}

export interface AdmitSummary {
  concerts: number;
  admitted: number;
  failed: number;
}

/**
 * The periodic admission step for every concert with a queue. Status polls run the same step, so this
 * only keeps lines moving (and emits queue.activated) when nobody polls; correctness never depends on it.
 * One concert failing does not stop the others.
 */
export async function admitAll(deps: AdmitDeps): Promise<AdmitSummary> {
  const concerts = await deps.store.concerts();
  const summary: AdmitSummary = { concerts: concerts.length, admitted: 0, failed: 0 };
  let next = 0;
  const worker = async () => {
    while (next < concerts.length) {
      const concertId = concerts[next++]!;
      try {
        const snapshot = await deps.store.admit(concertId, deps.clock.now());
        summary.admitted += snapshot.admitted.length;
        announceActivated(deps, concertId, snapshot.admitted);
      } catch (error) {
        summary.failed++;
        deps.logger?.warn({ err: error, concertId }, 'admission step failed');
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, deps.concurrency ?? 8) }, worker));
  return summary;
}
