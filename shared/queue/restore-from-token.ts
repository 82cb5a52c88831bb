import type { Logger } from '../logger.ts';
import type { QueueRecords } from './queue-records.ts';
import type { QueueStore, RestoreClaim } from './queue-store.ts';

/** What a signed queue or access token tells about the entry it was issued for. */
export interface TokenOrigin {
  concertId: string;
  userId: string;
  /** The line's incarnation when the token was issued ('' for tokens older than incarnations). */
  epoch: string;
  issuedAt: number;
}

export interface RestoreDeps {
  store: Pick<QueueStore, 'restore'>;
  records?: Pick<QueueRecords, 'paidSince'> | undefined;
  logger?: Logger | undefined;
}

/**
 * Puts back an entry the line lost with its data (ADR 2, "Losing Redis"): only for a token of an earlier
 * incarnation, since in the current one a missing entry was removed by the rules, and never for a token
 * the database shows was already used for a payment.
 */
export async function restoreFromToken(
  deps: RestoreDeps,
  token: TokenOrigin,
  currentEpoch: string,
  claim: RestoreClaim,
  now: number,
): Promise<boolean> {
  if (token.epoch === '' || token.epoch === currentEpoch) return false;
  if (await deps.records?.paidSince(token.concertId, token.userId, token.issuedAt)) return false;
  const restored = await deps.store.restore(token.concertId, token.userId, claim, now);
  if (restored) {
    deps.logger?.info(
      { concertId: token.concertId, userId: token.userId, claim: claim.kind },
      'queue entry restored from its token after the line lost its data',
    );
  }
  return restored;
}
