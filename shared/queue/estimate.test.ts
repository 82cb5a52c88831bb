import { describe, expect, it } from 'vitest';
import { admissionRate, estimate } from './estimate.ts';
import type { QueueView } from './queue-store.ts';

const now = 1_800_000_000_000;
const view = (over: Partial<QueueView> = {}, settings: Partial<QueueView['settings']> = {}): QueueView => ({
  state: 'WAITING',
  position: 100,
  activeUntil: 0,
  seq: 100,
  epoch: 'e',
  rate: { count: 0, windowMs: 10_000 },
  admitted: [],
  ...over,
  settings: {
    maxActive: 500,
    admitPerSecond: 50,
    activeTtlSeconds: 600,
    idleTimeoutSeconds: 300,
    paused: false,
    opensAt: null,
    ...settings,
  },
});

describe('queue estimate', () => {
  it('uses the measured rate, capped by admitPerSecond', () => {
    expect(admissionRate(view({ rate: { count: 100, windowMs: 10_000 } }))).toBe(10);
    expect(admissionRate(view({ rate: { count: 5000, windowMs: 10_000 } }))).toBe(50);
    expect(estimate(view({ rate: { count: 100, windowMs: 10_000 } }), now).etaSeconds).toBe(10);
  });

  it('falls back to maxActive / activeTtlSeconds when nothing was measured', () => {
    expect(admissionRate(view())).toBeCloseTo(500 / 600);
    expect(estimate(view({ position: 5 }), now).etaSeconds).toBe(6);
  });

  it('polls between 1 and 30 s, longer for longer waits, within a third of the idle timeout', () => {
    const poll = (position: number, idle = 300) =>
      estimate(view({ position, rate: { count: 100, windowMs: 10_000 } }, { idleTimeoutSeconds: idle }), now)
        .pollAfterSeconds;
    expect(poll(1)).toBe(1);
    expect(poll(500)).toBe(5);
    expect(poll(100_000)).toBe(30);
    expect(poll(100_000, 30)).toBe(10);
    expect(poll(100_000, 5)).toBe(1);
  });

  it('before the opening, counts the time to it and asks to come back by then', () => {
    const pre = view({ state: 'PRE', position: 10 }, { opensAt: now + 7_000 });
    const result = estimate(pre, now);
    expect(result.etaSeconds).toBe(7 + Math.ceil(10 / (500 / 600)));
    expect(result.pollAfterSeconds).toBeLessThanOrEqual(7);
  });

  it('answers 0 s for ACTIVE', () => {
    expect(estimate(view({ state: 'ACTIVE', position: 0 }), now).etaSeconds).toBe(0);
  });
});
