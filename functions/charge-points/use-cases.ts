import type { Kysely } from 'kysely';
import type { Clock } from '../../shared/clock.ts';
import type { DB } from '../../shared/db/schema.ts';
import { runIdempotent } from '../../shared/idempotency/idempotency.ts';
import { credit, ledgerPage, readBalance } from '../../shared/points/wallet-store.ts';

export interface PointsDeps {
  db: Kysely<DB>;
  clock: Clock;
}

export interface ChargeResult {
  userId: string;
  balance: number;
  chargeId: string;
}

export async function getBalance(deps: PointsDeps, userId: string) {
  return { userId, balance: await readBalance(deps.db, userId) };
}

export async function chargePoints(
  deps: PointsDeps,
  input: { userId: string; amount: number; idempotencyKey: string },
) {
  const now = deps.clock.now();
  return runIdempotent<ChargeResult>(
    deps.db,
    {
      userId: input.userId,
      scope: 'points.charge',
      key: input.idempotencyKey,
      fingerprint: { amount: input.amount },
    },
    now,
    async (trx) => {
      const entry = await credit(trx, { userId: input.userId, amount: input.amount, type: 'CHARGE', now });
      return {
        status: 201,
        body: { userId: input.userId, balance: entry.balanceAfter, chargeId: String(entry.id) },
      };
    },
  );
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
  const page = await ledgerPage(deps.db, input);
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
