import type { Kysely, Transaction } from 'kysely';
import { dialectOf } from '../db/dialect.ts';
import type { DB, LedgerType } from '../db/schema.ts';
import { type Idempotent, runIdempotent, type StoredResponse } from '../idempotency/idempotency.ts';

type Executor = Kysely<DB> | Transaction<DB>;

export interface LedgerEntry {
  id: number;
  type: LedgerType;
  amount: number;
  balanceAfter: number;
  at: number;
}

export async function readBalance(db: Executor, userId: string): Promise<number> {
  const row = await db
    .selectFrom('point_wallets')
    .select('balance')
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return row ? Number(row.balance) : 0;
}

/**
 * Adds to a wallet, creating it on first use. The upsert takes the wallet's row lock, so concurrent
 * charges of one user serialize here and every ledger row carries the exact balance after it.
 */
export async function credit(
  trx: Transaction<DB>,
  input: { userId: string; amount: number; type: LedgerType; now: number },
): Promise<LedgerEntry> {
  const row = { user_id: input.userId, balance: input.amount, updated_at: input.now };
  if (dialectOf(trx) === 'sqlite') {
    await trx
      .insertInto('point_wallets')
      .values(row)
      .onConflict((oc) =>
        oc.column('user_id').doUpdateSet((eb) => ({
          balance: eb('point_wallets.balance', '+', input.amount),
          updated_at: input.now,
        })),
      )
      .execute();
  } else {
    await trx
      .insertInto('point_wallets')
      .values(row)
      .onDuplicateKeyUpdate((eb) => ({ balance: eb('balance', '+', input.amount), updated_at: input.now }))
      .execute();
  }
  return appendLedger(trx, { ...input, balanceAfter: await readBalance(trx, input.userId) });
}

/** Takes `amount` only if the balance covers it; returns null (and changes nothing) when it does not. */
export async function debit(
  trx: Transaction<DB>,
  input: { userId: string; amount: number; now: number },
): Promise<LedgerEntry | null> {
  const result = await trx
    .updateTable('point_wallets')
    .set((eb) => ({ balance: eb('balance', '-', input.amount), updated_at: input.now }))
    .where('user_id', '=', input.userId)
    .where('balance', '>=', input.amount)
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) !== 1) return null;
  return appendLedger(trx, {
    userId: input.userId,
    amount: input.amount,
    type: 'USE',
    now: input.now,
    balanceAfter: await readBalance(trx, input.userId),
  });
}

async function appendLedger(
  trx: Transaction<DB>,
  input: { userId: string; amount: number; type: LedgerType; now: number; balanceAfter: number },
): Promise<LedgerEntry> {
  const inserted = await trx
    .insertInto('point_ledger')
    .values({
      user_id: input.userId,
      type: input.type,
      amount: input.amount,
      balance_after: input.balanceAfter,
      created_at: input.now,
    })
    .executeTakeFirstOrThrow();
  return {
    id: Number(inserted.insertId),
    type: input.type,
    amount: input.amount,
    balanceAfter: input.balanceAfter,
    at: input.now,
  };
}

export async function ledgerPage(
  db: Executor,
  input: { userId: string; limit: number; beforeId?: number | undefined },
): Promise<{ entries: LedgerEntry[]; more: boolean }> {
  let query = db
    .selectFrom('point_ledger')
    .select(['id', 'type', 'amount', 'balance_after', 'created_at'])
    .where('user_id', '=', input.userId);
  if (input.beforeId !== undefined) query = query.where('id', '<', input.beforeId);
  const rows = await query
    .orderBy('id', 'desc')
    .limit(input.limit + 1)
    .execute();
  return {
    more: rows.length > input.limit,
    entries: rows.slice(0, input.limit).map((r) => ({
      id: Number(r.id),
      type: r.type,
      amount: Number(r.amount),
      balanceAfter: Number(r.balance_after),
      at: Number(r.created_at),
    })),
  };
}

export async function ledgerSum(db: Executor, userId: string): Promise<number> {
  const rows = await db
    .selectFrom('point_ledger')
    .select(['type', 'amount'])
    .where('user_id', '=', userId)
    .execute();
  return rows.reduce((sum, r) => sum + (r.type === 'USE' ? -Number(r.amount) : Number(r.amount)), 0);
}

export interface ChargeResult {
  userId: string;
  balance: number;
  chargeId: string;
}

/** The points function's port on wallets: the only place its use cases read or change them. */
export interface WalletStore {
  balance(userId: string): Promise<number>;
  history(input: { userId: string; limit: number; beforeId?: number }): Promise<{
    entries: LedgerEntry[];
    more: boolean;
  }>;
  /**
   * Credits `amount` once per Idempotency-Key: a retry replays the first answer, and the same key with
   * another amount, or while its first request still runs, is refused.
   */
  charge(input: {
    userId: string;
    amount: number;
    idempotencyKey: string;
    now: number;
  }): Promise<Idempotent<StoredResponse<ChargeResult>>>;
}

export function walletStoreFor(db: Kysely<DB>): WalletStore {
  return {
    balance: (userId) => readBalance(db, userId),
    history: (input) => ledgerPage(db, input),
    charge: ({ userId, amount, idempotencyKey, now }) =>
      runIdempotent<ChargeResult>(
        db,
        { userId, scope: 'points.charge', key: idempotencyKey, fingerprint: { amount } },
        now,
        async (trx) => {
          const entry = await credit(trx, { userId, amount, type: 'CHARGE', now });
          return { status: 201, body: { userId, balance: entry.balanceAfter, chargeId: String(entry.id) } };
        },
      ),
  };
}
