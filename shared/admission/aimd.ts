import type { AdmissionChange } from '../queue/queue-store.ts';
import type { ShopHealth } from './shop-health.ts';

/**
 * The adaptive admission controller, pure: one decision per tick from the shop's health over the last
 * window. Additive increase while holds and payments are healthy and fans are waiting, multiplicative
 * decrease on trouble, within the concert's bounds (docs/adr/0010-adaptive-admission.md says why).
 */
export interface AimdConfig {
  /** p99 of holds and of payments over the window above which the shop is in trouble. */
  holdP99BudgetMs: number;
  payP99BudgetMs: number;
  /** 503s (hold and pay together) the window may hold before it counts as trouble. */
  max503: number;
  /** Mean of (connections in use + requests waiting for one) / pool size at or above which it is trouble. */
  poolSaturation: number;
  /** A p99 of fewer requests says too little to act on. */
  minSamples: number;
  /** Each raise adds this share of (max - min), at least 1 a second. */
  increaseFraction: number;
  /** Each cut multiplies the rate by it. */
  decreaseFactor: number;
  /** No raise within this time of the last change, and no cut within it of the last cut. */
  cooldownMs: number;
}

export const defaultAimdConfig: AimdConfig = {
  holdP99BudgetMs: 250,
  payP99BudgetMs: 500,
  max503: 0,
  poolSaturation: 1,
  minSamples: 20,
  increaseFraction: 0.05,
  decreaseFactor: 0.7,
  cooldownMs: 5000,
};

export interface AimdState {
  /** admitPerSecond now. */
  rate: number;
  min: number;
  max: number;
  /** Fans waiting in line: raising the rate means nothing while nobody waits. */
  waiting: number;
  lastChange: AdmissionChange | null;
  changedAt: number | null;
}

export interface AimdDecision {
  rate: number;
  /** null: the rate stays. */
  change: AdmissionChange | null;
  reason: string;
}

/** What is wrong with the shop, one phrase per signal over its limit; empty when healthy. */
export function troubles(config: AimdConfig, health: ShopHealth): string[] {
  const found: string[] = [];
  if (health.unavailable > config.max503)
    found.push(`${health.unavailable} × 503 in ${health.windowSeconds} s`);
  const latency = [
    ['hold', health.hold, config.holdP99BudgetMs],
    ['pay', health.pay, config.payP99BudgetMs],
  ] as const;
  for (const [name, route, budget] of latency) {
    if (route.p99Ms !== null && route.count >= config.minSamples && route.p99Ms > budget)
      found.push(`${name} p99 ${route.p99Ms} ms > budget ${budget} ms`);
  }
  if (health.poolSaturation !== null && health.poolSaturation >= config.poolSaturation)
    found.push(`db pool saturation ${health.poolSaturation.toFixed(2)} ≥ ${config.poolSaturation}`);
  return found;
}

function healthy(health: ShopHealth): string {
  if (health.hold.p99Ms === null && health.pay.p99Ms === null)
    return `no holds or payments in ${health.windowSeconds} s`;
  const p99 = (route: ShopHealth['hold']) => (route.p99Ms === null ? 'none' : `${route.p99Ms} ms`);
  return `hold p99 ${p99(health.hold)}, pay p99 ${p99(health.pay)}`;
}

export function decide(config: AimdConfig, state: AimdState, health: ShopHealth, now: number): AimdDecision {
  const { min, max } = state;
  if (state.rate < min || state.rate > max) {
    const rate = Math.min(max, Math.max(min, state.rate));
    return { rate, change: rate > state.rate ? 'raise' : 'cut', reason: `clamped into ${min}..${max}` };
  }
  const since = state.changedAt === null ? Number.POSITIVE_INFINITY : now - state.changedAt;
  const cooled = since >= config.cooldownMs;
  const trouble = troubles(config, health);
  if (trouble.length > 0) {
    const what = trouble.join(', ');
    if (state.rate <= min) return { rate: state.rate, change: null, reason: `at minimum: ${what}` };
    // A cut right after a raise undoes it at once; after a cut the window must first show its effect.
    if (state.lastChange === 'cut' && !cooled)
      return { rate: state.rate, change: null, reason: `cooling down: ${what}` };
    const rate = Math.max(min, Math.min(state.rate - 1, Math.floor(state.rate * config.decreaseFactor)));
    return { rate, change: 'cut', reason: `cut: ${what}` };
  }
  if (state.waiting === 0) return { rate: state.rate, change: null, reason: 'steady: nobody waiting' };
  if (state.rate >= max) return { rate: state.rate, change: null, reason: `at maximum: ${healthy(health)}` };
  if (!cooled) return { rate: state.rate, change: null, reason: `cooling down: ${healthy(health)}` };
  const step = Math.max(1, Math.round((max - min) * config.increaseFraction));
  return {
    rate: Math.min(max, state.rate + step),
    change: 'raise',
    reason: `raised: healthy, ${healthy(health)}`,
  };
}
