import type { BenchContext, Measured } from '../lib/context.ts';
import type { LoadResult } from '../lib/wrk.ts';

export type RowId =
  | 'calibrate-bare'
  | 'calibrate-redis'
  | 'calibrate-db'
  | 'enter-queue-opening'
  | 'enter-queue'
  | 'queue-status'
  | 'seat-map'
  | 'hold'
  | 'hold-baseline'
  | 'stampede'
  | 'stampede-baseline'
  | 'charge'
  | 'pay';

/** One measured line of the results table. */
export interface ScenarioRow {
  id: RowId;
  title: string;
  variant: 'ours' | 'baseline' | '';
  endpoint: string;
  /** The answers the scenario's rate counts (e.g. 201, or 409 SEAT_TAKEN for stampede losers). */
  counted: { label: string; count: number };
  measured: Measured;
  correctness: { ok: boolean; text: string };
  /** Of rows measured several times alternating with their baseline: which run this is. */
  round?: { index: number; of: number };
}

/** A scenario's figures that are not a load run's row (the SSE streams): printed as their own section. */
export interface Section {
  title: string;
  command?: string;
  lines: string[];
  ok: boolean;
}

export interface Scenario {
  name: string;
  about: string;
  run(ctx: BenchContext): Promise<ScenarioRow[]>;
}

export const statusCount = (result: LoadResult, status: number) => result.statuses[String(status)] ?? 0;

/** 2xx answers of the warm-up and the measured run: what reached the database before the check. */
export const okBoth = (m: Measured) =>
  [m.warmup, m.run].reduce(
    (sum, r) =>
      sum +
      Object.entries(r.statuses)
        .filter(([s]) => s.startsWith('2'))
        .reduce((a, [, n]) => a + n, 0),
    0,
  );

/** Requests sent in warm-up and run (for a list used once: the distinct entries tried). */
/** Distinct lines of the list sent: runs continue thread by thread, so only wrapped-around ones repeat. */
export const sentOf = (m: Measured) =>
  Math.min(m.warmup.issued - m.warmup.repeated + m.run.issued - m.run.repeated, m.run.listSize);

/**
 * How long a use-once list must be for the target rate over warm-up and run, with a margin; a server
 * faster than that wraps the list, and the row says so.
 */
export const listSizeFor = (ctx: BenchContext, targetPerSecond: number) =>
  Math.ceil(targetPerSecond * 1.25 * (ctx.options.warmupSeconds + ctx.options.durationSeconds));

/**
 * Requests wrk had sent when it stopped still finish on the server. Checks read the database once it is
 * settled: the same answer twice, half a second apart.
 */
export async function settled<T>(read: () => Promise<T>): Promise<T> {
  let last = await read();
  for (let i = 0; i < 40; i++) {
    await new Promise((r) => setTimeout(r, 500));
    const next = await read();
    if (JSON.stringify(next) === JSON.stringify(last)) return next;
    last = next;
  }
  return last;
}
