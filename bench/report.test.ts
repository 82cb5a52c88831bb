import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { LoadResult } from './lib/wrk.ts';
import {
  cpuPerAnswer,
  type Result,
  shareOfBare,
  summaryTable,
  verdict,
  writeResultsTable,
} from './report.ts';
import type { RowId } from './scenarios/scenario.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function docWith(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'bench-report-'));
  dirs.push(dir);
  const file = join(dir, 'benchmarks.md');
  writeFileSync(file, text);
  return file;
}

describe('writeResultsTable', () => {
  it('replaces only what lies between the markers, keeping the history around them', () => {
    const file = docWith(
      '# Benchmarks\n\n<!-- bench:start -->\nold table\n<!-- bench:end -->\n\n## History\nkept\n',
    );
    writeResultsTable(file, 'new table\n');
    expect(readFileSync(file, 'utf8')).toBe(
      '# Benchmarks\n\n<!-- bench:start -->\nnew table\n<!-- bench:end -->\n\n## History\nkept\n',
    );
  });

  it('refuses a file without the markers instead of appending a second section', () => {
    const file = docWith('# Benchmarks\n');
    expect(() => writeResultsTable(file, 'table\n')).toThrow(/no <!-- bench:start -->/);
    expect(readFileSync(file, 'utf8')).toBe('# Benchmarks\n');
  });
});

const run = (requests: number, seconds = 10): LoadResult => ({
  durationSeconds: seconds,
  requests,
  latencyMs: { mean: 1, p50: 1, p90: 1, p99: 5, p999: 5, max: 5 },
  errors: { connect: 0, read: 0, write: 0, timeout: 0 },
  statuses: { '200': requests },
  codes: {},
  nextStart: 0,
  threadStarts: '0',
  issued: requests,
  repeated: 0,
  listSize: requests,
});

/** A row whose measured run answered `perSecond` counted answers a second for 10 s. */
function row(id: RowId, perSecond: number, extra: Partial<Result> = {}): Result {
  return {
    id,
    title: id,
    variant: id.endsWith('-baseline') ? 'baseline' : id === 'hold' ? 'ours' : '',
    endpoint: '',
    counted: { label: '200', count: perSecond * 10 },
    measured: {
      run: run(perSecond * 10),
      warmup: run(0),
      cpu: { server: 100, mariadb: 0, redis: 0, load: 0, other: 0, idle: 100, cores: 2, serverSeconds: 0.5 },
      profiles: [],
    },
    correctness: { ok: true, text: '' },
    workers: 1,
    ...extra,
  };
}

describe('targets as ratios of the same run', () => {
  const bare = row('calibrate-bare', 10_000);

  it('reads a path against the bare Hono handler of the run', () => {
    const status = row('queue-status', 6_000);
    const all = [bare, status, row('seat-map', 4_000)];
    expect(shareOfBare(status, all)).toBe(0.6);
    expect(verdict(status, all)).toEqual({
      target: '≥ 60 % of bare Hono, p99 ≤ 20 ms',
      result: 'met',
      met: true,
    });
    expect(verdict(all[2]!, all).result).toBe('missed: ≥ 50 % of bare Hono');
  });

  it('says a share is not measured when the run had no bare handler', () => {
    const status = row('queue-status', 6_000);
    expect(verdict(status, [status]).result).toBe('missed: ≥ 60 % of bare Hono (not measured in this run)');
  });

  it('compares each hold run with the baseline run of the same round', () => {
    const round = (index: number) => ({ round: { index, of: 2 } });
    const all = [
      row('hold', 2_000, round(1)),
      row('hold-baseline', 1_000, round(1)),
      row('hold', 1_500, round(2)),
      row('hold-baseline', 500, round(2)),
    ];
    expect(all.map((r) => verdict(r, all).met)).toEqual([true, null, true, null]);
    const slower = [...all.slice(0, 2), row('hold', 1_000, round(2)), row('hold-baseline', 600, round(2))];
    expect(verdict(slower[2]!, slower).result).toBe('missed: ≥ 2× baseline');
    expect(summaryTable([bare, ...slower], 1)[1]).toEqual([
      'hold (distinct seats)',
      '1,500',
      '15 %',
      '5.0',
      '38',
      '≥ 2× baseline',
      '1 of 2 runs ≥ 2× baseline (2.00×, 1.67×)',
    ]);
  });

  it('reads pay against the mean of the hold runs', () => {
    const all = [row('hold', 1_000), row('hold', 1_400), row('pay', 900)];
    expect(verdict(all[2]!, all)).toEqual({ target: '≥ 75 % of hold', result: 'met', met: true });
    const slow = [...all.slice(0, 2), row('pay', 800)];
    expect(verdict(slow[2]!, slow).met).toBe(false);
  });

  it('leaves the result of a path without a target empty in the summary', () => {
    const [, charge] = summaryTable([bare, row('charge', 1_000)], 1);
    expect(charge?.slice(5)).toEqual(['—', '—']);
  });

  it('gives server CPU per answer from the CPU seconds and the answers of the measured run', () => {
    expect(cpuPerAnswer(row('seat-map', 1_000))).toBe(50);
  });
});
