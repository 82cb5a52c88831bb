import type { Kysely } from 'kysely';
import type { Clock } from '../../shared/clock.ts';
import type { DB } from '../../shared/db/schema.ts';
import { AppError, type ErrorCode } from '../../shared/errors.ts';
import { runIdempotent, type StoredResponse } from '../../shared/idempotency/idempotency.ts';
import { credit, ledgerPage, readBalance } from '../../shared/points/wallet-store.ts';
import { ok, type Result, refused } from '../../shared/result.ts';

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

type ChargeRefusal = 'IDEMPOTENCY_KEY_REUSED' | 'IDEMPOTENCY_IN_PROGRESS';
const isChargeRefusal = (code: ErrorCode): code is ChargeRefusal =>
  code === 'IDEMPOTENCY_KEY_REUSED' || code === 'IDEMPOTENCY_IN_PROGRESS';

/**
 * Credits the points once per Idempotency-Key: a retry replays the first answer, and the same key with
 * another amount, or while its first request still runs, is refused.
 */
export async function chargePoints(
  deps: PointsDeps,
  input: { userId: string; amount: number; idempotencyKey: string },
): Promise<Result<StoredResponse<ChargeResult>, ChargeRefusal>> {
  const now = deps.clock.now();
  try {
    return ok(
      await runIdempotent<ChargeResult>(
        deps.db,
        {
          userId: input.userId,
          scope: 'points.charge',
          key: input.idempotencyKey,
          fingerprint: { amount: input.amount },
        },
        now,
        async (trx) => {
          const entry = await credit(trx, {
            userId: input.userId,
            amount: input.amount,
            type: 'CHARGE',
            now,
          });
          return {
            status: 201,
            body: { userId: input.userId, balance: entry.balanceAfter, chargeId: String(entry.id) },
          };
        },
      ),
    );
  } catch (error) {
    // shared/idempotency still throws the key's refusals; here they become the values callers check.
    if (error instanceof AppError && isChargeRefusal(error.code)) {
      return refused(error.code, error.message, error.extra);
    }
    throw error;
  }
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
