import { describe, expect, it } from 'vitest';
import { type AimdConfig, type AimdState, decide, defaultAimdConfig } from './aimd.ts';
import type { ShopHealth } from './shop-health.ts';

const config: AimdConfig = { ...defaultAimdConfig, holdP99BudgetMs: 100, payP99BudgetMs: 200 };

const quiet = (over: Partial<ShopHealth> = {}): ShopHealth => ({
  windowSeconds: 5,
  hold: { count: 100, p99Ms: 40 },
  pay: { count: 100, p99Ms: 60 },
  unavailable: 0,
  poolSaturation: 0.4,
  ...over,
});

const state = (over: Partial<AimdState> = {}): AimdState => ({
  rate: 50,
  min: 5,
  max: 205,
  waiting: 1000,
  lastChange: null,
  changedAt: null,
  ...over,
});

describe('AIMD admission controller', () => {
  it('raises by a share of the span while healthy and fans wait, and says so', () => {
    expect(decide(config, state(), quiet(), 0)).toEqual({
      rate: 60,
      change: 'raise',
      reason: 'raised: healthy, hold p99 40 ms, pay p99 60 ms',
    });
  });

  it('cuts multiplicatively on each kind of trouble, naming it', () => {
    const cut = (health: ShopHealth) => decide(config, state({ rate: 100 }), health, 0);
    expect(cut(quiet({ hold: { count: 100, p99Ms: 180 } }))).toEqual({
      rate: 70,
      change: 'cut',
      reason: 'cut: hold p99 180 ms > budget 100 ms',
    });
    expect(cut(quiet({ pay: { count: 50, p99Ms: 900 } })).reason).toBe('cut: pay p99 900 ms > budget 200 ms');
    expect(cut(quiet({ unavailable: 3 })).reason).toBe('cut: 3 × 503 in 5 s');
    expect(cut(quiet({ poolSaturation: 1.25 })).reason).toBe('cut: db pool saturation 1.25 ≥ 1');
    expect(cut(quiet({ unavailable: 1, hold: { count: 30, p99Ms: 101 } })).reason).toBe(
      'cut: 1 × 503 in 5 s, hold p99 101 ms > budget 100 ms',
    );
  });

  it('does not judge a p99 of a handful of requests', () => {
    expect(decide(config, state(), quiet({ hold: { count: 19, p99Ms: 5000 } }), 0).change).toBe('raise');
  });

  it('stays within the bounds, and brings a rate outside them back', () => {
    expect(decide(config, state({ rate: 200 }), quiet(), 0).rate).toBe(205);
    expect(decide(config, state({ rate: 205 }), quiet(), 0)).toMatchObject({ rate: 205, change: null });
    expect(decide(config, state({ rate: 6 }), quiet({ unavailable: 9 }), 0).rate).toBe(5);
    expect(decide(config, state({ rate: 5 }), quiet({ unavailable: 9 }), 0)).toEqual({
      rate: 5,
      change: null,
      reason: 'at minimum: 9 × 503 in 5 s',
    });
    expect(decide(config, state({ rate: 400 }), quiet(), 0)).toEqual({
      rate: 205,
      change: 'cut',
      reason: 'clamped into 5..205',
    });
  });

  it('raises only after the cooldown, cuts after a raise at once but after a cut only after the cooldown', () => {
    const raised = state({ lastChange: 'raise', changedAt: 10_000 });
    expect(decide(config, raised, quiet(), 14_999)).toMatchObject({ change: null, rate: 50 });
    expect(decide(config, raised, quiet(), 15_000).change).toBe('raise');
    const trouble = quiet({ unavailable: 1 });
    expect(decide(config, raised, trouble, 10_001).change).toBe('cut');
    const cut = state({ lastChange: 'cut', changedAt: 10_000 });
    expect(decide(config, cut, trouble, 14_999)).toMatchObject({
      change: null,
      reason: 'cooling down: 1 × 503 in 5 s',
    });
    expect(decide(config, cut, trouble, 15_000).change).toBe('cut');
  });

  it('leaves the rate alone while nobody waits', () => {
    expect(decide(config, state({ waiting: 0 }), quiet(), 0)).toEqual({
      rate: 50,
      change: null,
      reason: 'steady: nobody waiting',
    });
  });
});

/**
 * A shop whose latency rises with the load admitted fans put on it: each fan admitted at second t holds a
 * seat at t+1 and pays at t+2; p99 grows as 1/(1 - utilisation) and requests over capacity are shed as
 * 503s. A fault divides the capacity for a while. Deterministic: no clock, no randomness.
 */
function simulate(options: { seconds: number; capacity: (t: number) => number; start: number }) {
  const base = 20;
  const admitted: number[] = [];
  const p99: number[] = [];
  const shed: number[] = [];
  const load: number[] = [];
  const rates: number[] = [];
  let s = state({ rate: options.start, min: 5, max: 305 });
  for (let t = 0; t < options.seconds; t++) {
    const window = Array.from({ length: 5 }, (_, i) => t - 1 - i).filter((i) => i >= 0);
    const health: ShopHealth = {
      windowSeconds: 5,
      hold: {
        count: window.reduce((n, i) => n + load[i]! / 2, 0),
        p99Ms: Math.max(0, ...window.map((i) => p99[i]!)),
      },
      pay: {
        count: window.reduce((n, i) => n + load[i]! / 2, 0),
        p99Ms: Math.max(0, ...window.map((i) => p99[i]!)),
      },
      unavailable: window.reduce((n, i) => n + shed[i]!, 0),
      poolSaturation: null,
    };
    const d = decide(config, s, health, t * 1000);
    if (d.change) s = { ...s, rate: d.rate, lastChange: d.change, changedAt: t * 1000 };
    rates.push(s.rate);
    admitted.push(s.rate);
    const requests = (admitted[t - 1] ?? 0) + (admitted[t - 2] ?? 0);
    const capacity = options.capacity(t);
    const utilisation = requests / capacity;
    load.push(requests);
    p99.push(utilisation < 0.98 ? Math.round(base / (1 - utilisation)) : 5000);
    shed.push(Math.max(0, Math.floor(requests - capacity)));
  }
  const overBudget = (from: number, to: number) =>
    p99.slice(from, to).filter((ms) => ms > config.holdP99BudgetMs).length / (to - from);
  const median = (from: number, to: number) =>
    p99.slice(from, to).sort((a, b) => a - b)[Math.floor((to - from) / 2)]!;
  const mean = (from: number, to: number) => rates.slice(from, to).reduce((a, b) => a + b, 0) / (to - from);
  return { rates, p99, overBudget, mean, median };
}

describe('AIMD against a simulated shop', () => {
  // Capacity 200 requests/s, two requests per fan: p99 reaches the 100 ms budget at 80 % utilisation,
  // 80 admissions a second. The fault halves capacity (knee 40/s) from 300 s to 420 s.
  const run = simulate({ seconds: 600, start: 10, capacity: (t) => (t >= 300 && t < 420 ? 100 : 200) });

  it('climbs from a low start and settles below the budget', () => {
    expect(run.rates.slice(0, 60).some((r) => r >= 60)).toBe(true);
    expect(run.overBudget(120, 300)).toBeLessThan(0.15);
    expect(run.median(120, 300)).toBeLessThan(config.holdP99BudgetMs);
    expect(run.mean(120, 300)).toBeGreaterThan(45);
    expect(Math.max(...run.rates.slice(120, 300))).toBeLessThan(120);
  });

  it("cuts below the faulty shop's knee and keeps it mostly within budget", () => {
    expect(Math.min(...run.rates.slice(300, 330))).toBeLessThanOrEqual(40);
    expect(run.overBudget(330, 420)).toBeLessThan(0.2);
    expect(run.median(330, 420)).toBeLessThan(config.holdP99BudgetMs);
  });

  it('recovers after the fault', () => {
    expect(Math.max(...run.rates.slice(420, 480))).toBeGreaterThanOrEqual(60);
    expect(run.overBudget(480, 600)).toBeLessThan(0.15);
    expect(run.mean(480, 600)).toBeGreaterThan(45);
  });
});
