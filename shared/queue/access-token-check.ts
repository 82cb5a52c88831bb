import { LRUCache } from 'lru-cache';
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
   * One Redis lookup (ZSCORE) after the JWT check, and none for the same slot again within
   * `confirmForMs` (see createQueueAccess). An access the line lost with its data (the token is of
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

/** How long a slot the line confirmed is taken as still ACTIVE without asking again. */
export const defaultConfirmForMs = 1000;

interface Confirmed {
  /** The access token's end: a token of another activation is not this confirmation's. */
  expiresAt: number;
  activeUntil: number;
  confirmedAt: number;
}

/**
 * A user who got through once sends request after request (seat map, holds, a stampede's retries), and
 * the answer to "still ACTIVE?" is the same for all of them in the same second. So a slot the line
 * confirmed is remembered for `confirmForMs` (bounded, least recently used out first), for that user,
 * concert and token, and never past its activeUntil. A release in this process forgets it at once; a
 * release (payment) in another process is seen within `confirmForMs`. Seat holds and payments are still
 * decided by the database.
 */
export function createQueueAccess(deps: {
  tokens: QueueTokens;
  store: QueueStore;
  clock: Clock;
  records?: Pick<QueueRecords, 'paidSince'> | undefined;
  logger?: Logger | undefined;
  /** 0: ask the line on every request. */
  confirmForMs?: number;
}): QueueAccess {
  const confirmForMs = deps.confirmForMs ?? defaultConfirmForMs;
  const confirmed = confirmForMs > 0 ? new LRUCache<string, Confirmed>({ max: 50_000 }) : null;
  // Bumped by every release here: a lookup that overlapped one must not remember what it read before it.
  let releases = 0;
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
    const slot = `${concertId}\0${userId}`;
    const known = confirmed?.get(slot);
    if (
      known !== undefined &&
      known.expiresAt === grant.expiresAt &&
      now < known.confirmedAt + confirmForMs &&
      known.activeUntil > now
    ) {
      return ok({ activeUntil: known.activeUntil });
    }
    const releasesBefore = releases;
    const activeUntil = await deps.store.activeUntil(concertId, userId);
    // The token's exp is activeUntil rounded up to a second: another value means an earlier activation.
    if (
      activeUntil !== null &&
      activeUntil > now &&
      Math.ceil(activeUntil / 1000) * 1000 === grant.expiresAt
    ) {
      if (releases === releasesBefore) {
        confirmed?.set(slot, { expiresAt: grant.expiresAt, activeUntil, confirmedAt: now });
      }
      return ok({ activeUntil });
    }
    if (await restoreAccess(grant, now)) return ok({ activeUntil: grant.expiresAt });
    return notActive();
  };

  return {
    check,
    async release(concertId, userId) {
      releases++;
      confirmed?.delete(`${concertId}\0${userId}`);
      await deps.store.release(concertId, userId);
    },
  };
}

function notActive() {
  return refused('QUEUE_NOT_ACTIVE', 'Your access from the queue has ended; enter the queue again');
}
