/**
 * The throwing form of the [queue] check, for the seat map (functions/list-seats) and the bench server
 * until they use `requireQueueAccess`; then this file goes. See require-queue-access.ts.
 */
export { queueTokenHeader } from './require-queue-access.ts';

export interface QueueAccessCheck {
  verify(accessToken: string | undefined, userId: string, concertId: string): Promise<unknown>;
  release(concertId: string, userId: string): Promise<void>;
}
