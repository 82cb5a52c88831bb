import type { QueueView } from './queue-store.ts';

export interface Estimate {
  etaSeconds: number;
  pollAfterSeconds: number;
}

/** Slowest a client is told to poll; never longer than a third of the idle timeout, so obeying keeps the place. */
export const maxPollSeconds = 30;

/**
 * Admissions per second: measured over the last 10–20 s when any happened, else the conservative floor
 * of every ACTIVE slot turning over once per TTL. Never above admitPerSecond, which bounds admissions.
 */
export function admissionRate(view: Pick<QueueView, 'rate' | 'settings'>): number {
  const { maxActive, activeTtlSeconds, admitPerSecond } = view.settings;
  const measured = view.rate.count > 0 ? (view.rate.count * 1000) / view.rate.windowMs : 0;
  const rate = measured > 0 ? measured : maxActive / activeTtlSeconds;
  return Math.min(rate, admitPerSecond);
}

/** ETA from the measured admission rate, and a poll interval between 1 and 30 s that grows with it. */
export function estimate(view: QueueView, now: number): Estimate {
  const idleCap = Math.max(1, Math.floor(view.settings.idleTimeoutSeconds / 3));
  if (view.state === 'ACTIVE') return { etaSeconds: 0, pollAfterSeconds: Math.min(maxPollSeconds, idleCap) };
  const rate = admissionRate(view);
  const untilOpen =
    view.state === 'PRE' && view.settings.opensAt !== null
      ? Math.max(0, view.settings.opensAt - now) / 1000
      : 0;
  const etaSeconds = Math.ceil(untilOpen + view.position / rate);
  let poll = Math.min(maxPollSeconds, idleCap, Math.max(1, Math.ceil(etaSeconds / 10)));
  // Before the opening, come back by the opening: that is when the place is drawn.
  if (untilOpen > 0) poll = Math.min(poll, Math.max(1, Math.ceil(untilOpen)));
  return { etaSeconds, pollAfterSeconds: poll };
}
