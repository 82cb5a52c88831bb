import type { MysqlPool, MysqlPoolConnection, MysqlQueryResult } from 'kysely';
import type { Pool, PoolConnection } from 'mysql2';

/** The code of the errors this module raises; asDatabaseOutage answers them with 503. */
export const databaseTimeoutCode = 'DB_QUERY_TIMEOUT';

export class DatabaseTimeoutError extends Error {
  readonly code = databaseTimeoutCode;
  constructor(what: string, ms: number) {
    super(`${what} did not finish within ${ms} ms (DB_QUERY_TIMEOUT_MS)`);
    this.name = 'DatabaseTimeoutError';
  }
}

/**
 * Schema changes and Kysely's migration lock may rightly take long (a large ALTER, a replica waiting for
 * another one's migration); everything a request runs is bounded.
 */
const unbounded = /^\s*(create|alter|drop|select\s+get_lock)\b/i;

/**
 * mysql2's pool in front of Kysely with every wait bounded: getting a connection, and each statement.
 * A server that hangs (stopped, a network partition that drops packets) would otherwise hold a request
 * forever, since TCP sees nothing wrong. mysql2's own query timeout only reports the error and leaves
 * the statement queued on the connection, so here a statement that times out destroys its connection:
 * the rollback that follows fails at once instead of queueing behind it, and the pool opens a new one.
 */
export function boundedPool(pool: Pool, timeoutMs: number): MysqlPool {
  // Kysely runs its per-connection setup once per connection object it sees, so each raw connection
  // keeps one wrapper for its whole life.
  const wrappers = new WeakMap<PoolConnection, MysqlPoolConnection>();
  const wrap = (raw: PoolConnection): MysqlPoolConnection => {
    let wrapper = wrappers.get(raw);
    if (!wrapper) {
      wrapper = boundedConnection(raw, timeoutMs);
      wrappers.set(raw, wrapper);
    }
    return wrapper;
  };
  return {
    getConnection(callback) {
      let settled = false;
      const timer = setTimeout(() => {
        settled = true;
        callback(new DatabaseTimeoutError('getting a database connection', timeoutMs), undefined as never);
      }, timeoutMs);
      pool.getConnection((error, raw) => {
        if (settled) {
          // Too late for the request that asked: hand it back for the next one.
          if (!error) raw.release();
          return;
        }
        settled = true;
        clearTimeout(timer);
        if (error) callback(error, undefined as never);
        else callback(null, wrap(raw));
      });
    },
    end(callback) {
      pool.end(callback);
    },
  };
}

function boundedConnection(raw: PoolConnection, timeoutMs: number): MysqlPoolConnection {
  let dead: Error | null = null;
  function query(sql: string, parameters: unknown[]): ReturnType<PoolConnection['query']>;
  function query(
    sql: string,
    parameters: unknown[],
    callback: (error: unknown, result: MysqlQueryResult) => void,
  ): void;
  function query(
    sql: string,
    parameters: unknown[],
    callback?: (error: unknown, result: MysqlQueryResult) => void,
  ): ReturnType<PoolConnection['query']> | undefined {
    if (!callback) return raw.query(sql, parameters);
    if (dead) {
      const error = dead;
      process.nextTick(() => callback(error, undefined as never));
      return undefined;
    }
    let settled = false;
    const timer = unbounded.test(sql)
      ? null
      : setTimeout(() => {
          settled = true;
          dead = new DatabaseTimeoutError('a database statement', timeoutMs);
          raw.destroy();
          callback(dead, undefined as never);
        }, timeoutMs);
    raw.query(sql, parameters, (error, result) => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      callback(error, result as MysqlQueryResult);
    });
    return undefined;
  }
  return {
    query: query as MysqlPoolConnection['query'],
    release() {
      raw.release();
    },
  };
}
