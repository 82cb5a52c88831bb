/**
 * Who comes to the opening and how they behave: arrival times around `opensAt` and a behaviour per fan,
 * drawn from one seeded generator so the same options give the same crowd on every run (two runs compared
 * side by side differ only in what the server does).
 */

/** mulberry32: small, fast, and good enough to draw a crowd; not for anything secret. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export type ArrivalCurve = 'spike' | 'uniform' | 'ramp';
export const arrivalCurves: readonly ArrivalCurve[] = ['spike', 'uniform', 'ramp'];

export interface ArrivalOptions {
  curve: ArrivalCurve;
  /** Seconds before `opensAt` when the first fans may come. */
  beforeSeconds: number;
  /** Seconds after `opensAt` when the last fans may come. */
  afterSeconds: number;
  /** spike: the share of fans who are already there before the opening. */
  earlyShare: number;
}

/**
 * Arrival offsets in milliseconds from `opensAt`, ascending, within [-before, +after].
 *
 * - spike: `earlyShare` wait before the opening (uniformly), the rest rush in right after it, their
 *   number decaying exponentially (a fifth of the window is the mean), as a sale announced for 20:00 does;
 * - uniform: evenly over the whole window;
 * - ramp: the rate grows linearly from nothing at the start of the window to its end.
 */
export function arrivalOffsets(count: number, options: ArrivalOptions, random: () => number): number[] {
  const before = options.beforeSeconds * 1000;
  const after = options.afterSeconds * 1000;
  const span = before + after;
  const draw = (): number => {
    switch (options.curve) {
      case 'uniform':
        return -before + random() * span;
      case 'ramp':
        // Inverse of the CDF x² of a density growing linearly over [0, 1].
        return -before + Math.sqrt(random()) * span;
      case 'spike': {
        if (random() < options.earlyShare || after === 0) return -before + random() * before;
        const mean = after / 5;
        // Truncated exponential: redraw the rare tail beyond the window instead of piling it on its edge.
        for (;;) {
          const at = -Math.log(1 - random()) * mean;
          if (at <= after) return at;
        }
      }
    }
  };
  return Array.from({ length: count }, draw)
    .map((at) => Math.round(at))
    .sort((a, b) => a - b);
}

export interface BehaviourMix {
  /** Share waiting on the SSE stream; the others poll the status at `pollAfterSeconds`. */
  sse: number;
  /** Share whose wallet is short of the price when they come to pay: they top up and pay again. */
  shortOfPoints: number;
  /** Share who look at the seat map and leave without holding. */
  abandonAtSeatMap: number;
  /** Share who hold a seat and never pay (the hold lapses by itself). */
  abandonAtPayment: number;
  /** Share whose first payment answer is lost (a client timeout): they retry with the same Idempotency-Key. */
  retryPay: number;
  /** Share who want a seat in the hot section (the front fifth of the hall) while one is left there. */
  hotSection: number;
}

export const defaultMix: BehaviourMix = {
  sse: 0.7,
  shortOfPoints: 0.2,
  abandonAtSeatMap: 0.05,
  abandonAtPayment: 0.05,
  retryPay: 0.1,
  hotSection: 0.6,
};

export interface FanPlan {
  index: number;
  /** Milliseconds from `opensAt` (negative: before the opening). */
  arriveAt: number;
  waitBy: 'sse' | 'poll';
  shortOfPoints: boolean;
  abandon: 'none' | 'seat-map' | 'payment';
  retryPay: boolean;
  wantsHotSection: boolean;
  /** Fixed per fan, so the seat a fan picks does not depend on how the other fans were scheduled. */
  seed: number;
}

/** Fans in arrival order, each with its behaviour; the same seed gives the same crowd. */
export function planFans(count: number, arrival: ArrivalOptions, mix: BehaviourMix, seed: number): FanPlan[] {
  const random = seededRandom(seed);
  const offsets = arrivalOffsets(count, arrival, random);
  const pick = (share: number) => random() < share;
  return offsets.map((arriveAt, index) => {
    const leaves = random();
    return {
      index,
      arriveAt,
      waitBy: pick(mix.sse) ? 'sse' : 'poll',
      shortOfPoints: pick(mix.shortOfPoints),
      abandon:
        leaves < mix.abandonAtSeatMap
          ? 'seat-map'
          : leaves < mix.abandonAtSeatMap + mix.abandonAtPayment
            ? 'payment'
            : 'none',
      retryPay: pick(mix.retryPay),
      wantsHotSection: pick(mix.hotSection),
      seed: Math.floor(random() * 2 ** 32),
    };
  });
}

/** The share of the hall, from the front, that fans preferring the hot section want. */
export const hotSectionShare = 0.2;
