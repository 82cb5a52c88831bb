import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { references } from './scenarios/calibrate.ts';
import type { RowId, ScenarioRow, Section } from './scenarios/scenario.ts';

/** A row of a run, with the server setup it ran on. */
export interface Result extends ScenarioRow {
  workers: number;
}

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  os: string;
  node: string;
  mariadb: string;
  redis: string;
  loadGenerator: string;
  loadAverage: string;
}

export function describeMachine(versions: {
  mariadb: string;
  redis: string;
  loadGenerator: string;
}): Machine {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    ...versions,
    loadAverage: os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' '),
  };
}

export function machineLines(m: Machine): string[] {
  return [
    `CPU ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB RAM, ${m.os}`,
    `Node ${m.node}, MariaDB ${m.mariadb}, Redis ${m.redis}, load from ${m.loadGenerator}`,
    `load average at start: ${m.loadAverage}`,
  ];
}

// --- targets -------------------------------------------------------------------------------------------

export const rateOf = (r: ScenarioRow) => r.counted.count / r.measured.run.durationSeconds;
const p99 = (r: ScenarioRow) => r.measured.run.latencyMs.p99;

/** Server CPU microseconds per answer (every answer of the measured run, counted or not). */
export const cpuPerAnswer = (r: ScenarioRow) =>
  r.measured.run.requests > 0 ? (r.measured.cpu.serverSeconds * 1e6) / r.measured.run.requests : 0;

const bareOf = (all: Result[]) => all.find((r) => r.id === 'calibrate-bare');

/** This row's rate as a share of the bare Hono handler measured in the same run (null without it). */
export function shareOfBare(row: Result, all: Result[]): number | null {
  const bare = bareOf(all);
  return bare && rateOf(bare) > 0 ? rateOf(row) / rateOf(bare) : null;
}

/** The row this one is compared with: its baseline (same workers, same round), or for pay the hold. */
function partnerOf(row: Result, all: Result[]): Result | undefined {
  if (row.id === 'pay') return all.find((r) => r.id === 'hold' && r.workers === row.workers);
  return all.find(
    (r) => r.id === `${row.id}-baseline` && r.workers === row.workers && r.round?.index === row.round?.index,
  );
}

interface Condition {
  text: string;
  met: (row: Result, all: Result[]) => boolean | null;
}

const minShareOfBare = (percent: number): Condition => ({
  text: `≥ ${percent} % of bare Hono`,
  met: (r, all) => {
    const share = shareOfBare(r, all);
    return share === null ? null : share * 100 >= percent;
  },
});
const maxP99 = (ms: number): Condition => ({ text: `p99 ≤ ${ms} ms`, met: (r) => p99(r) <= ms });
const timesBaseline = (n: number): Condition => ({
  text: `≥ ${n}× baseline`,
  met: (r, all) => {
    const b = partnerOf(r, all);
    return b ? rateOf(r) >= n * rateOf(b) : null;
  },
});
const minShareOfHold = (percent: number): Condition => ({
  text: `≥ ${percent} % of hold`,
  met: (r, all) => {
    const holds = all.filter((h) => h.id === 'hold' && h.workers === r.workers);
    if (holds.length === 0) return null;
    return rateOf(r) * 100 >= percent * mean(holds.map(rateOf));
  },
});

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(xs.length, 1);

/**
 * The targets of issue 14, as ratios to what the same run measured (a bare Hono handler, the seed's
 * lock-based hold, our own hold): on a shared machine only same-run comparisons mean something.
 * Baselines and charge have none (they are for comparison).
 */
const targets: Partial<Record<RowId, Condition[]>> = {
  'queue-status': [minShareOfBare(60), maxP99(20)],
  'seat-map': [minShareOfBare(50), maxP99(20)],
  stampede: [minShareOfBare(60), maxP99(20)],
  'enter-queue-opening': [minShareOfBare(35)],
  'enter-queue': [minShareOfBare(10)],
  hold: [timesBaseline(2)],
  pay: [minShareOfHold(75)],
};

export interface Verdict {
  target: string;
  /** 'met', 'missed: …', or '' when the row has no target. */
  result: string;
  met: boolean | null;
}

export function verdict(row: Result, all: Result[]): Verdict {
  if (row.id.startsWith('calibrate-')) {
    const reference = references[row.id.slice('calibrate-'.length) as keyof typeof references];
    return {
      target: `issue's reference ≈ ${fmt(reference)}/s`,
      result: `this machine now: ${fmt(rateOf(row) / reference, 2)}× the reference`,
      met: null,
    };
  }
  const conditions = targets[row.id];
  if (!conditions) return { target: '—', result: '', met: null };
  const missed: string[] = [];
  for (const c of conditions) {
    const met = c.met(row, all);
    if (met === false) missed.push(c.text);
    if (met === null) missed.push(`${c.text} (not measured in this run)`);
  }
  return {
    target: conditions.map((c) => c.text).join(', '),
    result: missed.length === 0 ? 'met' : `missed: ${missed.join(', ')}`,
    met: missed.length === 0,
  };
}

// --- tables --------------------------------------------------------------------------------------------

const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

function nonOk(row: ScenarioRow): string {
  const run = row.measured.run;
  const parts = Object.entries(run.statuses)
    .filter(([s]) => !s.startsWith('2'))
    .map(([s, n]) => `${s}×${fmt(n)}`);
  const codes = Object.entries(run.codes).map(([c, n]) => `${c}×${fmt(n)}`);
  const socket = Object.entries(run.errors)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${k} errors×${fmt(n)}`);
  const text = [...parts, ...socket].join(', ') || 'none';
  return codes.length > 0 ? `${text} (${codes.join(', ')})` : text;
}

function ratio(row: Result, all: Result[]): string {
  if (row.variant !== 'ours') return '';
  const base = partnerOf(row, all);
  return base ? ` (${fmt(rateOf(row) / Math.max(rateOf(base), 1e-9), 1)}× baseline)` : '';
}

const percent = (share: number | null) => (share === null ? '—' : `${fmt(share * 100)} %`);

/** Other programs (not server, databases or load generator) took this share of a core: a noisy run. */
const noisyAbove = 25;
const noisy = (row: ScenarioRow) => row.measured.cpu.other > noisyAbove;

function cpuText(row: ScenarioRow): string {
  const c = row.measured.cpu;
  return (
    `server ${c.server}, MariaDB ${c.mariadb}, Redis ${c.redis}, load generator ${c.load}, ` +
    `other programs ${c.other}, idle ${c.idle}` +
    (noisy(row) ? '  ⚠ other programs took CPU during this run: a pessimistic figure' : '')
  );
}

interface Cells {
  workers: string;
  scenario: string;
  endpoint: string;
  rate: string;
  p50: string;
  p99: string;
  nonOk: string;
  correctness: string;
  cpu: string;
  target: string;
  result: string;
  share: string;
  cpuPerAnswer: string;
}

function cells(row: Result, all: Result[]): Cells {
  const v = verdict(row, all);
  return {
    workers: String(row.workers),
    scenario:
      (row.variant ? `${row.title} — ${row.variant}` : row.title) +
      (row.round ? ` (run ${row.round.index}/${row.round.of})` : ''),
    endpoint: row.endpoint,
    rate: `${fmt(rateOf(row))} (${row.counted.label})${ratio(row, all)}`,
    p50: fmt(row.measured.run.latencyMs.p50, 1),
    p99: fmt(row.measured.run.latencyMs.p99, 1),
    nonOk: nonOk(row),
    correctness: `${row.correctness.ok ? 'OK' : 'FAIL'}: ${row.correctness.text}`,
    cpu:
      (['server', 'mariadb', 'redis', 'load', 'other', 'idle'] as const)
        .map((k) => row.measured.cpu[k])
        .join(' / ') + (noisy(row) ? ' ⚠' : ''),
    target: v.target,
    result: v.result,
    share: row.id === 'calibrate-bare' ? '100 %' : percent(shareOfBare(row, all)),
    cpuPerAnswer: fmt(cpuPerAnswer(row)),
  };
}

const headings: Cells = {
  workers: 'Workers',
  scenario: 'Scenario',
  endpoint: 'Endpoint',
  rate: 'Answers/s (counted)',
  p50: 'p50 ms',
  p99: 'p99 ms',
  nonOk: 'Non-2xx (by status, code)',
  correctness: 'Correctness (from the database)',
  cpu: 'CPU % of a core: server / MariaDB / Redis / wrk / other / idle',
  target: 'Target',
  result: 'Result',
  share: 'Share of bare Hono (same run)',
  cpuPerAnswer: 'Server CPU µs per answer',
};

/** One block per row for the terminal: the table is too wide for a line. */
export function consoleReport(rows: Result[], all: Result[] = rows): string[] {
  const lines: string[] = [];
  for (const row of rows) {
    const c = cells(row, all);
    lines.push(
      `${c.scenario}  [${c.endpoint}, ${row.workers} worker${row.workers > 1 ? 's' : ''}]`,
      `    ${c.rate}/s   p50 ${c.p50} ms   p99 ${c.p99} ms   (${fmt(row.measured.run.requests)} answers in ${fmt(row.measured.run.durationSeconds, 1)} s)`,
      `    non-2xx: ${c.nonOk}`,
      `    CPU (% of one core, ${row.measured.cpu.cores} cores): ${cpuText(row)}`,
      `    correctness: ${c.correctness}`,
      ...(c.target !== '—' ? [`    target ${c.target}: ${c.result}`] : []),
      `    ${c.share} of the bare Hono handler's rate; server CPU ${c.cpuPerAnswer} µs per answer`,
    );
  }
  return lines;
}

export function markdownReport(
  rows: Result[],
  machine: Machine,
  command: string,
  when: Date,
  sections: Section[] = [],
): string {
  const showWorkers = new Set(rows.map((r) => r.workers)).size > 1;
  const keys = (Object.keys(headings) as Array<keyof Cells>).filter((k) => showWorkers || k !== 'workers');
  const table = [headings, ...rows.map((r) => cells(r, rows))].map((c) => keys.map((k) => c[k]));
  const summaries = [...new Set(rows.map((r) => r.workers))].flatMap((workers) => {
    const summary = summaryTable(rows, workers);
    if (summary.length < 2) return [];
    return [
      `Summary, ${workers} server process${workers > 1 ? 'es' : ''}:`,
      '',
      ...markdownTable(summary),
      '',
    ];
  });
  return [
    `Measured ${when.toISOString().slice(0, 16).replace('T', ' ')} UTC with \`${command}\` on:`,
    '',
    ...machineLines(machine).map((l) => `- ${l}`),
    '',
    ...summaries,
    ...sections.flatMap((s) => [
      `${s.title}${s.command ? ` (\`${s.command}\`)` : ''}: ${s.ok ? 'OK' : 'FAIL'}`,
      '',
      ...s.lines.map((l) => `- ${l}`),
      '',
    ]),
    `⚠: other programs took more than ${noisyAbove}% of a core during that run (a shared machine):`,
    'a pessimistic figure. Rates count the answers named in brackets, per second of the measured run.',
    '',
    ...markdownTable(table),
    '',
  ].join('\n');
}

/** The issue's table: each hot path against the bare handler of the same run, and its server CPU per answer. */
const summaryPaths: Array<{ id: RowId; path: string }> = [
  { id: 'queue-status', path: 'queue status poll' },
  { id: 'seat-map', path: 'seat map (cached)' },
  { id: 'stampede', path: 'stampede losers (1,000 users on 10 seats)' },
  { id: 'enter-queue-opening', path: 'enter queue at an opening (maxActive 500: most WAITING)' },
  { id: 'enter-queue', path: 'enter queue, admitted (ACTIVE, with queue.activated)' },
  { id: 'hold', path: 'hold (distinct seats)' },
  { id: 'charge', path: 'charge points' },
  { id: 'pay', path: 'pay' },
];

export function summaryTable(all: Result[], workers: number): string[][] {
  const bare = bareOf(all);
  const header = [
    'path',
    'answers/s',
    'share of bare Hono, same run',
    'p99 ms',
    `server CPU µs per answer (bare Hono: ${bare ? fmt(cpuPerAnswer(bare)) : '—'})`,
    'target',
    'result',
  ];
  const rows: string[][] = [header];
  for (const { id, path } of summaryPaths) {
    const found = all.filter((r) => r.id === id && r.workers === workers);
    if (found.length === 0) continue;
    const rate = mean(found.map(rateOf));
    const share = bare ? rate / Math.max(rateOf(bare), 1e-9) : null;
    const verdicts = found.map((r) => verdict(r, all));
    let result = verdicts.every((v) => v.met === null)
      ? '—'
      : verdicts.every((v) => v.met !== false)
        ? 'met'
        : (verdicts.find((v) => v.met === false)?.result ?? '');
    if (id === 'hold') {
      const ratios = found.map((r) => {
        const base = partnerOf(r, all);
        return base ? `${fmt(rateOf(r) / Math.max(rateOf(base), 1e-9), 2)}×` : '—';
      });
      const met = verdicts.filter((v) => v.met).length;
      result = `${met} of ${found.length} runs ≥ 2× baseline (${ratios.join(', ')})`;
    }
    if (id === 'pay') {
      const holds = all.filter((h) => h.id === 'hold' && h.workers === workers);
      if (holds.length > 0) result += ` (${fmt((100 * rate) / mean(holds.map(rateOf)))} % of hold)`;
    }
    rows.push([
      path,
      fmt(rate),
      percent(share),
      fmt(Math.max(...found.map(p99)), 1),
      fmt(mean(found.map(cpuPerAnswer))),
      verdicts[0]?.target ?? '—',
      result,
    ]);
  }
  return rows;
}

/** A table laid out as the repository's formatter (Biome) pads it, so `biome ci` accepts the docs. */
export function markdownTable(table: string[][]): string[] {
  const cell = (s: string) => s.replaceAll('|', '\\|');
  const cellsOf = table.map((row) => row.map(cell));
  const width = cellsOf[0]!.map((_, i) => Math.max(3, ...cellsOf.map((row) => [...row[i]!].length)));
  const pad = (text: string, i: number) => text + ' '.repeat(width[i]! - [...text].length);
  const line = (row: string[]) => `| ${row.map(pad).join(' | ')} |`;
  return [
    line(cellsOf[0]!),
    `| ${width.map((w) => '-'.repeat(w)).join(' | ')} |`,
    ...cellsOf.slice(1).map(line),
  ];
}

/** The summary for the terminal: one line per path. */
export function consoleSummary(all: Result[], workers: number): string[] {
  const [header, ...rows] = summaryTable(all, workers);
  if (rows.length === 0) return [];
  return [
    `summary (${workers} worker${workers > 1 ? 's' : ''}): ${header!.slice(1).join(' | ')}`,
    ...rows.map((r) => `  ${r[0]}: ${r.slice(1).join(' | ')}`),
  ];
}

export function sectionLines(section: Section): string[] {
  return [`${section.title}: ${section.ok ? 'OK' : 'FAIL'}`, ...section.lines.map((l) => `  ${l}`)];
}

const startMarker = '<!-- bench:start -->';
const endMarker = '<!-- bench:end -->';

/** Replaces what lies between the bench markers of `file` (docs/benchmarks.md, "Latest full run"). */
export function writeResultsTable(file: string, markdown: string): void {
  const text = readFileSync(file, 'utf8');
  const start = text.indexOf(startMarker);
  const end = text.indexOf(endMarker);
  if (start < 0 || end < start)
    throw new Error(`${file}: no ${startMarker} … ${endMarker} markers to write between`);
  writeFileSync(
    file,
    `${text.slice(0, start)}${startMarker}\n${markdown}${endMarker}${text.slice(end + endMarker.length)}`,
  );
}
