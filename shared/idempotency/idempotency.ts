import { createHash } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import { isUniqueViolation, retryOnConflict } from '../db/errors.ts';
import type { DB } from '../db/schema.ts';
import { ok, type Result, refused } from '../result.ts';

export interface StoredResponse<T> {
  status: number;
  body: T;
  replayed: boolean;
}

export interface IdempotentRequest {
  userId: string;
  scope: string;
  key: string;
  /** What makes two requests "the same": method, path and body, canonicalised by the caller. */
  fingerprint: unknown;
}

/** A key's refusals: it came with another request, or its first request has not finished. */
export type IdempotencyRefusal = 'IDEMPOTENCY_KEY_REUSED' | 'IDEMPOTENCY_IN_PROGRESS';

export type Idempotent<T> = Result<T, IdempotencyRefusal>;

export function requestHash(fingerprint: unknown): string {
  return createHash('sha256').update(JSON.stringify(fingerprint)).digest('hex');
}

/**
 * Runs `work` at most once per (user, scope, key). The key's record is inserted in the same transaction
 * as the work, so a concurrent duplicate blocks on the unique key until the first commits, then replays
 * its stored answer; a refusal of the key is returned, not thrown. A request that failed with an expected outcome (e.g. INSUFFICIENT_POINTS) rolled
 * back and stored nothing: retrying the same key performs it then.
 */
export async function runIdempotent<T>(
  db: Kysely<DB>,
  request: IdempotentRequest,
  now: number,
  work: (trx: Transaction<DB>) => Promise<{ status: number; body: T }>,
): Promise<Idempotent<StoredResponse<T>>> {
  const hash = requestHash(request.fingerprint);
  try {
    return await retryOnConflict(() =>
      db.transaction().execute(async (trx) => {
        await trx
          .insertInto('idempotency_records')
          .values({
            user_id: request.userId,
            scope: request.scope,
            idem_key: request.key,
            request_hash: hash,
            status_code: null,
            response_body: null,
            created_at: now,
          })
          .execute();
        const result = await work(trx);
        await trx
          .updateTable('idempotency_records')
          .set({ status_code: result.status, response_body: JSON.stringify(result.body) })
          .where('user_id', '=', request.userId)
          .where('scope', '=', request.scope)
          .where('idem_key', '=', request.key)
          .execute();
        return ok({ ...result, replayed: false });
      }),
    );
  } catch (error) {
    if (!isUniqueViolation(error)) throw error;
    return replayAfterDuplicate<T>(db, request, error);
  }
}

/**
 * The key's record already existed (a duplicate on insert): the stored answer of that request, or 409
 * when the key came with another request, or "still running" when it has not finished. A duplicate that
 * was not the key's (another unique key of the work itself) is rethrown.
 */
export async function replayAfterDuplicate<T>(
  db: Kysely<DB>,
  request: IdempotentRequest,
  duplicate: unknown,
): Promise<Idempotent<StoredResponse<T>>> {
  const stored = await storedRecord(db, request);
  if (!stored) throw duplicate;
  const answer = storedAnswer<T>(stored, request);
  if (!answer.ok || answer.value) return answer as Idempotent<StoredResponse<T>>;
  return refused('IDEMPOTENCY_IN_PROGRESS', 'A request with this Idempotency-Key is still running', {
    retryAfterSeconds: 1,
  });
}

function storedRecord(db: Kysely<DB>, request: IdempotentRequest) {
  return db
    .selectFrom('idempotency_records')
    .select(['request_hash', 'status_code', 'response_body'])
    .where('user_id', '=', request.userId)
    .where('scope', '=', request.scope)
    .where('idem_key', '=', request.key)
    .executeTakeFirst();
}

/** The record's answer; refused when the key came with another request; null while it is still running. */
export function storedAnswer<T>(
  stored: { request_hash: string; status_code: number | null; response_body: string | null },
  request: IdempotentRequest,
): Idempotent<StoredResponse<T> | null> {
  if (stored.request_hash !== requestHash(request.fingerprint)) {
    return refused('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was used with a different request');
  }
  if (stored.status_code === null || stored.response_body === null) return ok(null);
  return ok({ status: stored.status_code, body: JSON.parse(stored.response_body) as T, replayed: true });
}
