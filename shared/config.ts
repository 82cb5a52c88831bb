import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { z } from 'zod';
import { type KafkaSecurity, kafkaSaslMechanisms, regionFromBrokers } from './events/kafka-auth.ts';
import { isFunctionName, migrateTask, requiredKeys } from './needs.ts';

const flag = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off'])
  .transform((v) => v === '1' || v === 'true' || v === 'yes' || v === 'on');

/** A service setting checked for its form here, so a typo fails at start with the variable named. */
const checked = (problemOf: (value: string) => string | null) =>
  z
    .string()
    .trim()
    .min(1)
    .superRefine((value, ctx) => {
      const problem = problemOf(value);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .optional();

const databaseForm =
  'expected mysql://user:password@host:3306/database[?ssl-mode=VERIFY_IDENTITY] (MySQL or MariaDB)';

/** `DATABASE_CA_FILE`'s name for the RDS and RDS Proxy CAs that mysql2's maintainers publish. */
export const awsRdsCa = 'aws-rds';

/** The `ssl-mode` values of a database URL, as MySQL's own client names them; both verify the chain. */
export const databaseSslModes = ['VERIFY_IDENTITY', 'VERIFY_CA'] as const;
export type DatabaseSslMode = (typeof databaseSslModes)[number];

/** The TLS mode a database URL asks for, or null for none (the URL is assumed valid). */
export function databaseSslMode(value: string): DatabaseSslMode | null {
  const mode = new URL(value).searchParams.get('ssl-mode')?.toUpperCase();
  return databaseSslModes.find((known) => known === mode) ?? null;
}

/** The URL, or what is wrong with its form (scheme, host), followed by the accepted forms. */
function serviceUrl(value: string, schemes: string[], forms: string): URL | string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `not a URL; ${forms}`;
  }
  if (!schemes.includes(url.protocol)) return `scheme "${url.protocol}" is not supported; ${forms}`;
  if (!url.hostname) return `has no host; ${forms}`;
  return url;
}

// The value is not echoed: it may hold a password.
export function databaseUrlProblem(value: string): string | null {
  const url = serviceUrl(value, ['mysql:', 'mariadb:'], databaseForm);
  if (typeof url === 'string') return url;
  if (url.pathname.length <= 1) return `names no database; ${databaseForm}`;
  const mode = url.searchParams.get('ssl-mode');
  if (mode !== null && !databaseSslModes.some((known) => known === mode.toUpperCase())) {
    // An unverified mode is not offered: whoever can intercept the link could read it anyway.
    return `ssl-mode "${mode}" is not supported; use ${databaseSslModes.join(' or ')} (or leave it out for no TLS)`;
  }
  if (mode?.toUpperCase() === 'VERIFY_IDENTITY' && isIP(url.hostname.replace(/^\[|\]$/g, '')) !== 0) {
    // mysql2 names no server for an IP address, so no certificate would be checked against it.
    return 'ssl-mode=VERIFY_IDENTITY needs the host name the certificate carries, not an IP address (or use VERIFY_CA)';
  }
  if (mode !== null && url.searchParams.has('ssl')) {
    return 'has both ssl-mode and ssl; keep ssl-mode (with DATABASE_CA_FILE for a private CA)';
  }
  return null;
}

const redisForms =
  'expected redis://[user:password@]host:6379[/db], rediss://… for TLS, or a Unix socket path such as ' +
  '/run/redis/redis.sock; for Sentinel keep REDIS_URL (password, db) and add REDIS_SENTINELS=host:26379,…';

export function redisUrlProblem(value: string): string | null {
  if (value.startsWith('/')) return null;
  const url = serviceUrl(value, ['redis:', 'rediss:'], redisForms);
  if (typeof url === 'string') return url;
  if (!/^\/?\d*$/.test(url.pathname)) return `the path must be a database number; ${redisForms}`;
  return null;
}

const hostPort = /^(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.-]+):(\d{1,5})$/;

export function hostPortListProblem(value: string, example: string): string | null {
  const bad = value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => {
      const port = Number(hostPort.exec(entry)?.[1] ?? 0);
      return port < 1 || port > 65_535;
    });
  if (bad.length === 0) return null;
  return `${bad.map((entry) => `"${entry}"`).join(', ')} not host:port; expected host:port[,host:port…], e.g. ${example}`;
}
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/**
 * Every setting of every function and trigger, in one schema. Parsed once at start; nothing else reads
 * process.env, so a deployment's whole surface is readable here.
 */
export const configSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  PORT: int(0, 65535).default(8080),
  HOST: z.string().default('0.0.0.0'),
  /** Processes of the all-in-one server sharing PORT (node cluster); unset: one per core. Real services only. */
  WORKERS: int(1, 256).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  SERVICE_NAME: z.string().default('concert'),

  DATABASE_URL: checked(databaseUrlProblem),
  DATABASE_READ_URL: checked(databaseUrlProblem),
  /**
   * PEM bundle the database's certificate must chain to, or `aws-rds` for the RDS and RDS Proxy CAs
   * (a direct replica endpoint needs the RDS ones); unset: Node's trusted roots.
   */
  DATABASE_CA_FILE: z.string().trim().min(1).optional(),
  DB_DRIVER: z.enum(['mysql2', 'planetscale']).default('mysql2'),
  DB_POOL_SIZE: int(1, 500).default(10),
  DB_CONNECT_TIMEOUT_MS: int(100, 60_000).default(3000),
  DB_QUERY_TIMEOUT_MS: int(100, 120_000).default(5000),
  DB_MIGRATE: flag.default(true),
  DATA_DIR: z.string().default('./data'),

  REDIS_URL: checked(redisUrlProblem),
  /** PEM bundle a `rediss://` server's certificate must chain to; unset: Node's trusted roots. */
  REDIS_CA_FILE: z.string().trim().min(1).optional(),
  REDIS_COMMAND_TIMEOUT_MS: int(50, 60_000).default(1000),
  REDIS_KEY_PREFIX: z.string().max(64).default(''),
  /** `host:port,host:port`: find the Redis primary through Sentinel (the ADR's failover) instead of REDIS_URL's host. */
  REDIS_SENTINELS: checked((value) => hostPortListProblem(value, '10.0.0.5:26379,10.0.0.6:26379')),
  REDIS_SENTINEL_MASTER: z.string().default('mymaster'),

  KAFKA_BROKERS: checked((value) => hostPortListProblem(value, '127.0.0.1:9092')),
  KAFKA_CLIENT_ID: z.string().default('concert'),
  KAFKA_TOPIC_PARTITIONS: int(1, 1000).default(6),
  KAFKA_REPLICATION_FACTOR: int(1, 10).default(1),
  KAFKA_TOPIC_PREFIX: z.string().max(64).default(''),
  /** `aws-msk-iam` signs OAUTHBEARER tokens with the pod's AWS credentials (IRSA), as MSK's port 9098 wants. */
  KAFKA_SASL: z.enum(kafkaSaslMechanisms).default('none'),
  /** Unset: on whenever KAFKA_SASL is, since MSK refuses SASL without TLS. */
  KAFKA_TLS: flag.optional(),
  KAFKA_TLS_CA_FILE: z.string().min(1).optional(),
  KAFKA_SASL_USERNAME: z.string().min(1).optional(),
  KAFKA_SASL_PASSWORD: z.string().min(1).optional(),
  /** Read only with KAFKA_SASL=aws-msk-iam: other tools on the host may set it for their own use. */
  AWS_REGION: z.string().min(1).optional(),

  AUTH_JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  AUTH_JWKS_URL: z.url().optional(),
  AUTH_ISSUER: z.string().default('concert-auth'),
  AUTH_AUDIENCE: z.string().default('concert-api'),
  QUEUE_TOKEN_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  DEV_AUTH: flag.optional(),
  SEED_DEMO: flag.optional(),

  HOLD_TTL_SECONDS: int(1, 86_400).default(300),
  /** Queue defaults per concert; an admin may override each per concert (PUT /v1/admin/queues/{id}). */
  QUEUE_MAX_ACTIVE: int(1, 1_000_000).default(500),
  QUEUE_ADMIT_PER_SECOND: int(1, 100_000).default(50),
  QUEUE_ACTIVE_TTL_SECONDS: int(10, 86_400).default(600),
  QUEUE_IDLE_TIMEOUT_SECONDS: int(5, 86_400).default(300),
  /** enter-queue only: `stream` serves just the SSE stream, as the `queue-stream` Knative Service runs it. */
  QUEUE_ROUTES: z.enum(['all', 'stream']).default('all'),
  RATE_LIMIT_PER_SECOND: int(1, 1_000_000).default(10),
  RATE_LIMIT_BURST: int(1, 1_000_000).default(20),
  /** `process`: buckets per process, no round trip; `redis`: one bucket per user shared by all replicas. */
  RATE_LIMIT_SCOPE: z.enum(['process', 'redis']).default('process'),
  MAX_BODY_BYTES: int(1024, 10_485_760).default(65_536),
  /** Comma-separated browser origins (`https://tickets.example`) allowed by CORS; unset: none. */
  CORS_ORIGINS: z
    .string()
    .transform((list) =>
      list
        .split(',')
        .map((origin) => origin.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.string().regex(/^https?:\/\/[^/\s]+$/, 'each origin is scheme://host[:port], no path')))
    .default([]),

  /** Events: the outbox relay, the sweeper, and the local stand-ins for KafkaSource and PingSource. */
  OUTBOX_RELAY_INTERVAL_MS: int(10, 60_000).default(100),
  OUTBOX_RELAY_BATCH: int(1, 5000).default(500),
  EXPIRE_HOLDS_INTERVAL_SECONDS: int(1, 3600).default(10),
  EXPIRE_HOLDS_BUDGET_MS: int(10, 3_600_000).default(5000),
  ADMIT_QUEUE_INTERVAL_MS: int(100, 60_000).default(1000),
  /** Adaptive admission (queues set to `adaptive`): the shop's health budgets and the AIMD steps. */
  ADMISSION_WINDOW_SECONDS: int(1, 60).default(5),
  ADMISSION_HOLD_P99_MS: int(1, 60_000).default(250),
  ADMISSION_PAY_P99_MS: int(1, 60_000).default(500),
  ADMISSION_MAX_503: int(0, 1_000_000).default(0),
  ADMISSION_POOL_SATURATION: z.coerce.number().min(0.1).max(100).default(1),
  ADMISSION_INCREASE_PERCENT: int(1, 100).default(5),
  ADMISSION_DECREASE_FACTOR: z.coerce.number().min(0.1).max(0.95).default(0.7),
  ADMISSION_COOLDOWN_SECONDS: int(1, 600).default(5),
  DISPATCH_MAX_ATTEMPTS: int(1, 100).default(6),
  DISPATCH_BACKOFF_MS: int(1, 60_000).default(200),
  DISPATCH_TARGETS: z.string().optional(),
  SCHEDULE_TARGETS: z.string().optional(),
  NOTIFY_WEBHOOK_URL: z.url().optional(),
  NOTIFY_WEBHOOK_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  NOTIFY_TIMEOUT_MS: int(100, 60_000).default(3000),
});

export type RawConfig = z.infer<typeof configSchema>;

export interface Config extends RawConfig {
  /** True when no service URL is set: everything runs in process on embedded adapters. */
  embedded: boolean;
  devAuth: boolean;
  seedDemo: boolean;
  kafkaSecurity: KafkaSecurity;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * A deployed function needs exactly what shared/needs.ts lists for it; any other process (the all-in-one
 * server, the tools) needs the two token secrets, since it mounts everything.
 */
function productionProblems(raw: RawConfig, service: string | undefined): string[] {
  const keys =
    service && (isFunctionName(service) || service === migrateTask)
      ? requiredKeys(service)
      : ['AUTH_JWT_SECRET', 'QUEUE_TOKEN_SECRET'];
  const set = raw as Record<string, unknown>;
  return keys.flatMap((key) => {
    if (set[key] !== undefined) return [];
    if (key === 'AUTH_JWT_SECRET') {
      return raw.AUTH_JWKS_URL ? [] : ['AUTH_JWT_SECRET: required in production unless AUTH_JWKS_URL is set'];
    }
    return [`${key}: required in production${service ? ` by ${service}` : ''}`];
  });
}

/**
 * Parses the environment once; throws a ConfigError that lists every bad key, not just the first. `service`
 * names the function being started, whose production needs are then checked.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env, service?: string): Config {
  const known = Object.fromEntries(
    Object.keys(configSchema.shape)
      .filter((key) => env[key] !== undefined && env[key] !== '')
      .map((key) => [key, env[key]]),
  );
  const parsed = configSchema.safeParse(known);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`));
  }
  const raw = parsed.data;
  const problems: string[] = [];
  if (raw.DATABASE_READ_URL && !raw.DATABASE_URL)
    problems.push('DATABASE_READ_URL: needs DATABASE_URL as well');
  for (const key of ['DATABASE_URL', 'DATABASE_READ_URL'] as const) {
    const url = raw[key];
    if (raw.DATABASE_CA_FILE && url && !databaseSslMode(url)) {
      // A CA file beside a plain URL reads as TLS configured while the link is not.
      problems.push(
        `${key}: DATABASE_CA_FILE is set but this URL has no ssl-mode=VERIFY_IDENTITY (or VERIFY_CA)`,
      );
    }
  }
  if (raw.REDIS_CA_FILE && raw.REDIS_URL && !raw.REDIS_URL.startsWith('rediss://')) {
    problems.push('REDIS_URL: REDIS_CA_FILE is set but the URL is not rediss:// (TLS)');
  }
  for (const key of ['DATABASE_CA_FILE', 'REDIS_CA_FILE'] as const) {
    const file = raw[key];
    if (file && !(key === 'DATABASE_CA_FILE' && file === awsRdsCa) && !readablePem(file))
      problems.push(`${key}: ${file} is not a readable PEM file`);
  }
  if (raw.REDIS_SENTINELS && !raw.REDIS_URL) {
    problems.push('REDIS_SENTINELS: needs REDIS_URL as well (it carries the password and database number)');
  }
  if (raw.NODE_ENV === 'production') problems.push(...productionProblems(raw, service));
  if (raw.NODE_ENV === 'production' && raw.DEV_AUTH === true) {
    problems.push('DEV_AUTH: must not be enabled in production');
  }
  problems.push(...kafkaSecurityProblems(raw));
  if (problems.length > 0) throw new ConfigError(problems);

  const embedded = !raw.DATABASE_URL && !raw.REDIS_URL && !raw.KAFKA_BROKERS;
  return {
    ...raw,
    embedded,
    devAuth: raw.DEV_AUTH ?? embedded,
    seedDemo: raw.SEED_DEMO ?? embedded,
    kafkaSecurity: kafkaSecurityOf(raw),
  };
}

function kafkaSecurityOf(raw: RawConfig): KafkaSecurity {
  const region = raw.AWS_REGION ?? regionFromBrokers(raw.KAFKA_BROKERS ?? '');
  return {
    tls: raw.KAFKA_TLS ?? raw.KAFKA_SASL !== 'none',
    sasl: raw.KAFKA_SASL,
    ...(raw.KAFKA_TLS_CA_FILE ? { caFile: raw.KAFKA_TLS_CA_FILE } : {}),
    ...(raw.KAFKA_SASL_USERNAME ? { username: raw.KAFKA_SASL_USERNAME } : {}),
    ...(raw.KAFKA_SASL_PASSWORD ? { password: raw.KAFKA_SASL_PASSWORD } : {}),
    ...(region ? { region } : {}),
  };
}

function kafkaSecurityProblems(raw: RawConfig): string[] {
  const problems: string[] = [];
  const security = kafkaSecurityOf(raw);
  const scram = raw.KAFKA_SASL === 'scram-sha-512';
  if (scram && !raw.KAFKA_SASL_USERNAME)
    problems.push('KAFKA_SASL_USERNAME: required with KAFKA_SASL=scram-sha-512');
  if (scram && !raw.KAFKA_SASL_PASSWORD)
    problems.push('KAFKA_SASL_PASSWORD: required with KAFKA_SASL=scram-sha-512');
  for (const key of ['KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD'] as const)
    if (!scram && raw[key]) problems.push(`${key}: used only with KAFKA_SASL=scram-sha-512`);
  if (raw.KAFKA_SASL === 'aws-msk-iam' && !security.region)
    problems.push(
      'AWS_REGION: required with KAFKA_SASL=aws-msk-iam when the brokers are not MSK host names that name it',
    );
  else if (raw.KAFKA_SASL === 'aws-msk-iam' && !/^[a-z]{2}(-[a-z]+)+-\d+$/.test(security.region ?? ''))
    problems.push(`AWS_REGION: "${security.region}" is not an AWS region such as eu-west-1`);
  if (raw.KAFKA_SASL === 'aws-msk-iam' && !security.tls)
    problems.push('KAFKA_TLS: MSK IAM authentication works over TLS only; leave it unset or true');
  if (raw.KAFKA_TLS_CA_FILE && !security.tls)
    problems.push('KAFKA_TLS_CA_FILE: set, but TLS is off (KAFKA_TLS=false)');
  if (raw.KAFKA_TLS_CA_FILE && security.tls && !existsSync(raw.KAFKA_TLS_CA_FILE))
    problems.push(`KAFKA_TLS_CA_FILE: no file at ${raw.KAFKA_TLS_CA_FILE}`);
  if (raw.KAFKA_SASL !== 'none' && !raw.KAFKA_BROKERS)
    problems.push(`KAFKA_SASL: set to ${raw.KAFKA_SASL}, but KAFKA_BROKERS is not, so no Kafka is used`);
  return problems;
}

function readablePem(file: string): boolean {
  try {
    return readFileSync(file, 'utf8').includes('-----BEGIN CERTIFICATE-----');
  } catch {
    return false;
  }
}
