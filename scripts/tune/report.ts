import type { Autoscaling } from '../../knative/spec.ts';
import { type CurvePoint, describeRule, type Knee, type KneeRule } from './knee.ts';
import { type CpuShare, loadIsHigh, type Machine } from './machine.ts';
import type { Recommendation } from './recommend.ts';

/** A measured run, as printed and as saved with --save (and read back with --from). */
export interface MeasuredStep extends CurvePoint {
  /** wrk's mean, corrected for coordinated omission like its percentiles (not used for Little's law). */
  meanMs: number;
  seconds: number;
  /** Answers of any status. */
  answers: number;
  p90Ms: number;
  maxMs: number;
  statuses: Record<string, number>;
  codes: Record<string, number>;
  socketErrors: { connect: number; read: number; write: number; timeout: number };
  repeated: number;
  cpu: CpuShare;
  /** Why the step does not count (a single-use list ran out); such a step ends the curve. */
  excluded?: string;
}

export interface TuneRun {
  version: 1;
  fn: string;
  measuredAt: string;
  machine: Machine;
  loadAtEnd: [number, number, number];
  settings: {
    request: string;
    expectedStatus: number;
    runner: string;
    dbPoolSize: number;
    logLevel: string;
    stepSeconds: number;
    warmupSeconds: number;
    threads: number;
    prepared: number;
    singleUse: boolean;
  };
  steps: MeasuredStep[];
  notes: string[];
}

export function table(headers: string[], rows: string[][], rightAligned: boolean[]): string[] {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (rightAligned[i] ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)];
}

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const ms = (n: number) => (n >= 100 ? n.toFixed(0) : n.toFixed(1));
const signed = (f: number | undefined) =>
  f === undefined ? '' : !Number.isFinite(f) ? 'new' : `${f >= 0 ? '+' : ''}${(f * 100).toFixed(0)}%`;
const cpu = (v: number | null) => (v === null ? '-' : v.toFixed(0));

export function formatMachine(run: TuneRun): string[] {
  const m = run.machine;
  const load = m.loadAtStart.map((n) => n.toFixed(2)).join(' ');
  const other = otherWork(run);
  const lines = [
    `Machine: ${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB.toFixed(1)} GiB RAM, ${m.os}`,
    `         Node ${m.node}, ${m.database ?? 'database ?'}, Redis ${m.redis ?? '?'}, ${m.wrk ?? 'wrk ?'}`,
    `Load average before the run: ${load} (${m.cores} cores); after: ${run.loadAtEnd.map((n) => n.toFixed(2)).join(' ')}`,
    `Other work: ${other.facts.join('; ')}`,
  ];
  if (other.busy) {
    lines.push(
      '!! Other work shared the CPU during this run: throughput is understated and latency overstated, and the',
      '!! curve is noisier. Read the "other" CPU column; rerun when the machine is quiet.',
    );
  } else if (other.loadHigh) {
    lines.push(
      `   The load average is high (${m.loadAtStart[0].toFixed(2)} on ${m.cores} cores), but the CPU was free when the run started and`,
      '   other work stayed low during it: the load average still counts work that had ended.',
    );
  }
  return lines;
}

/** Whether other work shared the machine: before the run (CPU busy, load average) and during it ("other"). */
export function otherWork(run: TuneRun): { busy: boolean; loadHigh: boolean; facts: string[] } {
  const m = run.machine;
  const during = run.steps.map((s) => s.cpu.other).filter((v): v is number => v !== null);
  const avg = during.length > 0 ? during.reduce((a, b) => a + b, 0) / during.length : null;
  const facts: string[] = [];
  if (m.busyBefore !== undefined && m.busyBefore !== null) {
    facts.push(`CPU ${m.busyBefore.toFixed(0)}% busy (of one core) in the second before the run`);
  }
  if (avg !== null) {
    facts.push(
      `${avg.toFixed(0)}% of a core on average during the steps (max ${Math.max(...during).toFixed(0)}%)`,
    );
  }
  const loadHigh = loadIsHigh(m.loadAtStart[0], m.cores);
  const busy = (m.busyBefore ?? 0) >= 50 || (avg ?? 0) >= 25 || (facts.length === 0 && loadHigh);
  if (facts.length === 0) facts.push('not measurable here (no /proc); judged by the load average');
  return { busy, loadHigh, facts };
}

export function formatCurve(run: TuneRun, knee: Knee): string[] {
  const byConcurrency = new Map(knee.verdicts.map((v) => [v.concurrency, v]));
  const rows = run.steps.map((s) => {
    const v = byConcurrency.get(s.concurrency);
    const socket =
      s.socketErrors.connect + s.socketErrors.read + s.socketErrors.write + s.socketErrors.timeout;
    const note = s.excluded
      ? `excluded: ${s.excluded}`
      : v?.isolated
        ? `noise? ${v.reasons.join('; ')} (next step passes)`
        : v?.reasons.length
          ? v.reasons.join('; ')
          : knee.point?.concurrency === s.concurrency
            ? '<- knee'
            : v?.beyond
              ? 'beyond the knee'
              : '';
    const errorDetail = [
      ...Object.entries(s.statuses)
        .filter(([status]) => Number(status) !== run.settings.expectedStatus)
        .map(([status, n]) => `${status}x${n}`),
      ...Object.entries(s.codes).map(([code, n]) => `${code}x${n}`),
      ...(socket > 0 ? [`socket x${socket}`] : []),
    ].join(' ');
    return [
      String(s.concurrency),
      int(s.rps),
      ms(s.p50Ms),
      ms(s.p90Ms),
      ms(s.p99Ms),
      s.errors === 0 ? '0' : `${int(s.errors)} (${errorDetail})`,
      signed(v?.gain),
      signed(v?.p99Growth),
      `${cpu(s.cpu.fn)}/${cpu(s.cpu.db)}/${cpu(s.cpu.redis)}/${cpu(s.cpu.wrk)}/${cpu(s.cpu.other)}/${cpu(s.cpu.idle)}`,
      note,
    ];
  });
  return [
    ...table(
      [
        'conc',
        'req/s',
        'p50 ms',
        'p90 ms',
        'p99 ms',
        'errors',
        'Δreq/s',
        'Δp99',
        'CPU fn/db/redis/wrk/other/idle',
        'verdict',
      ],
      rows,
      [true, true, true, true, true, true, true, true, false, false],
    ),
    `req/s counts ${run.settings.expectedStatus} answers; errors are other answers and socket errors. Latencies are wrk's, corrected`,
    `for coordinated omission. CPU in % of one core (${run.machine.cores} cores = ${run.machine.cores * 100}): fn = the function's process, other = the rest.`,
  ];
}

export interface RecommendationView {
  fn: string;
  metric: Autoscaling['metric'];
  current: Autoscaling;
  prod: Autoscaling;
  rec: Recommendation;
  utilization: number;
  spike: number;
  dbPoolSize: number;
  hardLimit: boolean;
  hardLimitNote?: string;
  spikeNote?: string;
}

export function formatRecommendation(view: RecommendationView, knee: Knee, rule: KneeRule): string[] {
  const { rec, current, prod } = view;
  const u = view.utilization;
  const k = knee.point!;
  const unit = view.metric === 'rps' ? 'req/s' : 'in flight';
  const rows: string[][] = [
    [
      'containerConcurrency',
      String(current.containerConcurrency),
      view.hardLimit
        ? String(rec.containerConcurrency)
        : `${current.containerConcurrency} (knee ${rec.containerConcurrency})`,
      view.hardLimit ? 'hard limit per pod = knee concurrency' : 'not a hard limit here (see below)',
    ],
    [
      'target',
      String(current.target),
      rec.target === null ? String(current.target) : String(rec.target),
      rec.target === null
        ? `metric ${view.metric}: unchanged`
        : view.metric === 'rps'
          ? `λ_pod, req/s per pod at the knee`
          : 'containerConcurrency (Knative applies the utilization)',
    ],
    [
      'targetUtilizationPercentage',
      String(current.targetUtilizationPercentage),
      String(rec.targetUtilizationPercentage),
      rec.effectiveTarget === null
        ? ''
        : `scale out at target × ${rec.targetUtilizationPercentage}% = ${rec.effectiveTarget.toFixed(1)} ${unit} per pod`,
    ],
    [
      'maxScale',
      String(current.maxScale),
      String(rec.maxScale),
      `ceil(${int(view.spike)} / (${int(rec.lambdaPod)} × ${u.toFixed(2)}))${rec.maxScale !== rec.maxScaleComputed ? ` = ${rec.maxScaleComputed}, raised` : ''}`,
    ],
    [
      'minScale, initialScale (opening)',
      `${prod.minScale}, ${prod.initialScale} (prod)`,
      `${rec.openingMinScale}, ${rec.openingMinScale}`,
      `ceil(${int(view.spike)} / ${int(rec.lambdaPod)}): printed, not written`,
    ],
  ];
  const lines = [
    `Knee: ${knee.summary}.`,
    ...describeRule(rule).map((l) => `  ${l}`),
    '',
    `Recommendation for ${view.fn} (metric ${view.metric}, utilization ${(u * 100).toFixed(0)}%, spike ${int(view.spike)} req/s):`,
    ...table(['setting', 'now (base)', 'recommended', 'why'], rows, [false, true, true, false]).map(
      (l) => `  ${l}`,
    ),
    '',
    "Little's law at the knee (L = λ·W):",
    `  λ_pod = ${int(rec.lambdaPod)} req/s at c = ${k.concurrency}; W = p50 ${ms(rec.wP50Ms)} ms (closed-loop mean c/λ = ${ms(rec.wMeanMs)} ms)`,
    `  in flight = λ·W = ${int(rec.lambdaPod)} × ${ms(rec.wP50Ms)} ms = ${rec.inFlightP50.toFixed(1)} vs ${k.concurrency} connections: ${
      rec.littleRatio >= 0.6 && rec.littleRatio <= 1.2
        ? 'consistent (the median sits a little under the mean)'
        : rec.littleRatio > 1.2
          ? 'high: wrk lifts its percentiles when it corrects for coordinated omission (stalls under contention)'
          : 'low: a long latency tail, the mean is far above the median'
    }`,
    `  spike: ${int(view.spike)} req/s × W ${ms(rec.wP50Ms)} ms = ${int(rec.spikeInFlight)} requests in flight across all pods;`,
    `  ÷ (${k.concurrency} × ${u.toFixed(2)}) in flight per pod = ${rec.podsByConcurrency} pods: the same sizing seen through concurrency (maxScale ${rec.maxScaleComputed} through λ)`,
    `  at maxScale: ${rec.maxScale} pods × DB_POOL_SIZE ${view.dbPoolSize} = ${int(rec.dbConnectionsAtMaxScale)} database connections (RDS Proxy)`,
    `  opening: pods started after the spike arrives need seconds (start, readiness, the autoscaler's panic window),`,
    `  so the pods already up carry the first seconds at knee throughput: minScale = initialScale = ${rec.openingMinScale} for the`,
    '  opening window (environments.prod.services.<fn>.autoscaling, README "Before an opening"), lowered after.',
  ];
  lines.push('');
  if (view.spikeNote) lines.push(`Note: ${view.spikeNote}`);
  if (view.hardLimitNote && !view.hardLimit) lines.push(`Note: ${view.hardLimitNote}`);
  for (const note of rec.notes) lines.push(`Note: ${note}`);
  for (const warning of knee.warnings) lines.push(`!! ${warning}`);
  return lines;
}

export const caveat = [
  'Caveat: a laptop measurement. MariaDB, Redis, Kafka and wrk share these cores with the function, so it',
  'understates what a real pod does with its database on other hosts: λ_pod errs low, maxScale high (more pods',
  'and DB connections than needed), and the knee concurrency may err low. Other differences cut the other way',
  '(the queue-proxy sidecar in the pod, the 1-CPU limit, a real network), so treat these numbers as a first',
  'estimate, and confirm them against a staging revision in the cluster before an opening.',
];
