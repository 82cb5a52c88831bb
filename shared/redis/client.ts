import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';

export interface RedisOptions {
  url: string;
  commandTimeoutMs: number;
  /** Namespace for every key (ioredis prefixes keys of plain commands and of scripts' KEYS alike). */
  keyPrefix?: string;
  /** Ask these Sentinels for the current primary of `sentinelMaster`; follows failovers. */
  sentinels?: { host: string; port: number }[];
  sentinelMaster?: string;
  /** PEM bundle a `rediss://` server's certificate must chain to; unset: Node's trusted roots. */
  caFile?: string | undefined;
}

/**
 * One client per process. Commands time out instead of queueing forever during an outage, so a request
 * answers 503 rather than hanging; reconnects back off up to 2 s.
 */
export function createRedis(options: RedisOptions): Redis {
  const viaSentinel = options.sentinels?.length
    ? { sentinels: options.sentinels, name: options.sentinelMaster ?? 'mymaster', role: 'master' as const }
    : {};
  // ioredis turns TLS on for rediss:// by itself, checking the host name against Node's roots; a private
  // CA (a test's, a self-managed server's) only adds the bundle.
  const tls =
    options.caFile && options.url.startsWith('rediss://')
      ? { tls: { ca: readFileSync(options.caFile, 'utf8') } }
      : {};
  return new Redis(options.url, {
    ...viaSentinel,
    ...tls,
    commandTimeout: options.commandTimeoutMs,
    connectTimeout: Math.max(options.commandTimeoutMs, 2000),
    maxRetriesPerRequest: 1,
    lazyConnect: true,
    keyPrefix: options.keyPrefix ?? '',
    enableAutoPipelining: true,
    retryStrategy: (attempt) => Math.min(50 * 2 ** attempt, 2000),
  });
}

const outageMessages = [
  'Command timed out',
  'Connection is closed',
  "Stream isn't writeable",
  'ECONNREFUSED',
];

export function isRedisOutage(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const name = error.name;
  if (name === 'MaxRetriesPerRequestError') return true;
  return outageMessages.some((m) => error.message.includes(m));
}
