/**
 * What the [queue] endpoints need of the waiting room (implemented in shared/queue): the caller's
 * X-Queue-Token must be an access token for this user and concert, and the user must still be ACTIVE.
 */
export interface QueueAccessCheck {
  verify(accessToken: string | undefined, userId: string, concertId: string): Promise<unknown>;
  release(concertId: string, userId: string): Promise<void>;
}

export const queueTokenHeader = 'x-queue-token';
