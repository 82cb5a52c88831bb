import type { QueueStore } from './queue-store.ts';

/**
 * How old a journal entry must be before the sweep writes its event. The caller that got the admission's
 * answer writes it at once; the sweep is for answers that never arrived, and writing a fact twice is
 * harmless (the outbox skips an event id it has), so the grace only saves duplicate inserts.
 */
export const journalGraceMs = 5_000;
const sweepBatch = 500;
const sweepBatchesPerRun = 20;

/** Writes the events of journaled admissions; resolves with how many were not written before. */
export type JournalWriter = (
  concertId: string,
  activations: { userId: string; at: number }[],
) => Promise<number>;

/**
 * Writes the events of admissions the journal still holds past the grace, then forgets them. Most were
 * written already by the call that admitted them (the outbox keeps one row each); those that were not are
 * admissions whose answer was lost, and their count is what this returns. An entry is deleted only after
 * its own event is written, so sweeps running at once in several processes cannot drop one another's
 * entries; a failed write leaves the entries for the next run.
 */
export async function sweepJournal(
  store: Pick<QueueStore, 'journaled' | 'settleJournal'>,
  write: JournalWriter,
  concertId: string,
  now: number,
): Promise<number> {
  let recovered = 0;
  for (let i = 0; i < sweepBatchesPerRun; i++) {
    const due = await store.journaled(concertId, now - journalGraceMs, sweepBatch);
    if (due.length === 0) break;
    recovered += await write(concertId, due);
    await store.settleJournal(
      concertId,
      due.map((entry) => entry.id),
    );
    if (due.length < sweepBatch) break;
  }
  return recovered;
}
