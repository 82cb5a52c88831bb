/**
 * Finds or starts the MariaDB/MySQL, Redis and Kafka the integration tests
 * need, for the vitest globalSetup.
 *
 * In order:
 *  1. DATABASE_URL, REDIS_URL and KAFKA_BROKERS all set → used as they are.
 *  2. A Docker engine answers → mysql, redis and apache/kafka containers via
 *     testcontainers (loaded lazily), removed again by stop().
 *  3. Native processes via scripts/services/up.sh (installing them first with
 *     scripts/services/install.sh when on Debian/Ubuntu as root). stop() runs
 *     down.sh only for what this call started.
 *  Otherwise it throws, with the command to run in the message. With CI=true
 *  a missing service is always an error, never a reason to skip.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { StartedTestContainer } from 'testcontainers';
import { freePort, withTimeout } from '../../bench/lib/children.ts';

export interface ServiceUrls {
  databaseUrl: string;
  redisUrl: string;
  kafkaBrokers: string;
}

export interface RunningServices extends ServiceUrls {
  source: 'environment' | 'testcontainers' | 'native';
  stop(): Promise<void>;
}

export const INSTALL_COMMAND = 'sudo npm run services:install && npm run services:up';

/** Images used when a Docker engine is available. */
export const CONTAINER_IMAGES = {
  mysql: 'mysql:8.4',
  redis: 'redis:7',
  kafka: 'apache/kafka:4.1.0',
} as const;

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const SCRIPTS_DIR = path.join(REPO_ROOT, 'scripts', 'services');
const SERVICE_NAMES = ['mariadb', 'redis', 'kafka'] as const;
type NativeService = (typeof SERVICE_NAMES)[number];

const MINUTE = 60_000;

function isCi(): boolean {
  const value = process.env.CI?.toLowerCase();
  return value !== undefined && value !== '' && value !== 'false' && value !== '0';
}

function defaultLog(line: string): void {
  process.stdout.write(`${line}\n`);
}

export async function ensureServices(log: (line: string) => void = defaultLog): Promise<RunningServices> {
  const fromEnv = servicesFromEnvironment(log);
  if (fromEnv) return fromEnv;

  if (await dockerAvailable()) {
    const testcontainers = await loadTestcontainers(log);
    if (testcontainers) {
      log('[services] Docker engine found: starting containers with testcontainers');
      return startContainers(testcontainers, log);
    }
  }

  return startNative(log);
}

// --- 1. environment ---------------------------------------------------------------

const ENV_KEYS = ['DATABASE_URL', 'REDIS_URL', 'KAFKA_BROKERS'] as const;

function servicesFromEnvironment(log: (line: string) => void): RunningServices | undefined {
  const present = ENV_KEYS.filter((key) => nonEmpty(process.env[key]));
  if (present.length === 0) return undefined;
  const databaseUrl = process.env.DATABASE_URL;
  const redisUrl = process.env.REDIS_URL;
  const kafkaBrokers = process.env.KAFKA_BROKERS;
  if (nonEmpty(databaseUrl) && nonEmpty(redisUrl) && nonEmpty(kafkaBrokers)) {
    log('[services] using DATABASE_URL, REDIS_URL and KAFKA_BROKERS from the environment');
    return { source: 'environment', databaseUrl, redisUrl, kafkaBrokers, stop: async () => {} };
  }
  const missing = ENV_KEYS.filter((key) => !present.includes(key));
  if (isCi()) {
    throw new Error(
      `CI=true and only ${present.join(', ')} set: also set ${missing.join(', ')}, or unset them all to start local services.`,
    );
  }
  log(`[services] ignoring ${present.join(', ')}: ${missing.join(', ')} not set; starting services instead`);
  return undefined;
}

function nonEmpty(value: string | undefined): value is string {
  return value !== undefined && value.trim() !== '';
}

// --- 2. testcontainers ------------------------------------------------------------

async function dockerAvailable(): Promise<boolean> {
  if (process.env.SERVICES_NO_DOCKER === '1') return false;
  const cli = await new Promise<'ok' | 'failed' | 'no-cli'>((resolve) => {
    execFile('docker', ['info', '--format', '{{.ServerVersion}}'], { timeout: 5_000 }, (error) => {
      if (!error) resolve('ok');
      else resolve((error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no-cli' : 'failed');
    });
  });
  if (cli === 'ok') return true;
  if (cli === 'failed') return false;
  // No docker CLI: testcontainers talks to the engine's API directly, so ask it
  // when there is a hint of an engine at all.
  if (!process.env.DOCKER_HOST && !existsSync('/var/run/docker.sock')) return false;
  try {
    // Throws on Node < 22.19 with testcontainers 12 (see loadTestcontainers).
    const { getContainerRuntimeClient } = await import('testcontainers');
    await withTimeout(getContainerRuntimeClient(), 10_000, 'container runtime check');
    return true;
  } catch {
    return false;
  }
}

type Testcontainers = typeof import('testcontainers');

/**
 * testcontainers, or undefined when it cannot load here (testcontainers 12
 * pulls undici 8, which needs Node >= 22.19: on Node 20 the import throws).
 */
async function loadTestcontainers(log: (line: string) => void): Promise<Testcontainers | undefined> {
  try {
    return await import('testcontainers');
  } catch (error) {
    log(
      `[services] Docker answers but testcontainers cannot load on Node ${process.versions.node} (${errorMessage(error)}); using native services instead`,
    );
    return undefined;
  }
}

async function startContainers(
  testcontainers: Testcontainers,
  log: (line: string) => void,
): Promise<RunningServices> {
  const { GenericContainer, Wait } = testcontainers;
  const started: StartedTestContainer[] = [];
  const stopAll = async (): Promise<void> => {
    const containers = started.splice(0);
    await Promise.allSettled(containers.map((container) => container.stop()));
  };
  try {
    log(`[services] starting ${CONTAINER_IMAGES.redis}`);
    const redis = await new GenericContainer(CONTAINER_IMAGES.redis)
      .withCommand(['redis-server', '--appendonly', 'yes', '--appendfsync', 'everysec'])
      .withExposedPorts(6379)
      .withWaitStrategy(Wait.forLogMessage('Ready to accept connections'))
      .start();
    started.push(redis);
    const host = redis.getHost();

    // Kafka must advertise the address clients use, so its host port is
    // chosen before the container starts.
    const kafkaPort = await freePort();
    log(`[services] starting ${CONTAINER_IMAGES.mysql} and ${CONTAINER_IMAGES.kafka}`);
    const mysqlStarting = new GenericContainer(CONTAINER_IMAGES.mysql)
      .withEnvironment({
        MYSQL_ROOT_PASSWORD: 'root',
        MYSQL_DATABASE: 'concert',
        MYSQL_USER: 'concert',
        MYSQL_PASSWORD: 'concert',
      })
      .withCommand([
        '--max-connections=1000',
        '--innodb-flush-log-at-trx-commit=2',
        '--transaction-isolation=READ-COMMITTED',
      ])
      .withExposedPorts(3306)
      .withWaitStrategy(Wait.forLogMessage(/ready for connections.*port: 3306/))
      .withStartupTimeout(3 * MINUTE)
      .start();
    const kafkaStarting = new GenericContainer(CONTAINER_IMAGES.kafka)
      .withEnvironment({
        KAFKA_NODE_ID: '1',
        KAFKA_PROCESS_ROLES: 'broker,controller',
        KAFKA_LISTENERS: 'PLAINTEXT://0.0.0.0:9092,CONTROLLER://localhost:9093',
        KAFKA_ADVERTISED_LISTENERS: `PLAINTEXT://${host}:${kafkaPort}`,
        KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
        KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
        KAFKA_CONTROLLER_QUORUM_VOTERS: '1@localhost:9093',
        KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
        KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
        KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
        KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR: '1',
        KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR: '1',
        KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
        KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'true',
        KAFKA_NUM_PARTITIONS: '1',
      })
      .withExposedPorts({ container: 9092, host: kafkaPort })
      .withWaitStrategy(Wait.forLogMessage('Kafka Server started'))
      .withStartupTimeout(3 * MINUTE)
      .start();
    const [mysql, kafka] = await Promise.allSettled([mysqlStarting, kafkaStarting]);
    if (mysql.status === 'fulfilled') started.push(mysql.value);
    if (kafka.status === 'fulfilled') started.push(kafka.value);
    if (mysql.status === 'rejected') throw mysql.reason;
    if (kafka.status === 'rejected') throw kafka.reason;

    // Tests create a fresh database per run named concert_<something>.
    const grant = await mysql.value.exec([
      'mysql',
      '-uroot',
      '-proot',
      '-e',
      "GRANT ALL PRIVILEGES ON `concert\\_%`.* TO 'concert'@'%'; FLUSH PRIVILEGES;",
    ]);
    if (grant.exitCode !== 0) throw new Error(`granting concert_% failed: ${grant.output}`);

    const urls: ServiceUrls = {
      databaseUrl: `mysql://concert:concert@${mysql.value.getHost()}:${mysql.value.getMappedPort(3306)}/concert`,
      redisUrl: `redis://${host}:${redis.getMappedPort(6379)}`,
      kafkaBrokers: `${host}:${kafkaPort}`,
    };
    log(`[services] containers ready: ${urls.databaseUrl} ${urls.redisUrl} ${urls.kafkaBrokers}`);
    return {
      source: 'testcontainers',
      ...urls,
      stop: async () => {
        log('[services] stopping containers');
        await stopAll();
      },
    };
  } catch (error) {
    await stopAll();
    throw new Error(`Starting test containers failed: ${errorMessage(error)}`, { cause: error });
  }
}

// --- 3. native processes ----------------------------------------------------------

async function startNative(log: (line: string) => void): Promise<RunningServices> {
  const check = await runScript('up.sh', ['--check'], () => {}, MINUTE);
  if (check.code !== 0 && check.code !== 3) {
    throw new Error(`scripts/services/up.sh --check failed:\n${check.tail.join('\n')}`);
  }
  if (check.code === 3) {
    const missing = check.tail.filter((line) => line.trim() !== '');
    const canInstall = existsSync('/etc/debian_version') && process.getuid?.() === 0;
    if (!canInstall) {
      throw new Error(
        [
          'Test services are not available: DATABASE_URL/REDIS_URL/KAFKA_BROKERS are not set, no Docker engine answers,',
          `and local services are not installed (missing: ${missing.join('; ')}).`,
          isCi() ? 'CI=true: services are required, tests are not skipped.' : '',
          `Run: ${INSTALL_COMMAND}`,
        ]
          .filter((part) => part !== '')
          .join('\n'),
      );
    }
    log(`[services] installing local services (Debian, root): ${missing.join('; ')}`);
    log(
      '[services] running scripts/services/install.sh: apt-get install of the missing packages, Kafka jars via Maven',
    );
    const install = await runScript('install.sh', [], log, 20 * MINUTE);
    if (install.code !== 0) {
      throw new Error(
        `scripts/services/install.sh failed (exit ${install.code}):\n${install.tail.join('\n')}\nRun: ${INSTALL_COMMAND}`,
      );
    }
  }

  const up = await runScript('up.sh', [], log, 10 * MINUTE);
  if (up.code !== 0) {
    // Stop whatever this failed run had already started.
    const partial = parseStarted(up.tail, false);
    if (partial.length > 0) await runScript('down.sh', partial, log, 5 * MINUTE).catch(() => undefined);
    throw new Error(`scripts/services/up.sh failed (exit ${up.code}):\n${up.tail.join('\n')}`);
  }
  const started = parseStarted(up.tail, true);
  const urls = readEnvFile();

  let stopped = false;
  return {
    source: 'native',
    ...urls,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      if (started.length === 0) {
        log('[services] leaving local services running (they were up before the tests)');
        return;
      }
      const down = await runScript('down.sh', started, log, 5 * MINUTE);
      if (down.code !== 0) {
        throw new Error(`scripts/services/down.sh failed (exit ${down.code}):\n${down.tail.join('\n')}`);
      }
    },
  };
}

/** The services named on up.sh's "[services] started: …" line. */
function parseStarted(lines: string[], required: boolean): NativeService[] {
  const line = [...lines].reverse().find((candidate) => candidate.startsWith('[services] started:'));
  if (!line) {
    if (required) throw new Error('scripts/services/up.sh did not print its "started:" line');
    return [];
  }
  const names = line.slice('[services] started:'.length).trim().split(/\s+/);
  return SERVICE_NAMES.filter((name) => names.includes(name));
}

function readEnvFile(): ServiceUrls {
  const file = process.env.SERVICES_ENV_FILE ?? path.join(REPO_ROOT, '.env.services');
  const values = new Map<string, string>();
  for (const raw of readFileSync(file, 'utf8').split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq > 0) values.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  }
  const get = (key: (typeof ENV_KEYS)[number]): string => {
    const value = values.get(key);
    if (!nonEmpty(value)) throw new Error(`${file} has no ${key}`);
    return value;
  };
  return { databaseUrl: get('DATABASE_URL'), redisUrl: get('REDIS_URL'), kafkaBrokers: get('KAFKA_BROKERS') };
}

interface ScriptResult {
  code: number;
  /** The last lines of stdout and stderr, interleaved as they came. */
  tail: string[];
}

/** Runs scripts/services/<name> with bash, forwarding each output line to log. */
function runScript(
  name: string,
  args: readonly string[],
  log: (line: string) => void,
  timeoutMs: number,
): Promise<ScriptResult> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn('bash', [path.join(SCRIPTS_DIR, name), ...args], {
      cwd: REPO_ROOT,
      env: process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const tail: string[] = [];
    const onLine = (line: string): void => {
      tail.push(line);
      if (tail.length > 60) tail.shift();
      log(line);
    };
    let open = 0;
    let exitCode: number | undefined;
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      reject(new Error(`scripts/services/${name} did not finish within ${Math.round(timeoutMs / 1000)}s`));
    }, timeoutMs);
    const finish = (): void => {
      if (open === 0 && exitCode !== undefined) {
        clearTimeout(timer);
        resolve({ code: exitCode, tail });
      }
    };
    for (const stream of [child.stdout, child.stderr]) {
      if (!stream) continue;
      open += 1;
      const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
      lines.on('line', onLine);
      lines.on('close', () => {
        open -= 1;
        finish();
      });
    }
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`cannot run bash scripts/services/${name}: ${error.message}`, { cause: error }));
    });
    child.once('close', (code, signal) => {
      exitCode = code ?? (signal ? 128 : 1);
      finish();
    });
  });
}

// --- helpers ------------------------------------------------------------------------

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
