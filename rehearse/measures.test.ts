import { describe, expect, it } from 'vitest';
import { bucketize, fairness, percentile, percentiles } from './measures.ts';

describe('percentiles', () => {
  it('nearest rank over unsorted values', () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile(values, 100)).toBe(100);
    expect(percentile(values, 0)).toBe(1);
    expect(percentiles([5, 1, 3])).toEqual({ count: 3, p50: 3, p90: 5, p99: 5, max: 5 });
    expect(percentiles([])).toEqual({ count: 0, p50: null, p90: null, p99: null, max: null });
  });
});

describe('bucketize', () => {
  it('counts per second from the origin, with the quantiles of the values, gaps included', () => {
    const origin = 1_000_000;
    const buckets = bucketize(
      [
        { at: origin - 500, value: 10 },
        { at: origin + 100, value: 20 },
        { at: origin + 900, value: 40 },
        { at: origin + 2_999, value: 7 },
      ],
      origin,
    );
    expect(buckets).toEqual([
      { at: -1, count: 1, p50: 10, p99: 10 },
      { at: 0, count: 2, p50: 20, p99: 40 },
      { at: 1, count: 0, p50: null, p99: null },
      { at: 2, count: 1, p50: 7, p99: 7 },
    ]);
    expect(bucketize([], origin)).toEqual([]);
  });
});

describe('fairness', () => {
  // Entries answered at once unless said otherwise.
  const late = (arrivedAt: number, admittedAt: number, enteredAt = arrivedAt) => ({
    arrivedAt,
    enteredAt,
    admittedAt,
    early: false,
  });
  const early = (arrivedAt: number, admittedAt: number) => ({
    arrivedAt,
    enteredAt: arrivedAt,
    admittedAt,
    early: true,
  });

  it('first come, first served: nobody overtakes, tau 1', () => {
    const f = fairness([late(1, 10), late(2, 11), late(3, 12), late(4, 13)]);
    expect(f).toEqual({ fans: 4, overtakingShare: 0, kendallTau: 1, pairs: 6, discordantPairs: 0 });
  });

  it('admitted in reverse: everyone after the first overtook someone, tau −1', () => {
    const f = fairness([late(1, 13), late(2, 12), late(3, 11), late(4, 10)]);
    expect(f.overtakingShare).toBe(0.75);
    expect(f.kendallTau).toBe(-1);
    expect(f.discordantPairs).toBe(6);
  });

  it('one swap among four: one overtaker, tau (5 − 1) / 6', () => {
    const f = fairness([late(1, 10), late(2, 12), late(3, 11), late(4, 13)]);
    expect(f.overtakingShare).toBe(0.25);
    expect(f.kendallTau).toBeCloseTo(4 / 6, 10);
  });

  it('the early group is shuffled by design: its own pairs count neither way', () => {
    // Three early fans admitted in reverse arrival order, then two later fans in order.
    const fans = [early(1, 12), early(2, 11), early(3, 10), late(5, 13), late(6, 14)];
    const f = fairness(fans);
    expect(f.overtakingShare).toBe(0);
    expect(f.pairs).toBe(10 - 3);
    expect(f.kendallTau).toBe(1);
  });

  it('a later fan admitted before an early one overtakes it', () => {
    const f = fairness([early(1, 12), early(2, 10), late(5, 11)]);
    expect(f.overtakingShare).toBeCloseTo(1 / 3, 10);
    expect(f.pairs).toBe(2);
    expect(f.discordantPairs).toBe(1);
    expect(f.kendallTau).toBe(0);
  });

  it('ties in arrival or admission are neither concordant nor discordant', () => {
    const f = fairness([late(1, 10), late(1, 9), late(2, 11), late(3, 11)]);
    // The two who arrived in the same millisecond do not overtake each other.
    expect(f.overtakingShare).toBe(0);
    expect(f.pairs).toBe(6);
    expect(f.discordantPairs).toBe(0);
    // tau-b: 4 concordant of 6 pairs, one tied in arrival, one in admission: 4 / sqrt(5 × 5).
    expect(f.kendallTau).toBeCloseTo(4 / 5, 10);
  });

  it('entries in flight at the same time are not ordered: only one answered before the other was sent', () => {
    // The first entry took 50 ms to answer; the second was sent meanwhile and admitted first.
    const overlapping = fairness([late(0, 20, 50), late(10, 15, 12)]);
    expect(overlapping.overtakingShare).toBe(0);
    expect(overlapping.discordantPairs).toBe(0);
    expect(overlapping.kendallTau).toBeNull();
    // Sent after the first was answered: overtaking.
    const after = fairness([late(0, 20, 5), late(10, 15, 12)]);
    expect(after.overtakingShare).toBe(0.5);
    expect(after.kendallTau).toBe(-1);
  });

  it('nobody admitted: no measure', () => {
    expect(fairness([])).toEqual({
      fans: 0,
      overtakingShare: 0,
      kendallTau: null,
      pairs: 0,
      discordantPairs: 0,
    });
  });
});
