import type { Logger } from '../logger.ts';

/**
 * Receives users who became ACTIVE at `at` (ms, the `now` of the store call that admitted them): the place
 * where queue.activated gets published. `at` is part of the event's identity, so the journal's sweep
 * (activation-journal.ts) and the caller that got the answer write the same fact.
 */
export type OnActivated = (concertId: string, userIds: string[], at: number) => void | Promise<void>;

/** Hands admitted users to the hook without awaiting it: an answer must not wait on the event bus. */
export function announceActivated(
  deps: { onActivated?: OnActivated | undefined; logger?: Logger | undefined },
  concertId: string,
  userIds: string[],
  at: number,
): void {
  if (userIds.length === 0 || !deps.onActivated) return;
  const report = (error: unknown) =>
    deps.logger?.error({ err: error, concertId, users: userIds.length }, 'queue.activated hook failed');
  try {
    const pending = deps.onActivated(concertId, userIds, at);
    if (pending) pending.catch(report);
  } catch (error) {
    report(error);
  }
}
