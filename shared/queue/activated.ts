import type { Logger } from '../logger.ts';

/** Receives users who became ACTIVE: the place where queue.activated gets published. */
export type OnActivated = (concertId: string, userIds: string[]) => void | Promise<void>;

/** Hands admitted users to the hook without awaiting it: an answer must not wait on the event bus. */
export function announceActivated(
  deps: { onActivated?: OnActivated | undefined; logger?: Logger | undefined },
  concertId: string,
  userIds: string[],
): void {
  if (userIds.length === 0 || !deps.onActivated) return;
  const report = (error: unknown) =>
    deps.logger?.error({ err: error, concertId, users: userIds.length }, 'queue.activated hook failed');
  try {
    const pending = deps.onActivated(concertId, userIds);
    if (pending) pending.catch(report);
  } catch (error) {
    report(error);
  }
}
