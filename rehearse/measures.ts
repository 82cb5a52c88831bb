/** The rehearsal's arithmetic: percentiles, per-second series, and how fair the line was. */

/** The nearest-rank percentile (p in 0..100) of values sorted ascending; null when there are none. */
function ranked(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1]!;
}

export function percentile(values: readonly number[], p: number): number | null {
  return ranked(
    [...values].sort((a, b) => a - b),
    p,
  );
}

export interface Percentiles {
  count: number;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
}

export function percentiles(values: readonly number[]): Percentiles {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => ranked(sorted, p);
  return { count: sorted.length, p50: at(50), p90: at(90), p99: at(99), max: at(100) };
}

export interface Bucket {
  /** Seconds from the series' origin (the opening) to the start of the bucket. */
  at: number;
  count: number;
  p50: number | null;
  p99: number | null;
}

/**
 * Events (time in epoch ms, optional value such as a latency) counted per `widthMs` from `origin`, with
 * the p50 and p99 of the values in each bucket; every bucket from the first event's to the last's is
 * present, empty ones with count 0, so a chart shows the gaps.
 */
export function bucketize(
  events: ReadonlyArray<{ at: number; value?: number }>,
  origin: number,
  widthMs = 1000,
): Bucket[] {
  if (events.length === 0) return [];
  const index = (at: number) => Math.floor((at - origin) / widthMs);
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  for (const e of events) {
    first = Math.min(first, index(e.at));
    last = Math.max(last, index(e.at));
  }
  const values: number[][] = Array.from({ length: last - first + 1 }, () => []);
  const counts = new Array<number>(last - first + 1).fill(0);
  for (const e of events) {
    const i = index(e.at) - first;
    counts[i]! += 1;
    if (e.value !== undefined) values[i]!.push(e.value);
  }
  return counts.map((count, i) => ({
    at: ((first + i) * widthMs) / 1000,
    count,
    p50: percentile(values[i]!, 50),
    p99: percentile(values[i]!, 99),
  }));
}

export interface Admitted {
  /** When the fan sent its entry into the line (epoch ms). */
  arrivedAt: number;
  /** When the answer to that entry came back: the fan had its place by then. */
  enteredAt: number;
  /** When the line admitted the fan (epoch ms, the server's own time). */
  admittedAt: number;
  /** Entered before `opensAt`: the line draws these fans' order at the opening, by design. */
  early: boolean;
}

export interface Fairness {
  /** Admitted fans measured. */
  fans: number;
  /** Share of fans admitted before someone who was in line before them (pairs of two early fans excluded). */
  overtakingShare: number;
  /** Kendall's tau-b between arrival and admission order over the same pairs; 1 is first come, first served. */
  kendallTau: number | null;
  /** Pairs compared, and how many of them were admitted in the opposite order. */
  pairs: number;
  discordantPairs: number;
}

/**
 * -1 when a was in line before b, 1 when after, 0 when their entries overlapped: seen from outside, two
 * requests in flight at the same time reach the server in either order, so only an entry answered before
 * the other was sent is known to come first.
 */
function arrivalOrder(a: Admitted, b: Admitted): number {
  if (a.enteredAt < b.arrivedAt) return -1;
  if (b.enteredAt < a.arrivedAt) return 1;
  return 0;
}

/**
 * How far admission order departs from arrival order. Fans who entered before the opening are one group
 * that the line shuffles on purpose, so a pair of two such fans is neither concordant nor discordant; a
 * pair of an early fan and a later one is compared like any other (the early one should go first).
 */
export function fairness(fans: readonly Admitted[]): Fairness {
  // Overtakers: someone surely in line before them (and not in the same early group) was admitted later.
  // Sweep the fans by the time they sent their entry, taking in everyone whose entry was answered before.
  const bySent = [...fans].sort((a, b) => a.arrivedAt - b.arrivedAt);
  const byAnswered = [...fans].sort((a, b) => a.enteredAt - b.enteredAt);
  let overtakers = 0;
  let latestAdmitted = Number.NEGATIVE_INFINITY;
  let latestAdmittedLate = Number.NEGATIVE_INFINITY;
  let next = 0;
  for (const fan of bySent) {
    while (next < byAnswered.length && byAnswered[next]!.enteredAt < fan.arrivedAt) {
      const before = byAnswered[next++]!;
      latestAdmitted = Math.max(latestAdmitted, before.admittedAt);
      if (!before.early) latestAdmittedLate = Math.max(latestAdmittedLate, before.admittedAt);
    }
    if ((fan.early ? latestAdmittedLate : latestAdmitted) > fan.admittedAt) overtakers++;
  }
  // Kendall's tau-b over the counted pairs: quadratic, which 20,000 fans (2·10⁸ pairs) still afford.
  let pairs = 0;
  let concordant = 0;
  let discordant = 0;
  let tiedArrival = 0;
  let tiedAdmission = 0;
  for (let a = 0; a < fans.length; a++) {
    const x = fans[a]!;
    for (let b = a + 1; b < fans.length; b++) {
      const y = fans[b]!;
      if (x.early && y.early) continue;
      pairs++;
      const arrival = arrivalOrder(x, y);
      const admission = Math.sign(x.admittedAt - y.admittedAt);
      if (arrival === 0) tiedArrival++;
      if (admission === 0) tiedAdmission++;
      if (arrival === 0 || admission === 0) continue;
      if (arrival === admission) concordant++;
      else discordant++;
    }
  }
  const denominator = Math.sqrt((pairs - tiedArrival) * (pairs - tiedAdmission));
  return {
    fans: fans.length,
    overtakingShare: fans.length === 0 ? 0 : overtakers / fans.length,
    kendallTau: denominator === 0 ? null : (concordant - discordant) / denominator,
    pairs,
    discordantPairs: discordant,
  };
}
