import { describe, expect, it } from 'vitest';
import { type CurvePoint, defaultRule, errorRate, findKnee } from './knee.ts';

/** A step with no errors unless given. */
const p = (concurrency: number, rps: number, p50Ms: number, p99Ms: number, errors = 0): CurvePoint => ({
  concurrency,
  rps,
  p50Ms,
  p99Ms,
  ok: Math.round(rps * 5),
  errors,
});

describe('findKnee', () => {
  it('finds the last step before throughput flattens while p99 climbs', () => {
    const knee = findKnee([
      p(1, 200, 4.8, 7),
      p(2, 390, 5, 8),
      p(4, 700, 5.6, 10),
      p(8, 1000, 7.8, 15),
      p(16, 1080, 14.6, 30), // +8 % req/s, p99 +100 %: saturated
      p(32, 1090, 29, 48),
    ]);
    expect(knee.point?.concurrency).toBe(8);
    expect(knee.bent).toBe(true);
    expect(knee.verdicts[4]!.reasons).toEqual(['saturated: req/s +8%, p99 +100%']);
    expect(knee.verdicts[4]!.beyond).toBe(true);
    expect(knee.verdicts[5]!.beyond).toBe(true);
    expect(knee.verdicts[3]!.beyond).toBe(false);
    expect(knee.summary).toContain('knee at c=8');
    expect(knee.warnings).toEqual([]);
  });

  it('keeps going on a plateau whose p99 grows only a little', () => {
    const knee = findKnee([p(1, 500, 2, 4), p(2, 520, 3.8, 5), p(4, 530, 7.5, 7)]);
    expect(knee.point?.concurrency).toBe(4);
    expect(knee.bent).toBe(false);
  });

  it('on a monotone curve takes the last step and says the knee may be higher', () => {
    const knee = findKnee([p(1, 100, 10, 12), p(2, 200, 10, 12), p(4, 400, 10, 13), p(8, 800, 10, 14)]);
    expect(knee.index).toBe(3);
    expect(knee.point?.concurrency).toBe(8);
    expect(knee.bent).toBe(false);
    expect(knee.summary).toContain('did not bend up to c=8');
    expect(knee.warnings.join(' ')).toContain('--connections ...,16,32');
  });

  it('stops before the step where errors appear', () => {
    const knee = findKnee([p(1, 100, 5, 8), p(2, 200, 5, 9), p(4, 390, 5, 10, 40), p(8, 420, 9, 20, 300)]);
    expect(knee.point?.concurrency).toBe(2);
    expect(knee.verdicts[2]!.reasons[0]).toMatch(/^errors 2\.0% > 1\.0%/);
  });

  it('tolerates errors under the threshold', () => {
    const knee = findKnee([p(1, 100, 5, 8, 1), p(2, 200, 5, 9, 2)]);
    expect(knee.point?.concurrency).toBe(2);
  });

  it('stops before the step whose p99 exceeds the budget', () => {
    const knee = findKnee([p(1, 100, 5, 20), p(2, 190, 8, 40), p(4, 370, 10, 55)], {
      ...defaultRule,
      p99BudgetMs: 50,
    });
    expect(knee.point?.concurrency).toBe(2);
    expect(knee.verdicts[2]!.reasons).toEqual(['p99 55.0 ms > budget 50 ms']);
  });

  it('has no knee when the first step already fails', () => {
    const knee = findKnee([p(1, 10, 80, 120), p(2, 20, 80, 130)]);
    expect(knee.index).toBeNull();
    expect(knee.point).toBeNull();
    expect(knee.summary).toContain('already the first step (c=1) fails');
    expect(knee.warnings[0]).toContain('--p99-budget-ms');
  });

  it('takes a single good step as it is, with a warning', () => {
    const knee = findKnee([p(16, 900, 15, 30)]);
    expect(knee.point?.concurrency).toBe(16);
    expect(knee.bent).toBe(false);
    expect(knee.summary).toContain('one step only');
    expect(knee.warnings[0]).toContain('One step is no curve');
  });

  it('has no knee for a single failing step', () => {
    expect(findKnee([p(16, 900, 15, 300)]).point).toBeNull();
  });

  it('sorts the steps and refuses the same concurrency twice', () => {
    const knee = findKnee([p(4, 390, 5, 10), p(1, 100, 5, 8), p(2, 200, 5, 9)]);
    expect(knee.points.map((x) => x.concurrency)).toEqual([1, 2, 4]);
    expect(() => findKnee([p(1, 1, 1, 1), p(1, 2, 1, 1)])).toThrow('measured twice');
    expect(() => findKnee([])).toThrow('no measured steps');
  });

  it('treats a step without any answer as all errors', () => {
    expect(errorRate({ ok: 0, errors: 0 })).toBe(1);
    const knee = findKnee([p(1, 100, 5, 8), { ...p(2, 0, 0, 0), ok: 0 }]);
    expect(knee.point?.concurrency).toBe(1);
  });

  it('takes a failure that the next step does not repeat as noise (a busy shared machine)', () => {
    // hold-seat measured on a loaded 2-core machine: one p99 spike at c=4, clean again at c=8.
    const knee = findKnee([
      p(1, 190, 4.5, 16),
      p(2, 332, 6.3, 17.7),
      p(4, 460, 9.1, 60.4),
      p(8, 714, 12, 24.8),
      p(16, 687, 28.1, 146.7),
      p(32, 687, 60.7, 121.4),
    ]);
    expect(knee.point?.concurrency).toBe(8);
    expect(knee.verdicts[2]).toMatchObject({
      isolated: true,
      beyond: false,
      reasons: ['p99 60.4 ms > budget 50 ms'],
    });
    expect(knee.verdicts[4]).toMatchObject({ isolated: false, beyond: true });
    expect(knee.warnings[0]).toContain('Failures at c=4 were not repeated');
  });

  it('counts a failure of the last step, which nothing can contradict', () => {
    const knee = findKnee([p(1, 100, 5, 8), p(2, 200, 5, 9), p(4, 380, 5, 10, 100)]);
    expect(knee.point?.concurrency).toBe(2);
    expect(knee.verdicts[2]!.isolated).toBe(false);
  });

  it('has no knee when the first two steps fail, but skips a failing first step the second contradicts', () => {
    expect(findKnee([p(1, 100, 5, 80), p(2, 150, 9, 90), p(4, 160, 20, 45)]).point).toBeNull();
    expect(findKnee([p(1, 100, 5, 80), p(2, 190, 9, 20), p(4, 360, 10, 25)]).point?.concurrency).toBe(4);
  });

  it('applies the configured gain and growth thresholds', () => {
    const curve = [p(1, 100, 5, 10), p(2, 125, 8, 14)]; // +25 % req/s, p99 +40 %
    expect(findKnee(curve).point?.concurrency).toBe(2);
    expect(findKnee(curve, { ...defaultRule, minGain: 0.3, maxP99Growth: 0.3 }).point?.concurrency).toBe(1);
  });
});
