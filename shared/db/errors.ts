/** A UNIQUE or PRIMARY KEY violation, on MySQL/MariaDB (ER_DUP_ENTRY) or SQLite. */
export function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: unknown; errno?: unknown; message?: unknown } | null;
  if (!e) return false;
  if (e.code === 'ER_DUP_ENTRY' || e.errno === 1062) return true;
  return typeof e.message === 'string' && e.message.includes('UNIQUE constraint failed');
}
