import type { Clock } from '../clock.ts';
import { AppError } from '../errors.ts';
import type { QueueAccessCheck } from '../http/queue-access.ts';
import type { Logger } from '../logger.ts';
import type { QueueRecords } from './queue-records.ts';
import type { QueueStore } from './queue-store.ts';
import type { AccessGrant, QueueTokens } from './queue-tokens.ts';
import { restoreFromToken } from './restore-from-token.ts';

export { queueTokenHeader } from '../http/queue-access.ts';

/** The shape shared/http/queue-access.ts's QueueAccessCheck asks for, with the slot's end as the answer. */
export interface QueueAccess extends QueueAccessCheck {
  /**
   * Lets a [queue] request through, or throws: QUEUE_TOKEN_REQUIRED (no token), QUEUE_TOKEN_INVALID
   * (not genuine, another user's or another concert's), QUEUE_NOT_ACTIVE (expired, released after
   * payment, or issued for an earlier activation). One Redis lookup (ZSCORE) after the JWT check.
   * An access the line lost with its data (the token is of an earlier incarnation) stays valid until the
   * token's end unless the database says it was used for a payment; it is put back in the line then.
   */
  verify(
    accessToken: string | undefined,
    userId: string,
    concertId: string,
  ): Promise<{ activeUntil: number }>;
  /** Ends the user's ACTIVE slot (the payment succeeded): their access token is refused from then on. */
  release(concertId: string, userId: string): Promise<void>;
}

export function createQueueAccess(deps: {
  tokens: QueueTokens;
  store: QueueStore;
  clock: Clock;
  records?: Pick<QueueRecords, 'paidSince'> | undefined;
  logger?: Logger | undefined;
}): QueueAccess {
  const restoreAccess = async (grant: AccessGrant, now: number) =>
    restoreFromToken(
      deps,
      grant,
      await deps.store.epoch(grant.concertId),
      { kind: 'access', epoch: grant.epoch, activeUntil: grant.expiresAt },
      now,
    );

  return {
    async verify(accessToken, userId, concertId) {
      if (!accessToken) {
        throw new AppError(
          'QUEUE_TOKEN_REQUIRED',
          'X-Queue-Token with the access token from the queue is required',
        );
      }
      const now = deps.clock.now();
      const grant = await deps.tokens.verifyAccessToken(accessToken, now);
      if (grant.userId !== userId)
        throw new AppError('QUEUE_TOKEN_INVALID', 'Queue access token is not yours');
      if (grant.concertId !== concertId) {
        throw new AppError('QUEUE_TOKEN_INVALID', 'Queue access token is for another concert');
      }
      if (grant.expired) throw notActive();
      const activeUntil = await deps.store.activeUntil(concertId, userId);
      // The token's exp is activeUntil rounded up to a second: another value means an earlier activation.
      if (
        activeUntil !== null &&
        activeUntil > now &&
        Math.ceil(activeUntil / 1000) * 1000 === grant.expiresAt
      ) {
        return { activeUntil };
      }
      if (await restoreAccess(grant, now)) return { activeUntil: grant.expiresAt };
      throw notActive();
    },

    async release(concertId, userId) {
      await deps.store.release(concertId, userId);
    },
  };
}

function notActive() {
  return new AppError('QUEUE_NOT_ACTIVE', 'Your access from the queue has ended; enter the queue again');
}
