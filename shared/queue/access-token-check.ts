import type { Clock } from '../clock.ts';
import type { QueueAccessCheck } from '../http/require-queue-access.ts';
import type { Logger } from '../logger.ts';
import { ok, type Result, refused } from '../result.ts';
import type { QueueRecords } from './queue-records.ts';
import type { QueueStore } from './queue-store.ts';
import type { AccessGrant, QueueTokens } from './queue-tokens.ts';
import { restoreFromToken } from './restore-from-token.ts';

export type QueueAccessRefusal = 'QUEUE_TOKEN_REQUIRED' | 'QUEUE_TOKEN_INVALID' | 'QUEUE_NOT_ACTIVE';

/** The waiting room's side of the [queue] guard (shared/http/require-queue-access.ts asks for it). */
export interface QueueAccess extends QueueAccessCheck {
  /**
   * Whether an access token lets a [queue] request through, with the slot's end: refused as
   * QUEUE_TOKEN_REQUIRED (no token), QUEUE_TOKEN_INVALID (not genuine, another user's or another
   * concert's), QUEUE_NOT_ACTIVE (expired, released after payment, or issued for an earlier activation).
   * One Redis lookup (ZSCORE) after the JWT check. An access the line lost with its data (the token is of
   * an earlier incarnation) stays valid until the token's end unless the database says it was used for a
   * payment; it is put back in the line then.
   */
  check(
    accessToken: string | undefined,
    userId: string,
    concertId: string,
  ): Promise<Result<{ activeUntil: number }, QueueAccessRefusal>>;
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

  const check: QueueAccess['check'] = async (accessToken, userId, concertId) => {
    if (!accessToken) {
      return refused(
        'QUEUE_TOKEN_REQUIRED',
        'X-Queue-Token with the access token from the queue is required',
      );
    }
    const now = deps.clock.now();
    const verified = await deps.tokens.verifyAccessToken(accessToken, now);
    if (!verified.ok) return verified;
    const grant = verified.value;
    if (grant.userId !== userId) return refused('QUEUE_TOKEN_INVALID', 'Queue access token is not yours');
    if (grant.concertId !== concertId) {
      return refused('QUEUE_TOKEN_INVALID', 'Queue access token is for another concert');
    }
    if (grant.expired) return notActive();
    const activeUntil = await deps.store.activeUntil(concertId, userId);
    // The token's exp is activeUntil rounded up to a second: another value means an earlier activation.
    if (
      activeUntil !== null &&
      activeUntil > now &&
      Math.ceil(activeUntil / 1000) * 1000 === grant.expiresAt
    ) {
      return ok({ activeUntil });
    }
    if (await restoreAccess(grant, now)) return ok({ activeUntil: grant.expiresAt });
    return notActive();
  };

  return {
    check,
    async release(concertId, userId) {
      await deps.store.release(concertId, userId);
    },
  };
}

function notActive() {
  return refused('QUEUE_NOT_ACTIVE', 'Your access from the queue has ended; enter the queue again');
}
