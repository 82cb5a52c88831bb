/** A UNIQUE or PRIMARY KEY violation, on MySQL/MariaDB (ER_DUP_ENTRY) or SQLite. */
export function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: unknown; errno?: unknown; message?: unknown } | null;
  if (!e) return false;
  if (e.code === 'ER_DUP_ENTRY' || e.errno === 1062) return true;
  return typeof e.message === 'string' && e.message.includes('UNIQUE constraint failed');
}

/** InnoDB chose this transaction as a deadlock victim (or gave up waiting): it rolled back and may be rerun. */
export function isRetryableConflict(error: unknown): boolean {
  const e = error as { code?: unknown; errno?: unknown } | null;
  return e?.code === 'ER_LOCK_DEADLOCK' || e?.errno === 1213;
}

/** Reruns a whole transaction that lost a deadlock; it was rolled back, so rerunning cannot double-apply. */
/**
 * Each round of a pile-up (several requests waiting on one key) lets at least one through, so a few
 * jittered retries drain it; past them the caller answers 503 with Retry-After (see asDatabaseOutage).
 */
export async function retryOnConflict<T>(work: () => Promise<T>, attempts = 8): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (attempt >= attempts || !isRetryableConflict(error)) throw error;
      await new Promise((r) => setTimeout(r, Math.random() * 5 * 2 ** Math.min(attempt, 5)));
    }
  }
}
