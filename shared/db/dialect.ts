export type SqlDialect = 'mysql' | 'sqlite';

/**
 * Migrations and the few dialect-specific statements need to know which engine they talk to; MySQL 8 and
 * MariaDB 10.11 share one dialect. Found from the adapter Kysely was built with, so no extra state.
 */
export function dialectOf(db: { getExecutor(): { adapter: object } }): SqlDialect {
  const adapter = db.getExecutor().adapter.constructor.name;
  return adapter.toLowerCase().includes('sqlite') ? 'sqlite' : 'mysql';
}
