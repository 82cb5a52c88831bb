import { describe, expect, it } from 'vitest';
import { arrivalOffsets, defaultMix, planFans, seededRandom } from './plan.ts';

const window = { beforeSeconds: 10, afterSeconds: 30, earlyShare: 0.3 };

describe('seededRandom', () => {
  it('repeats its sequence for a seed and differs between seeds', () => {
    const a = seededRandom(7);
    const b = seededRandom(7);
    const c = seededRandom(8);
    const first = Array.from({ length: 5 }, a);
    expect(Array.from({ length: 5 }, b)).toEqual(first);
    expect(Array.from({ length: 5 }, c)).not.toEqual(first);
    for (const x of first) expect(x >= 0 && x < 1).toBe(true);
  });
});

describe('arrivalOffsets', () => {
  const count = 10_000;
  const share = (offsets: number[], from: number, to: number) =>
    offsets.filter((at) => at >= from && at < to).length / offsets.length;

  it.each(['spike', 'uniform', 'ramp'] as const)(
    '%s: sorted, inside the window, the same for a seed',
    (curve) => {
      const offsets = arrivalOffsets(count, { ...window, curve }, seededRandom(1));
      expect(offsets).toHaveLength(count);
      expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
      expect(offsets[0]).toBeGreaterThanOrEqual(-10_000);
      expect(offsets.at(-1)).toBeLessThanOrEqual(30_000);
      expect(arrivalOffsets(count, { ...window, curve }, seededRandom(1))).toEqual(offsets);
    },
  );

  it('spike: the early share waits before the opening, most of the rest come in its first seconds', () => {
    const offsets = arrivalOffsets(count, { ...window, curve: 'spike' }, seededRandom(2));
    expect(share(offsets, -10_000, 0)).toBeCloseTo(0.3, 1);
    // Exponential with a mean of 6 s: 1 − e^(−1) ≈ 63 % of the late ones within the first 6 s.
    expect(share(offsets, 0, 6_000) / 0.7).toBeCloseTo(0.63, 1);
    expect(share(offsets, 24_000, 30_001)).toBeLessThan(0.02);
  });

  it('uniform: each quarter of the window gets a quarter of the fans', () => {
    const offsets = arrivalOffsets(count, { ...window, curve: 'uniform' }, seededRandom(3));
    for (let q = 0; q < 4; q++) expect(share(offsets, -10_000 + q * 10_000, q * 10_000)).toBeCloseTo(0.25, 1);
  });

  it('ramp: the rate grows, so the last half of the window gets three quarters of the fans', () => {
    const offsets = arrivalOffsets(count, { ...window, curve: 'ramp' }, seededRandom(4));
    expect(share(offsets, 10_000, 30_001)).toBeCloseTo(0.75, 1);
    expect(share(offsets, -10_000, 0)).toBeCloseTo(0.0625, 1);
  });
});

describe('planFans', () => {
  it('draws each behaviour at about its share, and the same crowd for the same seed', () => {
    const arrival = { ...window, curve: 'spike' as const };
    const fans = planFans(20_000, arrival, defaultMix, 9);
    const share = (f: (fan: (typeof fans)[number]) => boolean) => fans.filter(f).length / fans.length;
    expect(share((f) => f.waitBy === 'sse')).toBeCloseTo(defaultMix.sse, 1);
    expect(share((f) => f.shortOfPoints)).toBeCloseTo(defaultMix.shortOfPoints, 1);
    expect(share((f) => f.abandon === 'seat-map')).toBeCloseTo(defaultMix.abandonAtSeatMap, 1);
    expect(share((f) => f.abandon === 'payment')).toBeCloseTo(defaultMix.abandonAtPayment, 1);
    expect(share((f) => f.retryPay)).toBeCloseTo(defaultMix.retryPay, 1);
    expect(share((f) => f.wantsHotSection)).toBeCloseTo(defaultMix.hotSection, 1);
    expect(fans.map((f) => f.index)).toEqual(fans.map((_, i) => i));
    expect(planFans(20_000, arrival, defaultMix, 9)).toEqual(fans);
    expect(planFans(20_000, arrival, defaultMix, 10)).not.toEqual(fans);
  });

  it('a share of 0 or 1 is exact', () => {
    const fans = planFans(
      500,
      { ...window, curve: 'uniform' },
      { sse: 1, shortOfPoints: 0, abandonAtSeatMap: 0, abandonAtPayment: 1, retryPay: 0, hotSection: 1 },
      1,
    );
    expect(fans.every((f) => f.waitBy === 'sse' && !f.shortOfPoints && f.abandon === 'payment')).toBe(true);
    expect(fans.every((f) => !f.retryPay && f.wantsHotSection)).toBe(true);
  });
});
