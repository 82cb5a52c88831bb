import type { QueueStore } from './queue-store.ts';

/**
 * How old a journal entry must be before the sweep writes its event. The caller that got the admission's
 * answer writes it at once; the sweep is for answers that never arrived, and writing a fact twice is
 * harmless (the outbox skips an event id it has), so the grace only saves duplicate inserts.
 */
export const journalGraceMs = 5_000;
const sweepBatch = 500;
const sweepBatchesPerRun = 20;

export type JournalWriter = (
  concertId: string,
  activations: { userId: string; at: number }[],
) => Promise<void>;

/**
 * Writes the events of admissions the journal still holds past the grace, then forgets them. An entry is
 * deleted only after its own event is written, so sweeps running at once in several processes cannot drop
 * one another's entries; a failed write leaves the entries for the next run. Returns how many it wrote.
 */
export async function sweepJournal(
  store: Pick<QueueStore, 'journaled' | 'settleJournal'>,
  write: JournalWriter,
  concertId: string,
  now: number,
): Promise<number> {
  let written = 0;
  for (let i = 0; i < sweepBatchesPerRun; i++) {
    const due = await store.journaled(concertId, now - journalGraceMs, sweepBatch);
    if (due.length === 0) break;
    await write(concertId, due);
    await store.settleJournal(
      concertId,
      due.map((entry) => entry.id),
    );
    written += due.length;
    if (due.length < sweepBatch) break;
  }
  return written;
}
