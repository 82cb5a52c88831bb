/**
 * The knee of a latency curve measured at increasing concurrency (a closed loop: each of c connections sends
 * its next request when the previous answer arrives).
 *
 * Below the knee, more concurrency buys throughput at little latency cost; past it, the function is
 * saturated (a CPU, a pool, a lock) and extra concurrency only queues: by Little's law (L = λ·W), with λ
 * flat, doubling L doubles W. The knee is therefore the highest concurrency before p99 starts growing much
 * faster than throughput. The rule, applied step by step from the lowest concurrency:
 *
 *   a step is beyond the knee when
 *     - its error rate (answers other than the expected status, plus socket errors) exceeds maxErrorRate, or
 *     - its p99 exceeds the latency budget, or
 *     - compared with the previous step, throughput grew by less than minGain while p99 grew by more than
 *       maxP99Growth (defaults 10 % and 50 %: doubling concurrency bought nothing but waiting).
 *
 *   A failing step counts only when the next step fails too (or when it is the last step): one step alone
 *   may be a hiccup of a shared machine (a p99 spike at c=4 followed by a clean c=8), and a knee set by a
 *   hiccup would cap every pod far too low. An isolated failure is shown as noise.
 *
 *   The knee is the last step before the first confirmed failure. If every step passes, the curve did not
 *   bend in the measured range and the knee is the last step (a lower bound). If the first step already
 *   fails (confirmed), there is no knee: not even one request at a time meets the rule.
 */

export interface CurvePoint {
  concurrency: number;
  /** Answers with the expected status per second. */
  rps: number;
  /** wrk's percentiles, which wrk corrects for coordinated omission (see recommend.ts). */
  p50Ms: number;
  p99Ms: number;
  /** Answers with the expected status. */
  ok: number;
  /** Other answers plus socket errors (connect, read, write, timeout). */
  errors: number;
}

export interface KneeRule {
  p99BudgetMs: number;
  /** Fraction, 0.10 = 10 %. */
  minGain: number;
  /** Fraction, 0.5 = 50 %. */
  maxP99Growth: number;
  /** Fraction, 0.01 = 1 %. */
  maxErrorRate: number;
}

export const defaultRule: KneeRule = { p99BudgetMs: 50, minGain: 0.1, maxP99Growth: 0.5, maxErrorRate: 0.01 };

export interface Verdict {
  concurrency: number;
  /** Throughput change against the previous step (fraction), undefined for the first. */
  gain?: number;
  /** p99 change against the previous step (fraction), undefined for the first. */
  p99Growth?: number;
  errorRate: number;
  /** Why the step fails the rule; empty when it passes. */
  reasons: string[];
  /** It failed, but the next step passed: treated as noise, not as the knee. */
  isolated: boolean;
  /** Beyond the knee: this step failed, or an earlier one did. */
  beyond: boolean;
}

export interface Knee {
  /** Index into the sorted points, or null when even the first step fails the rule. */
  index: number | null;
  point: CurvePoint | null;
  /** The points sorted by concurrency, and one verdict each. */
  points: CurvePoint[];
  verdicts: Verdict[];
  /** Whether the curve bent (some step failed the rule); false: the knee is a lower bound. */
  bent: boolean;
  /** One sentence on why the knee is where it is. */
  summary: string;
  warnings: string[];
}

export function errorRate(p: Pick<CurvePoint, 'ok' | 'errors'>): number {
  const total = p.ok + p.errors;
  return total === 0 ? 1 : p.errors / total;
}

const pct = (fraction: number) => `${fraction >= 0 ? '+' : ''}${(fraction * 100).toFixed(0)}%`;

export function findKnee(input: readonly CurvePoint[], rule: KneeRule = defaultRule): Knee {
  if (input.length === 0) throw new Error('no measured steps');
  const points = [...input].sort((a, b) => a.concurrency - b.concurrency);
  for (let i = 1; i < points.length; i++) {
    if (points[i]!.concurrency === points[i - 1]!.concurrency) {
      throw new Error(`concurrency ${points[i]!.concurrency} measured twice`);
    }
  }

  const verdicts: Verdict[] = points.map((p, i) => {
    const prev = points[i - 1];
    const verdict: Verdict = {
      concurrency: p.concurrency,
      errorRate: errorRate(p),
      reasons: [],
      isolated: false,
      beyond: false,
    };
    if (prev) {
      verdict.gain = prev.rps > 0 ? p.rps / prev.rps - 1 : p.rps > 0 ? Number.POSITIVE_INFINITY : 0;
      verdict.p99Growth = prev.p99Ms > 0 ? p.p99Ms / prev.p99Ms - 1 : 0;
    }
    if (verdict.errorRate > rule.maxErrorRate) {
      verdict.reasons.push(
        `errors ${(verdict.errorRate * 100).toFixed(verdict.errorRate < 0.1 ? 1 : 0)}% > ${(rule.maxErrorRate * 100).toFixed(1)}%`,
      );
    }
    if (p.p99Ms > rule.p99BudgetMs) {
      verdict.reasons.push(`p99 ${p.p99Ms.toFixed(1)} ms > budget ${rule.p99BudgetMs} ms`);
    }
    if (
      verdict.gain !== undefined &&
      verdict.p99Growth !== undefined &&
      verdict.gain < rule.minGain &&
      verdict.p99Growth > rule.maxP99Growth
    ) {
      verdict.reasons.push(`saturated: req/s ${pct(verdict.gain)}, p99 ${pct(verdict.p99Growth)}`);
    }
    return verdict;
  });
  let firstBeyond: number | null = null;
  verdicts.forEach((verdict, i) => {
    const next = verdicts[i + 1];
    if (firstBeyond === null && verdict.reasons.length > 0) {
      if (next && next.reasons.length === 0) verdict.isolated = true;
      else firstBeyond = i;
    }
    verdict.beyond = firstBeyond !== null;
  });

  const warnings: string[] = [];
  const isolated = verdicts.filter((v) => v.isolated && !v.beyond);
  if (isolated.length > 0) {
    warnings.push(
      `Failures at c=${isolated.map((v) => v.concurrency).join(', ')} were not repeated by the next step and were taken as noise; a quiet machine or longer --step-seconds makes the curve smoother.`,
    );
  }
  const last = points.length - 1;
  const index = firstBeyond === null ? last : firstBeyond - 1;
  const point = index >= 0 ? points[index]! : null;
  let summary: string;
  if (index < 0) {
    const first = verdicts[0]!;
    summary = `no knee: already the first step (c=${points[0]!.concurrency}) fails the rule (${first.reasons.join('; ')})`;
    warnings.push(
      'Not even the lowest concurrency meets the rule: raise --p99-budget-ms, check the errors in the table, or look for a problem in the function or its services.',
    );
  } else if (firstBeyond === null) {
    summary =
      points.length === 1
        ? `one step only (c=${point!.concurrency}): it meets the rule, but one point is no curve`
        : `the curve did not bend up to c=${point!.concurrency}: every step meets the rule`;
    warnings.push(
      points.length === 1
        ? 'One step is no curve: the recommendation is that step as measured, not a knee. Measure several (--connections 1,2,4,...).'
        : `The knee lies at c=${point!.concurrency} or above: measure higher (--connections ...,${point!.concurrency * 2},${point!.concurrency * 4}) before trusting containerConcurrency.`,
    );
  } else {
    const beyond = points[firstBeyond]!;
    summary = `knee at c=${point!.concurrency}: the next step (c=${beyond.concurrency}) ${verdicts[firstBeyond]!.reasons.join('; ')}`;
  }
  return {
    index: index >= 0 ? index : null,
    point,
    points,
    verdicts,
    bent: firstBeyond !== null,
    summary,
    warnings,
  };
}

/** The rule in words, for the report. */
export function describeRule(rule: KneeRule): string[] {
  return [
    `Knee = the highest concurrency before the first step that has errors > ${(rule.maxErrorRate * 100).toFixed(1)}%,`,
    `or p99 > ${rule.p99BudgetMs} ms (--p99-budget-ms), or throughput +<${(rule.minGain * 100).toFixed(0)}% while p99 +>${(rule.maxP99Growth * 100).toFixed(0)}%`,
    'against the step before (saturated: more concurrency only queues, L = λ·W with λ flat);',
    'a failure counts when the next step fails too (or it is the last step), else it is noise.',
  ];
}
