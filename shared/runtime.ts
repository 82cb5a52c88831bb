import type { Redis } from 'ioredis';
import { resolveSecrets, type Secrets } from './auth/dev-secrets.ts';
import { createUserTokens, type UserTokens } from './auth/user-tokens.ts';
import { createConcertExistence, createScheduleConcertLookup } from './catalog/catalog-queries.ts';
import { type Clock, systemClock } from './clock.ts';
import type { Config } from './config.ts';
import { connectDatabase, type Database, redact } from './db/connect.ts';
import { migrateToLatest } from './db/migrate.ts';
import type { EventBus } from './events/bus.ts';
import { describeKafkaSecurity, kafkaConnection } from './events/kafka-auth.ts';
import { createKafkaBus } from './events/kafka-bus.ts';
import { createMemoryBus } from './events/memory-bus.ts';
import type { ReadinessCheck } from './http/create-http-app.ts';
import type { Logger } from './logger.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import { createMemoryRateLimiter } from './rate-limit/memory-rate-limiter.ts';
import type { RateLimiter } from './rate-limit/rate-limiter.ts';
import { createRedisRateLimiter } from './rate-limit/redis-rate-limiter.ts';
import { createRedis } from './redis/client.ts';
import { createMemoryHoldGuard, createRedisHoldGuard, type HoldGuard } from './seats/hold-guard.ts';
import {
  createMemorySeatCache,
  createRedisSeatCache,
  followSeatInvalidations,
  type SeatCache,
  seatInvalidationChannel,
} from './seats/seat-cache.ts';

/**
 * The adapters a process runs on, chosen from the configuration: each service URL that is set selects the
 * real adapter, each one missing selects the embedded one. Built once per process and handed to the
 * functions by closure.
 */
export interface Runtime {
  config: Config;
  logger: Logger;
  clock: Clock;
  metrics: Metrics;
  secrets: Secrets;
  userTokens: UserTokens;
  database: Database;
  redis: Redis | null;
  rateLimiter: RateLimiter;
  seatCache: SeatCache;
  holdGuard: HoldGuard;
  concertOfSchedule(scheduleId: number): Promise<number | null>;
  concertExists(concertId: string): Promise<boolean>;
  bus: EventBus;
  /** Which adapter serves each dependency, for the start-up log and banner. */
  adapters: { database: string; redis: string; events: string };
  readiness: ReadinessCheck[];
  /** Gauges computed at scrape time (pool usage, queue sizes); functions add theirs. */
  gaugeRefreshers: Array<() => Promise<void> | void>;
  refreshGauges(): Promise<void>;
  close(): Promise<void>;
}

export async function createRuntime(
  config: Config,
  logger: Logger,
  overrides: { clock?: Clock; metrics?: Metrics; processName?: string } = {},
): Promise<Runtime> {
  const clock = overrides.clock ?? systemClock;
  const metrics = overrides.metrics ?? createMetrics();
  const secrets = resolveSecrets({
    authJwtSecret: config.AUTH_JWT_SECRET,
    authJwksUrl: config.AUTH_JWKS_URL,
    queueTokenSecret: config.QUEUE_TOKEN_SECRET,
    dataDir: config.DATA_DIR,
    persist: config.NODE_ENV !== 'production',
  });
  const userTokens = createUserTokens({
    secret: secrets.authJwtSecret,
    jwksUrl: config.AUTH_JWKS_URL,
    issuer: config.AUTH_ISSUER,
    audience: config.AUTH_AUDIENCE,
  });

  const database = await connectDatabase({
    url: config.DATABASE_URL,
    readUrl: config.DATABASE_READ_URL,
    driver: config.DB_DRIVER,
    poolSize: config.DB_POOL_SIZE,
    connectTimeoutMs: config.DB_CONNECT_TIMEOUT_MS,
    queryTimeoutMs: config.DB_QUERY_TIMEOUT_MS,
    caFile: config.DATABASE_CA_FILE,
    dataDir: config.DATA_DIR,
    processName: overrides.processName,
    onIsolationFallback: (serverLevel) =>
      logger.warn(
        { serverLevel },
        'database default isolation is not READ COMMITTED: each connection sets it, which pins it in RDS Proxy; ' +
          'set transaction_isolation=READ-COMMITTED on the server (parameter group, my.cnf)',
      ),
  });
  if (config.DB_MIGRATE) {
    const { applied } = await migrateToLatest(database.db);
    if (applied.length > 0) logger.info({ applied }, 'database migrations applied');
  }

  const redis = config.REDIS_URL
    ? createRedis({
        url: config.REDIS_URL,
        commandTimeoutMs: config.REDIS_COMMAND_TIMEOUT_MS,
        keyPrefix: config.REDIS_KEY_PREFIX,
        caFile: config.REDIS_CA_FILE,
        sentinelMaster: config.REDIS_SENTINEL_MASTER,
        ...(config.REDIS_SENTINELS
          ? {
              sentinels: config.REDIS_SENTINELS.split(',').map((node) => {
                const [host, port] = node.trim().split(':');
                return { host: host!, port: Number(port) };
              }),
            }
          : {}),
      })
    : null;
  if (redis) {
    redis.on('error', (error: Error) => logger.warn({ err: error.message }, 'redis connection problem'));
    await redis.connect().catch((error: unknown) => {
      // Not fatal: requests answer 503 until Redis is back, and /readyz says why.
      logger.warn({ err: String(error) }, 'redis not reachable at start');
    });
  }
  const policy = { perSecond: config.RATE_LIMIT_PER_SECOND, burst: config.RATE_LIMIT_BURST };
  const rateLimiter =
    redis && config.RATE_LIMIT_SCOPE === 'redis'
      ? createRedisRateLimiter(redis, policy)
      : createMemoryRateLimiter(policy);

  const now = () => clock.now();
  // The subscription has a connection of its own (a subscribed one runs no other commands), opened only by
  // a process that keeps seat maps. Not awaited: until it subscribes, local maps are bounded by their age.
  let subscriber: Redis | undefined;
  let closed = false;
  const seatCache: SeatCache = redis
    ? createRedisSeatCache(redis, {
        now,
        follow(cache) {
          if (closed) return;
          subscriber = redis.duplicate();
          subscriber.on('error', () => undefined);
          followSeatInvalidations(subscriber, seatInvalidationChannel(redis), cache).catch((error: unknown) =>
            logger.warn({ err: String(error) }, 'seat map invalidations not followed'),
          );
        },
      })
    : createMemorySeatCache(now);
  const holdGuard = redis ? createRedisHoldGuard(redis) : createMemoryHoldGuard(now);

  const bus = config.KAFKA_BROKERS
    ? createKafkaBus({
        brokers: config.KAFKA_BROKERS.split(',').map((b) => b.trim()),
        clientId: config.KAFKA_CLIENT_ID,
        partitions: config.KAFKA_TOPIC_PARTITIONS,
        replicationFactor: config.KAFKA_REPLICATION_FACTOR,
        topicPrefix: config.KAFKA_TOPIC_PREFIX,
        connection: kafkaConnection(config.kafkaSecurity),
        securityNote: describeKafkaSecurity(config.kafkaSecurity),
        logger,
      })
    : createMemoryBus({ partitions: config.KAFKA_TOPIC_PARTITIONS });

  const adapters = {
    database: database.describe,
    redis: config.REDIS_URL
      ? `Redis (${redact(config.REDIS_URL)}${config.REDIS_SENTINELS ? `, primary "${config.REDIS_SENTINEL_MASTER}" via Sentinels ${config.REDIS_SENTINELS}` : ''})`
      : 'in-process queue, rate limiter, seat cache and hold guard',
    events: bus.describe,
  };
  logger.info(adapters, 'adapters selected');

  const gaugeRefreshers: Array<() => Promise<void> | void> = [
    () => {
      const stats = database.poolStats();
      if (stats) for (const [state, value] of Object.entries(stats)) metrics.dbPool.set({ state }, value);
    },
  ];
  const readiness: ReadinessCheck[] = [{ name: 'database', check: () => database.ping() }];
  if (redis) readiness.push({ name: 'redis', check: async () => void (await redis.ping()) });

  return {
    config,
    logger,
    clock,
    metrics,
    secrets,
    userTokens,
    database,
    redis,
    rateLimiter,
    seatCache,
    holdGuard,
    concertOfSchedule: createScheduleConcertLookup(database.db),
    concertExists: createConcertExistence(database.db),
    bus,
    adapters,
    readiness,
    gaugeRefreshers,
    async refreshGauges() {
      await Promise.all(
        gaugeRefreshers.map(async (refresh) => {
          try {
            await refresh();
          } catch {
            // A dependency is down: the gauge keeps its last value and /readyz reports the outage.
          }
        }),
      );
    },
    async close() {
      await bus.close().catch((e: unknown) => logger.warn({ err: String(e) }, 'closing event bus'));
      closed = true;
      subscriber?.disconnect();
      if (redis) redis.disconnect();
      await database.close();
    },
  };
}
