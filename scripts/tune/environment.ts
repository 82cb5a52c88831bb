import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync } from 'node:fs';
import { Redis } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import { childEnv, freePort, onCleanup, start, stop, waitUntilReady } from '../../bench/lib/children.ts';
import { isLoopback } from '../../bench/lib/wrk.ts';
import { ensureServices } from '../../tests/setup/services.ts';

/**
 * One run's isolated corner of the local services: a fresh database `concert_tune_<run>` (created with the
 * `concert` user, which may create `concert_%` databases), a Redis key prefix and a Kafka topic prefix of
 * its own, and secrets made up for the run. All of it is removed again at the end (unless --keep-db).
 */

export interface RunEnvironment {
  runId: string;
  database: string;
  databaseUrl: string;
  redisUrl: string;
  kafkaBrokers: string;
  redisPrefix: string;
  kafkaPrefix: string;
  authJwtSecret: string;
  queueTokenSecret: string;
  versions: { database: string | null; redis: string | null };
}

export const repoRoot = new URL('../../', import.meta.url).pathname;

export async function prepareEnvironment(options: {
  keep: boolean;
  log: (line: string) => void;
}): Promise<RunEnvironment> {
  const { log } = options;
  const services = await ensureServices((line) => log(line));
  onCleanup('stopping the services this run started', () => services.stop());
  for (const [what, url] of [
    ['DATABASE_URL', services.databaseUrl],
    ['REDIS_URL', services.redisUrl],
    ['KAFKA_BROKERS', `kafka://${services.kafkaBrokers.split(',')[0]}`],
  ] as const) {
    if (!isLoopback(new URL(url).hostname)) {
      throw new Error(`${what} points at ${new URL(url).host}: tune loads local (loopback) services only`);
    }
  }

  const runId = `${Date.now().toString(36).slice(-5)}${randomBytes(2).toString('hex')}`;
  const database = `concert_tune_${runId}`;
  const base = new URL(services.databaseUrl);
  const databaseUrl = new URL(services.databaseUrl);
  databaseUrl.pathname = `/${database}`;
  const mysql = await import('mysql2/promise');
  const admin = await mysql.createConnection({ uri: base.toString() });
  let dbVersion: string | null = null;
  try {
    const [rows] = await admin.query('SELECT VERSION() AS v');
    dbVersion = String((rows as Array<{ v: string }>)[0]?.v ?? '') || null;
    await admin.query(`CREATE DATABASE \`${database}\``);
  } finally {
    await admin.end();
  }
  log(`[tune] database ${database} created on ${base.host}`);

  const redisPrefix = `tune:${runId}:`;
  const kafkaPrefix = `tune-${runId}.`;
  const redis = new Redis(services.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  const info = await redis.info('server');
  const redisVersion = /redis_version:(\S+)/.exec(info)?.[1] ?? null;
  await redis.quit();

  if (options.keep) {
    onCleanup('keeping the run', async () =>
      log(`[tune] kept: database ${database}, Redis keys ${redisPrefix}*, Kafka topics ${kafkaPrefix}*`),
    );
  } else {
    onCleanup(`removing Kafka topics ${kafkaPrefix}*`, () =>
      deleteTopics(services.kafkaBrokers, kafkaPrefix),
    );
    onCleanup(`removing Redis keys ${redisPrefix}*`, () => deleteKeys(services.redisUrl, redisPrefix));
    onCleanup(`dropping database ${database}`, async () => {
      const conn = await mysql.createConnection({ uri: base.toString() });
      try {
        await conn.query(`DROP DATABASE IF EXISTS \`${database}\``);
      } finally {
        await conn.end();
      }
    });
  }

  return {
    runId,
    database,
    databaseUrl: databaseUrl.toString(),
    redisUrl: services.redisUrl,
    kafkaBrokers: services.kafkaBrokers,
    redisPrefix,
    kafkaPrefix,
    authJwtSecret: randomBytes(32).toString('base64url'),
    queueTokenSecret: randomBytes(32).toString('base64url'),
    versions: { database: dbVersion, redis: redisVersion },
  };
}

async function deleteKeys(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    await redis.quit();
  }
}

async function deleteTopics(brokers: string, prefix: string): Promise<void> {
  const kafka = new Kafka({
    clientId: 'concert-tune',
    brokers: brokers.split(',').map((b) => b.trim()),
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
    if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 15_000 });
  } finally {
    await admin.disconnect();
  }
}

/** Settings every process of the run gets (the setup server and the function under test alike). */
export function runSettings(run: RunEnvironment, logLevel: string): Record<string, string | number> {
  return {
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    LOG_LEVEL: logLevel,
    DATABASE_URL: run.databaseUrl,
    REDIS_URL: run.redisUrl,
    REDIS_KEY_PREFIX: run.redisPrefix,
    KAFKA_BROKERS: run.kafkaBrokers,
    KAFKA_TOPIC_PREFIX: run.kafkaPrefix,
    KAFKA_TOPIC_PARTITIONS: 1,
    AUTH_JWT_SECRET: run.authJwtSecret,
    QUEUE_TOKEN_SECRET: run.queueTokenSecret,
    DEV_AUTH: 0,
    SEED_DEMO: 0,
    // What is measured is the function, not the per-user limiter refusing a load generator's few users
    // (the limiter's Redis call still runs on every request) nor the line holding them back.
    RATE_LIMIT_PER_SECOND: 1_000_000,
    RATE_LIMIT_BURST: 1_000_000,
    QUEUE_MAX_ACTIVE: 1_000_000,
    QUEUE_ADMIT_PER_SECOND: 100_000,
    QUEUE_ACTIVE_TTL_SECONDS: 7200,
    QUEUE_IDLE_TIMEOUT_SECONDS: 7200,
    // Holds prepared for `pay` must outlive the run.
    HOLD_TTL_SECONDS: 7200,
  };
}

export interface Server {
  child: ChildProcess;
  url: string;
  logFile: string;
  stop(): Promise<void>;
}

/** Starts a server process with its output in logFile, and waits until its /readyz answers 200. */
export async function startServer(options: {
  label: string;
  command: string;
  args: string[];
  settings: Record<string, string | number>;
  logFile: string;
  timeoutMs?: number;
}): Promise<Server> {
  const port = await freePort();
  const out = openSync(options.logFile, 'a');
  const child = start(options.command, options.args, {
    cwd: repoRoot,
    env: childEnv({ ...options.settings, PORT: port }),
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  const url = `http://127.0.0.1:${port}`;
  const server: Server = { child, url, logFile: options.logFile, stop: () => stop(child) };
  try {
    await waitUntilReady({ ...options, child, url, timeoutMs: options.timeoutMs ?? 90_000 });
  } catch (error) {
    await server.stop();
    throw error;
  }
  return server;
}
