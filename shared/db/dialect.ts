import { SqliteAdapter } from 'kysely';

export type SqlDialect = 'mysql' | 'sqlite';

/**
 * Migrations and the few dialect-specific statements need to know which engine they talk to; MySQL 8 and
 * MariaDB 10.11 share one dialect. Found from the adapter Kysely was built with, so no extra state.
 */
export function dialectOf(db: { getExecutor(): { adapter: object } }): SqlDialect {
  return db.getExecutor().adapter instanceof SqliteAdapter ? 'sqlite' : 'mysql';
}
