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
  /** When the fan entered the line (epoch ms). */
  arrivedAt: number;
  /** When the line admitted the fan (epoch ms, the server's own time). */
  admittedAt: number;
  /** Entered before `opensAt`: the line draws these fans' order at the opening, by design. */
  early: boolean;
}

export interface Fairness {
  /** Admitted fans measured. */
  fans: number;
  /** Share of fans admitted before someone who entered earlier (pairs of two early fans excluded). */
  overtakingShare: number;
  /** Kendall's tau-b between arrival and admission order over the same pairs; 1 is first come, first served. */
  kendallTau: number | null;
  /** Pairs compared, and how many of them were admitted in the opposite order. */
  pairs: number;
  discordantPairs: number;
}

/**
 * How far admission order departs from arrival order. Fans who entered before the opening are one group
 * that the line shuffles on purpose, so a pair of two such fans is neither concordant nor discordant; a
 * pair of an early fan and a later one is compared like any other (the early one should go first).
 */
export function fairness(fans: readonly Admitted[]): Fairness {
  const byArrival = [...fans].sort((a, b) => a.arrivedAt - b.arrivedAt);
  // Overtakers: someone who arrived strictly earlier (and is not in the same early group) was admitted later.
  let overtakers = 0;
  let latestAdmitted = Number.NEGATIVE_INFINITY;
  let latestAdmittedLate = Number.NEGATIVE_INFINITY;
  let i = 0;
  while (i < byArrival.length) {
    // Fans arriving in the same millisecond are not ordered against each other.
    let j = i;
    while (j < byArrival.length && byArrival[j]!.arrivedAt === byArrival[i]!.arrivedAt) j++;
    for (let k = i; k < j; k++) {
      const fan = byArrival[k]!;
      const before = fan.early ? latestAdmittedLate : latestAdmitted;
      if (before > fan.admittedAt) overtakers++;
    }
    for (let k = i; k < j; k++) {
      const fan = byArrival[k]!;
      latestAdmitted = Math.max(latestAdmitted, fan.admittedAt);
      if (!fan.early) latestAdmittedLate = Math.max(latestAdmittedLate, fan.admittedAt);
    }
    i = j;
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
      const arrival = Math.sign(x.arrivedAt - y.arrivedAt);
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
