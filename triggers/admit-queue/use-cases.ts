import type { Clock } from '../../shared/clock.ts';
import type { Logger } from '../../shared/logger.ts';
import { announceActivated, type OnActivated } from '../../shared/queue/activated.ts';
import { type JournalWriter, sweepJournal } from '../../shared/queue/activation-journal.ts';
import type { QueueStore } from '../../shared/queue/queue-store.ts';

export interface AdmitDeps {
  store: QueueStore;
  clock: Clock;
  logger?: Logger;
  onActivated?: OnActivated;
  /** Writes the events of journaled admissions whose answers were lost; without it the journal is left. */
  writeJournaled?: JournalWriter;
  /** Concerts handled at once; each is one EVALSHA. */
  concurrency?: number;
}

export interface AdmitSummary {
  concerts: number;
  admitted: number;
  failed: number;
  /** Events the journal's sweep wrote that were missing: admissions whose answers were lost. */
  journaled: number;
}

/**
 * The periodic admission step for every concert with a queue. Status polls run the same step, so this
 * only keeps lines moving (and emits queue.activated) when nobody polls; correctness never depends on it.
 * One concert failing does not stop the others.
 */
export async function admitAll(deps: AdmitDeps): Promise<AdmitSummary> {
  const concerts = await deps.store.concerts();
  const summary: AdmitSummary = { concerts: concerts.length, admitted: 0, failed: 0, journaled: 0 };
  let next = 0;
  const worker = async () => {
    while (next < concerts.length) {
      const concertId = concerts[next++]!;
      try {
        const now = deps.clock.now();
        const snapshot = await deps.store.admit(concertId, now);
        summary.admitted += snapshot.admitted.length;
        announceActivated(deps, concertId, snapshot.admitted, now);
      } catch (error) {
        summary.failed++;
        deps.logger?.warn({ err: error, concertId }, 'admission step failed');
        continue;
      }
      if (!deps.writeJournaled) continue;
      try {
        const recovered = await sweepJournal(deps.store, deps.writeJournaled, concertId, deps.clock.now());
        summary.journaled += recovered;
        if (recovered > 0) {
          deps.logger?.warn(
            { concertId, users: recovered },
            'queue.activated written from the journal: the answers of these admissions were lost',
          );
        }
      } catch (error) {
        deps.logger?.warn(
          { err: error, concertId },
          'queue.activated journal not written; kept for the next run',
        );
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, deps.concurrency ?? 8) }, worker));
  return summary;
}
