import { describe, expect, it } from 'vitest';
import type { Autoscaling } from '../../knative/spec.ts';
import { defaultRule, findKnee } from './knee.ts';
import { loadIsHigh } from './machine.ts';
import { recommend } from './recommend.ts';
import {
  formatCurve,
  formatMachine,
  formatRecommendation,
  type MeasuredStep,
  type TuneRun,
} from './report.ts';

const cpu = { fn: 95, db: 40, redis: 5, wrk: 20, other: 3, idle: 37 };
const step = (
  concurrency: number,
  rps: number,
  p50Ms: number,
  p99Ms: number,
  over: Partial<MeasuredStep> = {},
) => ({
  concurrency,
  rps,
  p50Ms,
  meanMs: p50Ms,
  p90Ms: p99Ms * 0.8,
  p99Ms,
  maxMs: p99Ms * 2,
  ok: rps * 3,
  errors: 0,
  seconds: 3,
  answers: rps * 3,
  statuses: { 201: rps * 3 },
  codes: {},
  socketErrors: { connect: 0, read: 0, write: 0, timeout: 0 },
  repeated: 0,
  cpu,
  ...over,
});

const run: TuneRun = {
  version: 1,
  fn: 'hold-seat',
  measuredAt: '2026-11-24T21:00:00.000Z',
  machine: {
    cpuModel: 'AMD EPYC',
    cores: 2,
    memoryGiB: 23.5,
    os: 'Linux x64',
    node: 'v20.20.2',
    wrk: 'wrk 4.1.0',
    database: '10.11.19-MariaDB',
    redis: '7.0.15',
    loadAtStart: [1.6, 2, 2],
    busyBefore: 12,
  },
  loadAtEnd: [2, 2, 2],
  settings: {
    request: 'POST /v1/reservations',
    expectedStatus: 201,
    runner: 'bundle',
    dbPoolSize: 10,
    logLevel: 'info',
    stepSeconds: 3,
    warmupSeconds: 2,
    threads: 2,
    prepared: 40_000,
    singleUse: true,
  },
  steps: [
    step(1, 200, 4.8, 9),
    step(2, 380, 5.1, 11),
    step(4, 560, 7, 16),
    step(8, 600, 13, 33, {
      errors: 7,
      statuses: { 201: 1800, 503: 7 },
      codes: { DEPENDENCY_UNAVAILABLE: 7 },
    }),
  ],
  notes: [],
};

const current: Autoscaling = {
  class: 'kpa',
  metric: 'concurrency',
  target: 8,
  targetUtilizationPercentage: 70,
  minScale: 0,
  maxScale: 40,
  initialScale: 2,
  scaleToZeroPodRetentionPeriod: '10m',
  containerConcurrency: 40,
};

describe('report', () => {
  it('prints the machine, and tells a stale load average from other work that really ran', () => {
    const quiet = formatMachine(run).join('\n');
    expect(quiet).toContain('AMD EPYC, 2 cores');
    expect(quiet).toContain(
      'Other work: CPU 12% busy (of one core) in the second before the run; 3% of a core on average',
    );
    expect(quiet).toContain('The load average is high (1.60 on 2 cores), but the CPU was free');
    expect(quiet).not.toContain('!!');
    const busy = formatMachine({
      ...run,
      steps: run.steps.map((s) => ({ ...s, cpu: { ...s.cpu, other: 60 } })),
    });
    expect(busy.join('\n')).toContain('!! Other work shared the CPU during this run');
    const busyBefore = formatMachine({ ...run, machine: { ...run.machine, busyBefore: 120 } });
    expect(busyBefore.join('\n')).toContain('!! Other work shared the CPU');
    expect(loadIsHigh(0.9, 2)).toBe(false);
    expect(loadIsHigh(1.0, 2)).toBe(true);
  });

  it('prints the curve with the knee, the verdicts and the error detail', () => {
    const knee = findKnee(run.steps, defaultRule);
    const lines = formatCurve(run, knee);
    expect(lines[0]).toMatch(/^conc\s+req\/s\s+p50 ms\s+p90 ms\s+p99 ms\s+errors/);
    const at4 = lines.find((l) => l.startsWith('   4'))!;
    expect(at4).toContain('<- knee');
    const at8 = lines.find((l) => l.startsWith('   8'))!;
    expect(at8).toContain('7 (503x7 DEPENDENCY_UNAVAILABLEx7)');
    expect(at8).toContain('saturated: req/s +7%, p99 +106%');
  });

  it('prints the recommendation, Little’s law and the opening', () => {
    const knee = findKnee(run.steps, defaultRule);
    const rec = recommend({
      knee: knee.point!,
      utilization: 0.7,
      spike: 10_000,
      metric: 'concurrency',
      dbPoolSize: 10,
      hardLimit: true,
      current,
      maxScaleFloor: 2,
    });
    const text = formatRecommendation(
      {
        fn: 'hold-seat',
        metric: 'concurrency',
        current,
        prod: { ...current, minScale: 2 },
        rec,
        utilization: 0.7,
        spike: 10_000,
        dbPoolSize: 10,
        hardLimit: true,
      },
      knee,
      defaultRule,
    ).join('\n');
    expect(text).toContain('Knee: knee at c=4');
    expect(text).toMatch(/containerConcurrency\s+40\s+4/);
    expect(text).toContain('scale out at target × 70% = 2.8 in flight per pod');
    expect(text).toContain('ceil(10,000 / (560 × 0.70))');
    expect(text).toContain('λ_pod = 560 req/s at c = 4; W = p50 7.0 ms (closed-loop mean c/λ = 7.1 ms)');
    expect(text).toContain('in flight = λ·W = 560 × 7.0 ms = 3.9 vs 4 connections: consistent');
    expect(text).toContain('26 pods × DB_POOL_SIZE 10 = 260 database connections');
    expect(text).toContain('minScale = initialScale = 18');
  });
});
