import type { Clock } from '../../shared/clock.ts';
import type { Idempotent, StoredResponse } from '../../shared/idempotency/idempotency.ts';
import type { ChargeResult, WalletStore } from '../../shared/points/wallet-store.ts';

export type { ChargeResult } from '../../shared/points/wallet-store.ts';

export interface PointsDeps {
  wallets: WalletStore;
  clock: Clock;
}

export async function getBalance(deps: PointsDeps, userId: string) {
  return { userId, balance: await deps.wallets.balance(userId) };
}

/**
 * Credits the points once per Idempotency-Key: a retry replays the first answer, and the same key with
 * another amount, or while its first request still runs, is refused.
 */
export function chargePoints(
  deps: PointsDeps,
  input: { userId: string; amount: number; idempotencyKey: string },
): Promise<Idempotent<StoredResponse<ChargeResult>>> {
  return deps.wallets.charge({ ...input, now: deps.clock.now() });
}

/**
 * A history cursor is the id of the last entry a page showed, in decimal: the OpenAPI pattern then
 * describes exactly the cursors the API accepts, and every value it allows is a valid place to resume.
 */
export const historyCursorPattern = /^[0-9]{1,15}$/;

export function encodeCursor(id: number): string {
  return String(id);
}

export function decodeCursor(cursor: string): number {
  return Number(cursor);
}

export async function pointHistory(
  deps: PointsDeps,
  input: { userId: string; limit: number; beforeId?: number },
) {
  const page = await deps.wallets.history(input);
  const last = page.entries.at(-1);
  return {
    items: page.entries.map((e) => ({
      id: String(e.id),
      type: e.type,
      amount: e.amount,
      balanceAfter: e.balanceAfter,
      at: new Date(e.at).toISOString(),
    })),
    nextCursor: page.more && last ? encodeCursor(last.id) : null,
  };
}
