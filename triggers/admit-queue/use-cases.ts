import { type AimdConfig, decide } from '../../shared/admission/aimd.ts';
import { type HealthBoard, readShopHealth } from '../../shared/admission/health-board.ts';
import type { ShopHealth } from '../../shared/admission/shop-health.ts';
import type { Clock } from '../../shared/clock.ts';
import type { Logger } from '../../shared/logger.ts';
import type { Metrics } from '../../shared/metrics.ts';
import { announceActivated, type OnActivated } from '../../shared/queue/activated.ts';
import { type JournalWriter, sweepJournal } from '../../shared/queue/activation-journal.ts';
import type { QueueSnapshot, QueueStore } from '../../shared/queue/queue-store.ts';

/** What adaptive admission needs: where the shop's health is published and how to judge it. */
export interface AdaptiveDeps {
  board: HealthBoard;
  config: AimdConfig;
  windowSeconds: number;
}

export interface AdmitDeps {
  store: QueueStore;
  clock: Clock;
  logger?: Logger;
  onActivated?: OnActivated;
  /** Writes the events of journaled admissions whose answers were lost; without it the journal is left. */
  writeJournaled?: JournalWriter;
  /** Concerts handled at once; each is one EVALSHA. */
  concurrency?: number;
  /** Without it, lines set to adaptive keep their rate. */
  adaptive?: AdaptiveDeps;
  metrics?: Pick<Metrics, 'queueAdmitRate' | 'queueAdmissionChanges'>;
}

export interface AdmitSummary {
  concerts: number;
  admitted: number;
  failed: number;
  /** Events the journal's sweep wrote that were missing: admissions whose answers were lost. */
  journaled: number;
}

/**
 * Adaptive admission for one concert after its step: one AIMD decision from the shop's health (read once
 * per run, and only when some line is adaptive), applied as the line's admitPerSecond. The next step
 * admits at the new rate.
 */
async function adapt(
  deps: AdmitDeps,
  concertId: string,
  snapshot: QueueSnapshot,
  now: number,
  health: () => Promise<ShopHealth>,
) {
  const rate = snapshot.settings.admitPerSecond;
  deps.metrics?.queueAdmitRate.set({ concert: concertId }, rate);
  if (!deps.adaptive) return;
  const admission = await deps.store.admission(concertId);
  const { minAdmitPerSecond: min, maxAdmitPerSecond: max } = admission;
  if (admission.admission !== 'adaptive' || min === null || max === null) return;
  const decision = decide(
    deps.adaptive.config,
    {
      rate,
      min,
      max,
      waiting: snapshot.waiting,
      lastChange: admission.admissionChange,
      changedAt: admission.admissionChangedAt,
    },
    await health(),
    now,
  );
  if (!decision.change) return;
  await deps.store.updateSettings(concertId, {
    admitPerSecond: decision.rate,
    admissionChange: decision.change,
    admissionReason: decision.reason,
    admissionChangedAt: now,
  });
  deps.metrics?.queueAdmitRate.set({ concert: concertId }, decision.rate);
  deps.metrics?.queueAdmissionChanges.inc({ concert: concertId, change: decision.change });
  deps.logger?.info(
    { concertId, admitPerSecond: decision.rate, previous: rate, reason: decision.reason },
    'admission rate changed',
  );
}

/**
 * The periodic admission step for every concert with a queue. Status polls run the same step, so this
 * only keeps lines moving (and emits queue.activated) when nobody polls; correctness never depends on it.
 * Adaptive lines also get their rate adjusted here. One concert failing does not stop the others.
 */
export async function admitAll(deps: AdmitDeps): Promise<AdmitSummary> {
  const concerts = await deps.store.concerts();
  const summary: AdmitSummary = { concerts: concerts.length, admitted: 0, failed: 0, journaled: 0 };
  let shopHealth: Promise<ShopHealth> | undefined;
  const health = () => {
    const { board, windowSeconds } = deps.adaptive!;
    shopHealth ??= readShopHealth(board, deps.clock.now(), windowSeconds);
    return shopHealth;
  };
  let next = 0;
  const worker = async () => {
    while (next < concerts.length) {
      const concertId = concerts[next++]!;
      try {
        const now = deps.clock.now();
        const snapshot = await deps.store.admit(concertId, now);
        summary.admitted += snapshot.admitted.length;
        announceActivated(deps, concertId, snapshot.admitted, now);
        await adapt(deps, concertId, snapshot, now, health);
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
