import { type Journey, type Outcome, staleConnectionCode } from './fan.ts';
import {
  type Bucket,
  bucketize,
  type Fairness,
  fairness,
  type Percentiles,
  percentiles,
} from './measures.ts';
import type { RunResult } from './run.ts';

/**
 * What a rehearsal tells the operator: per run the figures (printed) and the charts (one self-contained
 * HTML file, inline SVG, no asset from anywhere). Runs of a comparison share every chart, one colour each.
 */

export interface RunSummary {
  label: string;
  fans: number;
  seats: number;
  settings: Record<string, unknown>;
  outcomes: Record<Outcome, number>;
  /** Why fans failed, most frequent first (e.g. `entering the line: 0 TIMEOUT`). */
  failures: Array<[reason: string, fans: number]>;
  sold: number;
  /** Seats sold per minute from the opening to the last payment. */
  goodputPerMinute: number;
  /** Milliseconds: entering the line → told ACTIVE, → holding a seat, → paid. */
  wait: Percentiles;
  timeToSeat: Percentiles;
  timeToPay: Percentiles;
  /** Milliseconds per request. */
  holdLatency: Percentiles;
  payLatency: Percentiles;
  /** Answers per `status code` over every request of the run. */
  answers: Record<string, number>;
  serverErrors: number;
  unavailable: number;
  noAnswer: number;
  fairness: Fairness;
  sales: RunResult['sales'];
  series: {
    /** Seconds from the opening. */
    line: Array<{ at: number; waiting: number; active: number }>;
    admissions: Bucket[];
    holds: Bucket[];
    payments: Bucket[];
  };
}

const outcomes: Outcome[] = [
  'paid',
  'sold-out',
  'left-at-seat-map',
  'left-at-payment',
  'gave-up',
  'failed',
  'unfinished',
  'not-arrived',
];

const since = (journeys: Journey[], end: (j: Journey) => number | undefined) =>
  journeys.flatMap((j) => {
    const at = end(j);
    return at === undefined || j.arrivedAt === undefined ? [] : [at - j.arrivedAt];
  });

export function summarise(run: RunResult): RunSummary {
  const { journeys, answers, opensAt } = run;
  const count = Object.fromEntries(outcomes.map((o) => [o, 0])) as Record<Outcome, number>;
  for (const j of journeys) count[j.outcome] += 1;
  const failures = new Map<string, number>();
  for (const j of journeys)
    if (j.outcome === 'failed') failures.set(j.failure ?? '?', (failures.get(j.failure ?? '?') ?? 0) + 1);
  const paidAt = journeys.flatMap((j) => (j.paidAt === undefined ? [] : [j.paidAt]));
  const lastPaid = paidAt.length === 0 ? opensAt : Math.max(...paidAt);
  const byStatus: Record<string, number> = {};
  for (const a of answers) {
    const key = a.status >= 200 && a.status < 300 ? String(a.status) : `${a.status} ${a.code ?? ''}`.trim();
    byStatus[key] = (byStatus[key] ?? 0) + 1;
  }
  const ofOp = (op: string) =>
    answers
      .filter((a) => a.op === op && a.status > 0)
      .map((a) => ({ at: a.doneAt, value: a.doneAt - a.sentAt }));
  const holds = ofOp('hold');
  const payments = ofOp('pay');
  return {
    label: run.label,
    fans: run.options.fans,
    seats: run.options.seats,
    settings: run.settings,
    outcomes: count,
    failures: [...failures].sort((a, b) => b[1] - a[1]),
    sold: count.paid,
    goodputPerMinute: lastPaid > opensAt ? (count.paid * 60_000) / (lastPaid - opensAt) : 0,
    wait: percentiles(since(journeys, (j) => j.admittedAt)),
    timeToSeat: percentiles(since(journeys, (j) => j.heldAt)),
    timeToPay: percentiles(since(journeys, (j) => j.paidAt)),
    holdLatency: percentiles(holds.map((h) => h.value)),
    payLatency: percentiles(payments.map((p) => p.value)),
    answers: byStatus,
    serverErrors: answers.filter((a) => a.status >= 500 && a.status !== 503).length,
    unavailable: answers.filter((a) => a.status === 503).length,
    noAnswer: answers.filter((a) => a.status === 0 && a.code !== staleConnectionCode).length,
    fairness: fairness(
      journeys.flatMap((j) =>
        j.arrivedAt === undefined || j.enteredAt === undefined || j.serverAdmittedAt === undefined
          ? []
          : [
              {
                arrivedAt: j.arrivedAt,
                enteredAt: j.enteredAt,
                admittedAt: j.serverAdmittedAt,
                early: j.early === true,
              },
            ],
      ),
    ),
    sales: run.sales,
    series: {
      line: run.samples.map((s) => ({
        at: (s.at - opensAt) / 1000,
        waiting: s.waiting,
        active: s.active,
      })),
      admissions: bucketize(
        journeys.flatMap((j) => (j.serverAdmittedAt === undefined ? [] : [{ at: j.serverAdmittedAt }])),
        opensAt,
      ),
      holds: bucketize(holds, opensAt),
      payments: bucketize(payments, opensAt),
    },
  };
}

const ms = (v: number | null) =>
  v === null ? '–' : v >= 10_000 ? `${(v / 1000).toFixed(1)} s` : `${Math.round(v)} ms`;
const pct = (p: Percentiles) =>
  `p50 ${ms(p.p50)}  p90 ${ms(p.p90)}  p99 ${ms(p.p99)}  max ${ms(p.max)}  (n ${p.count})`;

/** The rows of the summary: one label, one value per run. */
export function summaryRows(runs: RunSummary[]): Array<[string, ...string[]]> {
  const row = (name: string, f: (r: RunSummary) => string): [string, ...string[]] => [name, ...runs.map(f)];
  const setting = (r: RunSummary, keys: string[]) =>
    keys
      .filter((k) => r.settings[k] !== undefined)
      .map((k) => `${k} ${String(r.settings[k])}`)
      .join(', ');
  return [
    row('fans / seats', (r) => `${r.fans} / ${r.seats}`),
    row('line', (r) =>
      setting(r, ['admission', 'admitPerSecond', 'minAdmitPerSecond', 'maxAdmitPerSecond', 'maxActive']),
    ),
    row('sold', (r) => `${r.sold} (${r.goodputPerMinute.toFixed(0)} per minute)`),
    row('outcomes', (r) =>
      outcomes
        .filter((o) => r.outcomes[o] > 0)
        .map((o) => `${o} ${r.outcomes[o]}`)
        .join(', '),
    ),
    row('why fans failed', (r) =>
      r.failures.length === 0
        ? '–'
        : r.failures
            .slice(0, 3)
            .map(([why, n]) => `${why} (${n})`)
            .join('; '),
    ),
    row('wait in line', (r) => pct(r.wait)),
    row('time to seat', (r) => pct(r.timeToSeat)),
    row('time to pay', (r) => pct(r.timeToPay)),
    row('hold requests', (r) => pct(r.holdLatency)),
    row('pay requests', (r) => pct(r.payLatency)),
    row('sold exactly once', (r) =>
      r.sales.ok
        ? `yes: ${r.sales.confirmedByApi} confirmed, ${r.sales.soldOnSeatMap ?? '?'} SOLD on the map${
            r.sales.database ? `, ${r.sales.database.soldSeats} SOLD in the database` : ''
          }`
        : `NO: ${r.sales.problems.join('; ')}`,
    ),
    row('5xx other than 503', (r) => String(r.serverErrors)),
    row('503', (r) => String(r.unavailable)),
    row('no answer (timeouts)', (r) => String(r.noAnswer)),
    row(
      'fairness',
      (r) =>
        `${(r.fairness.overtakingShare * 100).toFixed(1)}% admitted before someone earlier; Kendall's tau ${
          r.fairness.kendallTau === null ? '–' : r.fairness.kendallTau.toFixed(3)
        } (${r.fairness.fans} admitted)`,
    ),
  ];
}

export function consoleSummary(runs: RunSummary[]): string[] {
  const rows = [['', ...runs.map((r) => r.label)], ...summaryRows(runs)];
  const width = Math.max(...rows.map((r) => r[0]!.length));
  return rows.map(([name, ...values]) => `${name!.padEnd(width)}  ${values.join('  │  ')}`);
}

const escapeHtml = (text: string) =>
  text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

const palette = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e'];

export interface Series {
  name: string;
  colour: string;
  dashed?: boolean;
  points: Array<[number, number]>;
  /** Points further apart in x than this are not joined: a second with no answers has no latency to draw. */
  gap?: number;
}

/** A line chart as inline SVG: x in seconds from the opening, y from zero to the largest value. */
export function lineChart(title: string, unit: string, series: Series[]): string {
  const w = 640;
  const h = 220;
  const pad = { left: 56, right: 12, top: 28, bottom: 32 };
  const all = series.flatMap((s) => s.points);
  const xs = all.map((p) => p[0]);
  const x0 = Math.min(0, ...xs);
  const x1 = Math.max(x0 + 1, ...xs);
  const y1 = Math.max(1, ...all.map((p) => p[1]));
  const sx = (x: number) => pad.left + ((x - x0) / (x1 - x0)) * (w - pad.left - pad.right);
  const sy = (y: number) => h - pad.bottom - (y / y1) * (h - pad.top - pad.bottom);
  // Short series get a dot per point: a run over in a second or two still shows its one or two buckets.
  const lines = series
    .filter((s) => s.points.length > 0)
    .map((s) => {
      const runs: Array<Array<[number, number]>> = [];
      for (const [i, point] of s.points.entries()) {
        const before = s.points[i - 1];
        if (!before || (s.gap !== undefined && point[0] - before[0] > s.gap)) runs.push([]);
        runs.at(-1)!.push(point);
      }
      // A dot per point on short series, and on the lone points a gap leaves (no line shows them).
      const dots = runs
        .filter((run) => s.points.length <= 60 || run.length === 1)
        .flat()
        .map(
          ([x, y]) => `<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="2" fill="${s.colour}"/>`,
        )
        .join('');
      const dash = s.dashed ? ' stroke-dasharray="4 3"' : '';
      return (
        runs
          .map(
            (run) =>
              `<polyline fill="none" stroke="${s.colour}" stroke-width="1.5"${dash} points="${run
                .map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`)
                .join(' ')}"><title>${escapeHtml(s.name)}</title></polyline>`,
          )
          .join('') + dots
      );
    })
    .join('');
  const legend = series
    .map(
      (s, i) =>
        `<text x="${pad.left + 8}" y="${pad.top + 14 + i * 14}" font-size="11" fill="${s.colour}">${s.dashed ? '┄ ' : '— '}${escapeHtml(s.name)}</text>`,
    )
    .join('');
  const axis = `<line x1="${pad.left}" y1="${sy(0)}" x2="${w - pad.right}" y2="${sy(0)}" stroke="#999"/><line x1="${pad.left}" y1="${pad.top}" x2="${pad.left}" y2="${sy(0)}" stroke="#999"/>`;
  const labels =
    `<text x="${pad.left - 4}" y="${sy(y1) + 4}" font-size="11" text-anchor="end">${formatNumber(y1)}</text>` +
    `<text x="${pad.left - 4}" y="${sy(0) + 4}" font-size="11" text-anchor="end">0</text>` +
    // The start of the axis gives way to the opening's mark when they would overlap.
    (x0 < 0 && sx(0) - sx(x0) < 48
      ? ''
      : `<text x="${sx(x0)}" y="${h - 12}" font-size="11" text-anchor="middle">${x0.toFixed(0)} s</text>`) +
    (x0 < 0
      ? `<line x1="${sx(0)}" y1="${pad.top}" x2="${sx(0)}" y2="${sy(0)}" stroke="#bbb" stroke-dasharray="2 2"/><text x="${sx(0)}" y="${h - 12}" font-size="11" text-anchor="middle">opensAt</text>`
      : '') +
    `<text x="${sx(x1)}" y="${h - 12}" font-size="11" text-anchor="end">${x1.toFixed(0)} s</text>`;
  return `<figure><figcaption>${escapeHtml(title)} <small>(${escapeHtml(unit)})</small></figcaption><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img" aria-label="${escapeHtml(title)}">${axis}${lines}${labels}${legend}</svg></figure>`;
}

const formatNumber = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(1));

export function htmlReport(runs: RunSummary[], meta: { command: string; at: Date }): string {
  const colour = (i: number) => palette[i % palette.length]!;
  const many = runs.length > 1;
  const name = (r: RunSummary, what: string) => (many ? `${r.label} ${what}` : what);
  const perRun = (f: (r: RunSummary, c: string) => Series[]) => runs.flatMap((r, i) => f(r, colour(i)));
  const counts = (b: Bucket[]): Array<[number, number]> => b.map((x) => [x.at, x.count]);
  const quantile = (b: Bucket[], q: 'p50' | 'p99'): Array<[number, number]> =>
    b.flatMap((x) => (x[q] === null ? [] : [[x.at, x[q]] as [number, number]]));
  const charts = [
    lineChart(
      'Line length',
      'fans',
      perRun((r, c) => [
        { name: name(r, 'waiting'), colour: c, points: r.series.line.map((s) => [s.at, s.waiting]) },
        {
          name: name(r, 'active'),
          colour: c,
          dashed: true,
          points: r.series.line.map((s) => [s.at, s.active]),
        },
      ]),
    ),
    lineChart(
      'Admissions per second',
      "fans admitted, by the server's clock",
      perRun((r, c) => [{ name: name(r, 'admitted'), colour: c, points: counts(r.series.admissions) }]),
    ),
    lineChart(
      'Holds and payments per second',
      'answers',
      perRun((r, c) => [
        { name: name(r, 'holds'), colour: c, points: counts(r.series.holds) },
        { name: name(r, 'payments'), colour: c, dashed: true, points: counts(r.series.payments) },
      ]),
    ),
    lineChart(
      'Hold latency',
      'ms, p50 solid, p99 dashed',
      perRun((r, c) => [
        { name: name(r, 'hold p50'), colour: c, gap: 1, points: quantile(r.series.holds, 'p50') },
        {
          name: name(r, 'hold p99'),
          colour: c,
          gap: 1,
          dashed: true,
          points: quantile(r.series.holds, 'p99'),
        },
      ]),
    ),
    lineChart(
      'Payment latency',
      'ms, p50 solid, p99 dashed',
      perRun((r, c) => [
        { name: name(r, 'pay p50'), colour: c, gap: 1, points: quantile(r.series.payments, 'p50') },
        {
          name: name(r, 'pay p99'),
          colour: c,
          gap: 1,
          dashed: true,
          points: quantile(r.series.payments, 'p99'),
        },
      ]),
    ),
  ];
  const table = `<table><thead><tr><th></th>${runs
    .map((r, i) => `<th style="color:${colour(i)}">${escapeHtml(r.label)}</th>`)
    .join('')}</tr></thead><tbody>${summaryRows(runs)
    .map(
      ([label, ...values]) =>
        `<tr><th>${escapeHtml(label)}</th>${values.map((v) => `<td>${escapeHtml(v)}</td>`).join('')}</tr>`,
    )
    .join('')}</tbody></table>`;
  const answers = `<table><thead><tr><th>answer</th>${runs.map((r) => `<th>${escapeHtml(r.label)}</th>`).join('')}</tr></thead><tbody>${[
    ...new Set(runs.flatMap((r) => Object.keys(r.answers))),
  ]
    .sort()
    .map(
      (k) => `<tr><th>${escapeHtml(k)}</th>${runs.map((r) => `<td>${r.answers[k] ?? 0}</td>`).join('')}</tr>`,
    )
    .join('')}</tbody></table>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Rehearsal of an opening</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;max-width:1400px}table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}tbody th{font-weight:600;white-space:nowrap}figure{display:inline-block;margin:0 1em 1em 0}figcaption{font-weight:600}code{background:#f4f4f4;padding:1px 4px}</style>
</head><body>
<h1>Rehearsal of an opening</h1>
<p>${escapeHtml(meta.at.toISOString())} · <code>${escapeHtml(meta.command)}</code></p>
${table}
${charts.join('\n')}
<h2>Answers</h2>
${answers}
<p>Fairness: the share of admitted fans let in before someone who was in line before them, and Kendall's tau between
entry and admission order (1: first come, first served). A fan was in line before another when its entry was answered
before the other sent its own; entries in flight at the same time are not ordered. Fans who entered before
<code>opensAt</code> are placed in random order at the opening by design; pairs of two of them are left out of both.</p>
</body></html>
`;
}
