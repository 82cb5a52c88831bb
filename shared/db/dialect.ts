import { SqliteAdapter } from 'kysely';

export type SqlDialect = 'mysql' | 'sqlite';

/**
 * Migrations and the few dialect-specific statements need to know which engine they talk to; MySQL 8 and
 * MariaDB 10.11 share one dialect. Found from the adapter Kysely was built with, so no extra state.
 */
export function dialectOf(db: { getExecutor(): { adapter: object } }): SqlDialect {
  return db.getExecutor().adapter instanceof SqliteAdapter ? 'sqlite' : 'mysql';
}

/**
 * `SELECT ... FOR UPDATE` where the engine has it. SQLite has one writer at a time, so its transaction
 * already excludes every other writer and the clause (which it does not parse) is not needed.
 */
export function lockForUpdate<Q extends { forUpdate(): Q }>(
  query: Q,
  db: { getExecutor(): { adapter: object } },
): Q {
  return dialectOf(db) === 'mysql' ? query.forUpdate() : query;
}
