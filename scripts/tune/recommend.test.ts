import { describe, expect, it } from 'vitest';
import type { Autoscaling } from '../../knative/spec.ts';
import type { CurvePoint } from './knee.ts';
import { type RecommendInput, recommend } from './recommend.ts';

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

const knee: CurvePoint = { concurrency: 16, rps: 800, p50Ms: 19, p99Ms: 45, ok: 4000, errors: 0 };

const input = (over: Partial<RecommendInput> = {}): RecommendInput => ({
  knee,
  utilization: 0.7,
  spike: 10_000,
  metric: 'concurrency',
  dbPoolSize: 10,
  hardLimit: true,
  current,
  maxScaleFloor: 2,
  ...over,
});

describe('recommend', () => {
  it('sizes a concurrency-scaled function from the knee with Little’s law', () => {
    const r = recommend(input());
    expect(r.containerConcurrency).toBe(16);
    // Knative scales out at target × utilization: target stays the knee, 70 % is applied by Knative.
    expect(r.target).toBe(16);
    expect(r.targetUtilizationPercentage).toBe(70);
    expect(r.effectiveTarget).toBeCloseTo(11.2);
    expect(r.lambdaPod).toBe(800);
    // ceil(10000 / (800 × 0.7)) = ceil(17.86)
    expect(r.maxScale).toBe(18);
    expect(r.maxScaleComputed).toBe(18);
    // closed loop: W = c / λ = 16 / 800 s
    expect(r.wMeanMs).toBeCloseTo(20);
    // in flight at the knee through the median: 800 × 0.019 s = 15.2, a little under c = 16
    expect(r.inFlightP50).toBeCloseTo(15.2);
    expect(r.littleRatio).toBeCloseTo(0.95);
    // spike × W_p50 = 10000 × 0.019
    expect(r.spikeInFlight).toBeCloseTo(190);
    // through concurrency: ceil(190 / (16 × 0.7)) = ceil(16.96)
    expect(r.podsByConcurrency).toBe(17);
    expect(r.openingMinScale).toBe(13);
    expect(r.dbConnectionsAtMaxScale).toBe(180);
    expect(r.changes).toEqual({
      containerConcurrency: 16,
      target: 16,
      targetUtilizationPercentage: 70,
      maxScale: 18,
    });
    expect(r.notes).toEqual([]);
  });

  it('targets requests per second for an rps-scaled function and can leave containerConcurrency alone', () => {
    const r = recommend(
      input({
        metric: 'rps',
        hardLimit: false,
        current: { ...current, metric: 'rps', target: 300, containerConcurrency: 0 },
        knee: { ...knee, concurrency: 32, rps: 1234.9 },
      }),
    );
    expect(r.target).toBe(1234);
    expect(r.effectiveTarget).toBeCloseTo(863.8);
    expect(r.changes).toEqual({ target: 1234, targetUtilizationPercentage: 70, maxScale: 12 });
    expect(r.notes.join(' ')).toContain('containerConcurrency not written (stays 0)');
  });

  it('never writes a concurrency target above an unchanged containerConcurrency', () => {
    const r = recommend(input({ hardLimit: false, current: { ...current, containerConcurrency: 10 } }));
    expect(r.changes.target).toBe(10);
    expect(r.changes.containerConcurrency).toBeUndefined();
  });

  it('keeps maxScale at or above the highest minScale/initialScale of any environment', () => {
    const r = recommend(input({ knee: { ...knee, rps: 20_000 }, maxScaleFloor: 3 }));
    expect(r.maxScaleComputed).toBe(1);
    expect(r.maxScale).toBe(3);
    expect(r.openingMinScale).toBe(1);
    expect(r.notes[0]).toContain('raised from 1 to 3');
  });

  it('says when the spike needs more pods than the ADR’s 50', () => {
    const r = recommend(input({ knee: { ...knee, rps: 91 } }));
    expect(r.maxScale).toBe(157);
    expect(r.notes.join(' ')).toContain("exceeds the ADR's 50 pods");
  });

  it('follows --spike and --utilization', () => {
    const r = recommend(input({ spike: 2000, utilization: 0.5 }));
    expect(r.maxScale).toBe(5);
    expect(r.targetUtilizationPercentage).toBe(50);
    expect(r.effectiveTarget).toBe(8);
  });

  it('leaves the target of a cpu-scaled function alone', () => {
    const r = recommend(input({ metric: 'cpu' }));
    expect(r.target).toBeNull();
    expect(r.effectiveTarget).toBeNull();
    expect(r.changes.target).toBeUndefined();
    expect(r.changes.maxScale).toBe(18);
  });

  it('works from a single-step curve', () => {
    const r = recommend(
      input({ knee: { concurrency: 1, rps: 250, p50Ms: 4, p99Ms: 6, ok: 750, errors: 0 } }),
    );
    expect(r.containerConcurrency).toBe(1);
    expect(r.target).toBe(1);
    expect(r.effectiveTarget).toBeCloseTo(0.7);
    expect(r.maxScale).toBe(58);
  });

  it('counts every answer in the closed-loop mean, errors included', () => {
    const r = recommend(input({ knee: { ...knee, rps: 792, ok: 3960, errors: 40 } }));
    // 800 answers/s in all: W = 16 / 800 s
    expect(r.wMeanMs).toBeCloseTo(20);
  });

  it('points at the pool when a database-bound knee reaches DB_POOL_SIZE', () => {
    expect(recommend(input({ dbBound: true, dbPoolSize: 10 })).notes.join(' ')).toContain(
      'the knee (c=16) is at or above DB_POOL_SIZE 10',
    );
    expect(recommend(input({ dbBound: true, dbPoolSize: 20 })).notes).toEqual([]);
    expect(recommend(input({ dbBound: false, dbPoolSize: 2 })).notes).toEqual([]);
  });

  it('refuses nonsense', () => {
    expect(() => recommend(input({ utilization: 0 }))).toThrow('utilization');
    expect(() => recommend(input({ utilization: 1.5 }))).toThrow('utilization');
    expect(() => recommend(input({ spike: 0 }))).toThrow('spike');
    expect(() => recommend(input({ knee: { ...knee, rps: 0 } }))).toThrow('no throughput');
  });
});
