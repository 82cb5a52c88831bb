import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { references } from './scenarios/calibrate.ts';
import type { RowId, ScenarioRow } from './scenarios/scenario.ts';

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

interface Condition {
  text: string;
  met: (row: Result, baseline: Result | undefined) => boolean | null;
}

const minRate = (n: number): Condition => ({
  text: `≥ ${n.toLocaleString('en-US')}/s`,
  met: (r) => rateOf(r) >= n,
});

/**
 * The issue states its rates for the machine of its reference figures (`references` in
 * scenarios/calibrate.ts: a bare Hono handler, one Redis round trip, one MariaDB read). The same run
 * measures those here (calibrate), so each rate target is also read at this machine's scale: times the
 * ratio of the calibration its path leans on.
 */
const scaledRate: Partial<Record<RowId, { rate: number; by: keyof typeof references }>> = {
  'enter-queue': { rate: 20_000, by: 'redis' },
  'queue-status': { rate: 25_000, by: 'redis' },
  'seat-map': { rate: 20_000, by: 'redis' },
  hold: { rate: 5_000, by: 'db' },
  stampede: { rate: 20_000, by: 'redis' },
  pay: { rate: 2_000, by: 'db' },
};

const calibrationNames = { bare: 'bare Hono', redis: 'Redis round trip', db: 'MariaDB read' } as const;

/** The rate target at this machine's scale, when the run calibrated; '' otherwise. */
export function scaledVerdict(row: Result, all: Result[]): string {
  const scaled = scaledRate[row.id];
  if (!scaled) return '';
  const calibration = all.find((r) => r.id === `calibrate-${scaled.by}`);
  if (!calibration) return '';
  const factor = rateOf(calibration) / references[scaled.by];
  const target = Math.round((scaled.rate * factor) / 10) * 10;
  const met = rateOf(row) >= target;
  return `≥ ${fmt(target)}/s (×${fmt(factor, 2)}, ${calibrationNames[scaled.by]}): ${met ? 'met' : 'missed'}`;
}
const maxP99 = (ms: number): Condition => ({ text: `p99 ≤ ${ms} ms`, met: (r) => p99(r) <= ms });
const timesBaseline = (n: number): Condition => ({
  text: `≥ ${n}× baseline`,
  met: (r, b) => (b ? rateOf(r) >= n * rateOf(b) : null),
});

/** The targets for this 2-core machine; baselines and charge have none (they are for comparison). */
const targets: Partial<Record<RowId, Condition[]>> = {
  'enter-queue': [minRate(20_000), maxP99(20)],
  'queue-status': [minRate(25_000), maxP99(20)],
  'seat-map': [minRate(20_000)],
  hold: [minRate(5_000), maxP99(50), timesBaseline(2)],
  stampede: [minRate(20_000), maxP99(20), timesBaseline(20)],
  pay: [minRate(2_000)],
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
  const baseline = all.find((r) => r.id === `${row.id}-baseline` && r.workers === row.workers);
  const missed: string[] = [];
  for (const c of conditions) {
    const met = c.met(row, baseline);
    if (met === false) missed.push(c.text);
    if (met === null) missed.push(`${c.text} (no baseline measured)`);
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
  const other =
    row.variant === 'ours'
      ? all.find((r) => r.id === `${row.id}-baseline` && r.workers === row.workers)
      : row.variant === 'baseline'
        ? all.find((r) => `${r.id}-baseline` === row.id && r.workers === row.workers)
        : undefined;
  if (!other) return '';
  const [ours, base] = row.variant === 'ours' ? [row, other] : [other, row];
  return row.variant === 'ours' ? ` (${fmt(rateOf(ours) / Math.max(rateOf(base), 1e-9), 1)}× baseline)` : '';
}

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
  scaled: string;
}

function cells(row: Result, all: Result[]): Cells {
  const v = verdict(row, all);
  return {
    workers: String(row.workers),
    scenario: row.variant ? `${row.title} — ${row.variant}` : row.title,
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
    scaled: scaledVerdict(row, all) || '—',
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
  scaled: 'Rate target at this machine’s scale',
};

/** One block per row for the terminal: the table is too wide for a line. */
export function consoleReport(rows: Result[]): string[] {
  const lines: string[] = [];
  for (const row of rows) {
    const c = cells(row, rows);
    lines.push(
      `${c.scenario}  [${c.endpoint}, ${row.workers} worker${row.workers > 1 ? 's' : ''}]`,
      `    ${c.rate}/s   p50 ${c.p50} ms   p99 ${c.p99} ms   (${fmt(row.measured.run.requests)} answers in ${fmt(row.measured.run.durationSeconds, 1)} s)`,
      `    non-2xx: ${c.nonOk}`,
      `    CPU (% of one core, ${row.measured.cpu.cores} cores): ${cpuText(row)}`,
      `    correctness: ${c.correctness}`,
      ...(c.target !== '—' ? [`    target ${c.target}: ${c.result}`] : []),
      ...(c.scaled !== '—' ? [`    rate target at this machine's scale ${c.scaled}`] : []),
    );
  }
  return lines;
}

export function markdownReport(rows: Result[], machine: Machine, command: string, when: Date): string {
  const cell = (s: string) => s.replaceAll('|', '\\|');
  const showWorkers = new Set(rows.map((r) => r.workers)).size > 1;
  const keys = (Object.keys(headings) as Array<keyof Cells>).filter((k) => showWorkers || k !== 'workers');
  const table = [headings, ...rows.map((r) => cells(r, rows))].map((c) => keys.map((k) => cell(c[k])));
  // Padded as the repository's formatter (Biome) lays tables out, so `biome ci` accepts docs/benchmarks.md.
  const width = keys.map((_, i) => Math.max(3, ...table.map((row) => [...row[i]!].length)));
  const pad = (text: string, i: number) => text + ' '.repeat(width[i]! - [...text].length);
  const line = (row: string[]) => `| ${row.map(pad).join(' | ')} |`;
  return [
    `Measured ${when.toISOString().slice(0, 16).replace('T', ' ')} UTC with \`${command}\` on:`,
    '',
    ...machineLines(machine).map((l) => `- ${l}`),
    '',
    `⚠: other programs took more than ${noisyAbove}% of a core during that run (a shared machine):`,
    'a pessimistic figure. Rates count the answers named in brackets, per second of the measured run.',
    '',
    line(table[0]!),
    `| ${width.map((w) => '-'.repeat(w)).join(' | ')} |`,
    ...table.slice(1).map(line),
    '',
  ].join('\n');
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
