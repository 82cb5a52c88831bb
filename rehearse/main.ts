import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  childEnv,
  cleanup,
  freePort,
  installSignalHandlers,
  onCleanup,
  start,
  stop,
  waitUntilReady,
} from '../bench/lib/children.ts';
import { createUserTokens } from '../shared/auth/user-tokens.ts';
import { ensureServices, type RunningServices } from '../tests/setup/services.ts';
import { type ArrivalCurve, arrivalCurves, defaultMix } from './plan.ts';
import { consoleSummary, htmlReport, summarise } from './report.ts';
import {
  type DatabaseSales,
  type OpeningOptions,
  rehearseOpening,
  SettingsRefused,
  type Target,
} from './run.ts';

const usage = `npm run rehearse -- [options]     a simulated opening, its checks and its report

where
  --services embedded|real  start the all-in-one server on the embedded adapters (default) or on MariaDB,
                            Redis and Kafka (started and stopped by this command unless DATABASE_URL,
                            REDIS_URL and KAFKA_BROKERS are set)
  --url <base>              rehearse against a running server instead (its dev tokens must be on)
  --port <n>                port of the server this command starts, each run in turn (a free one)
  --workers <n>             server processes with --services real (the server's default)
the opening
  --fans <n> (500)  --seats <n> (50; a date per 1,000)  --price <krw> (80000)  --seed <n> (1)
  --arrival spike|uniform|ramp (spike)  --before <s> (5)  --after <s> (20)  --early-share <0..1> (0.3)
  --duration <s>            longest the fans may take after the opening (120)
  --request-timeout <ms>    each request's timeout (10000)
the fans (shares, 0..1)
  --sse (${defaultMix.sse})  --short-of-points (${defaultMix.shortOfPoints})  --abandon-seat-map (${defaultMix.abandonAtSeatMap})
  --abandon-payment (${defaultMix.abandonAtPayment})  --retry-pay (${defaultMix.retryPay})  --hot-section (${defaultMix.hotSection})
the line (sent as given in PUT /v1/admin/queues/{id}; left out: the server's default)
  --admission fixed|adaptive  --admit-per-second <n>  --min-admit <n>  --max-admit <n>  --max-active <n>
  --compare "<line settings>"  the same opening again with these settings over the first run's, e.g.
                            --compare "admission=adaptive min-admit=20 max-admit=400"
the report
  --report <file.html>      (rehearse/.reports/rehearsal-<time>.html; a .json of the figures beside it)`;

const { values: flags } = parseArgs({
  options: {
    services: { type: 'string', default: 'embedded' },
    url: { type: 'string' },
    port: { type: 'string' },
    workers: { type: 'string' },
    fans: { type: 'string', default: '500' },
    seats: { type: 'string', default: '50' },
    price: { type: 'string', default: '80000' },
    seed: { type: 'string', default: '1' },
    arrival: { type: 'string', default: 'spike' },
    before: { type: 'string', default: '5' },
    after: { type: 'string', default: '20' },
    'early-share': { type: 'string', default: '0.3' },
    duration: { type: 'string', default: '120' },
    'request-timeout': { type: 'string', default: '10000' },
    sse: { type: 'string', default: String(defaultMix.sse) },
    'short-of-points': { type: 'string', default: String(defaultMix.shortOfPoints) },
    'abandon-seat-map': { type: 'string', default: String(defaultMix.abandonAtSeatMap) },
    'abandon-payment': { type: 'string', default: String(defaultMix.abandonAtPayment) },
    'retry-pay': { type: 'string', default: String(defaultMix.retryPay) },
    'hot-section': { type: 'string', default: String(defaultMix.hotSection) },
    admission: { type: 'string' },
    'admit-per-second': { type: 'string' },
    'min-admit': { type: 'string' },
    'max-admit': { type: 'string' },
    'max-active': { type: 'string' },
    compare: { type: 'string' },
    report: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

function usageError(message: string): never {
  console.error(`${message}\n\n${usage}`);
  process.exit(64);
}
if (flags.help) {
  console.log(usage);
  process.exit(0);
}
const whole = (name: string, min = 1) => {
  const n = Number(flags[name as keyof typeof flags]);
  if (!Number.isInteger(n) || n < min) usageError(`--${name} needs a whole number from ${min}`);
  return n;
};
const share = (name: string) => {
  const n = Number(flags[name as keyof typeof flags]);
  if (!(n >= 0 && n <= 1)) usageError(`--${name} needs a share from 0 to 1`);
  return n;
};
const seconds = (name: string) => {
  const n = Number(flags[name as keyof typeof flags]);
  if (!(n >= 0 && Number.isFinite(n))) usageError(`--${name} needs seconds (0 or more)`);
  return n;
};
if (!arrivalCurves.includes(flags.arrival as ArrivalCurve))
  usageError(`--arrival is one of ${arrivalCurves.join(', ')}`);
if (flags.services !== 'embedded' && flags.services !== 'real') usageError('--services is embedded or real');
if (flags.url && flags.services === 'real') usageError('--url and --services real exclude each other');

/** The line's settings from `name value` pairs, as the admin API spells them; only those given. */
const queueFields: Record<string, { field: string; parse: (v: string) => string | number }> = {
  admission: {
    field: 'admission',
    parse: (v) => (v === 'fixed' || v === 'adaptive' ? v : usageError('admission is fixed or adaptive')),
  },
  'admit-per-second': { field: 'admitPerSecond', parse: (v) => positive('admit-per-second', v) },
  'min-admit': { field: 'minAdmitPerSecond', parse: (v) => positive('min-admit', v) },
  'max-admit': { field: 'maxAdmitPerSecond', parse: (v) => positive('max-admit', v) },
  'max-active': { field: 'maxActive', parse: (v) => positive('max-active', v) },
};
function positive(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) usageError(`${name} needs a whole number from 1`);
  return n;
}
const firstQueue: Record<string, string | number> = {};
for (const [name, { field, parse }] of Object.entries(queueFields)) {
  const value = flags[name as keyof typeof flags];
  if (typeof value === 'string') firstQueue[field] = parse(value);
}
const runsQueue = [firstQueue];
if (flags.compare !== undefined) {
  const second = { ...firstQueue };
  for (const pair of flags.compare.split(/[\s,]+/).filter(Boolean)) {
    const [name, value] = pair.split('=');
    const known = name ? queueFields[name] : undefined;
    if (!known || value === undefined)
      usageError(`--compare takes name=value pairs of ${Object.keys(queueFields).join(', ')}; not "${pair}"`);
    second[known.field] = known.parse(value);
  }
  runsQueue.push(second);
}
const label = (queue: Record<string, string | number>) =>
  Object.keys(queue).length === 0
    ? "server's defaults"
    : Object.entries(queue)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ');
if (runsQueue.length === 2 && label(runsQueue[0]!) === label(runsQueue[1]!))
  usageError('--compare gives the same line settings as the first run');

// Read (and checked) before anything starts: a bad value stops the command before a server or service is up.
const opening: Omit<OpeningOptions, 'queue'> = {
  fans: whole('fans'),
  seats: whole('seats'),
  price: whole('price'),
  seed: whole('seed', 0),
  arrival: {
    curve: flags.arrival as ArrivalCurve,
    beforeSeconds: seconds('before'),
    afterSeconds: seconds('after'),
    earlyShare: share('early-share'),
  },
  mix: {
    sse: share('sse'),
    shortOfPoints: share('short-of-points'),
    abandonAtSeatMap: share('abandon-seat-map'),
    abandonAtPayment: share('abandon-payment'),
    retryPay: share('retry-pay'),
    hotSection: share('hot-section'),
  },
  durationSeconds: whole('duration'),
  requestTimeoutMs: whole('request-timeout'),
};
const ownPort = flags.port === undefined ? undefined : whole('port');

const root = fileURLToPath(new URL('../', import.meta.url));
const startedAt = Date.now();
const log = (line: string) =>
  console.log(`[${((Date.now() - startedAt) / 1000).toFixed(1).padStart(6)}s] ${line}`);
installSignalHandlers(log, 'rehearse');

/** A server for one run: started here (and stopped after it), or the one at --url. */
interface Server {
  target: Target;
  stop(): Promise<void>;
}

async function devTokenTarget(url: string): Promise<Target> {
  const token = async (userId: string, role: 'user' | 'admin') => {
    const res = await fetch(`${url}/v1/dev/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ userId, role }),
      signal: AbortSignal.timeout(10_000),
    });
    if (res.status !== 201)
      throw new Error(`POST ${url}/v1/dev/tokens answered ${res.status}: the server needs DEV_AUTH on`);
    return ((await res.json()) as { token: string }).token;
  };
  await token('rehearse-probe', 'user');
  return { url, token };
}

async function startOwnServer(run: number, services: RunningServices | undefined): Promise<Server> {
  const port = ownPort ?? (await freePort());
  const workDir = mkdtempSync(join(tmpdir(), 'concert-rehearse-'));
  const secret = randomBytes(32).toString('hex');
  const tokens = createUserTokens({ secret, issuer: 'concert-auth', audience: 'concert-api' });
  const tag = `rh${Date.now().toString(36)}${run}`;
  const env: Record<string, string> = {
    NODE_ENV: 'development',
    HOST: '127.0.0.1',
    PORT: String(port),
    LOG_LEVEL: 'warn',
    DATA_DIR: workDir,
    AUTH_JWT_SECRET: secret,
    QUEUE_TOKEN_SECRET: randomBytes(32).toString('hex'),
    DEV_AUTH: '1',
    SEED_DEMO: '0',
  };
  let database: Target['database'];
  const undo: Array<() => Promise<void>> = [];
  if (services) {
    // A database, a Redis key space and Kafka topics of this run's own, so runs never see each other.
    const { createConnection } = await import('mysql2/promise');
    const admin = await createConnection({ uri: services.databaseUrl });
    const name = `concert_${tag}`;
    await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
    const url = new URL(services.databaseUrl);
    url.pathname = `/${name}`;
    Object.assign(env, {
      DATABASE_URL: url.toString(),
      REDIS_URL: services.redisUrl,
      REDIS_KEY_PREFIX: `${tag}:`,
      KAFKA_BROKERS: services.kafkaBrokers,
      KAFKA_TOPIC_PREFIX: `${tag}.`,
      ...(flags.workers ? { WORKERS: flags.workers } : {}),
    });
    const reader = await createConnection({ uri: url.toString() });
    database = (scheduleIds) => salesInDatabase(reader, scheduleIds);
    undo.push(async () => {
      await reader.end();
      await admin.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await admin.end();
      await removeRedisKeys(services.redisUrl, `${tag}:`);
      await removeTopics(services.kafkaBrokers, `${tag}.`);
    });
  }
  const logFile = join(workDir, 'server.log');
  const out = openSync(logFile, 'a');
  const child = start(process.execPath, ['--import', 'tsx', join(root, 'server', 'main.ts')], {
    cwd: root,
    env: childEnv(env),
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  const url = `http://127.0.0.1:${port}`;
  const stopServer = async () => {
    await stop(child, 15_000);
    for (const step of undo) await step();
    rmSync(workDir, { recursive: true, force: true });
  };
  const taken = onCleanup(`stopping the server on port ${port}`, stopServer);
  await waitUntilReady({ child, url, label: 'the server', logFile, timeoutMs: 60_000 });
  log(`server ready on ${url} (${services ? 'MariaDB, Redis, Kafka' : 'embedded adapters'}; log ${logFile})`);
  return {
    target: { url, token: (id, role) => tokens.sign({ id, role }), ...(database ? { database } : {}) },
    async stop() {
      taken();
      await stopServer();
    },
  };
}

async function salesInDatabase(
  connection: import('mysql2/promise').Connection,
  scheduleIds: string[],
): Promise<DatabaseSales> {
  const rows = async (sql: string) =>
    (await connection.query(sql, [scheduleIds]))[0] as Array<Record<string, unknown>>;
  const [sold] = await rows("SELECT COUNT(*) AS n FROM seats WHERE schedule_id IN (?) AND status = 'SOLD'");
  const [confirmed] = await rows(
    "SELECT COUNT(*) AS n FROM reservations WHERE schedule_id IN (?) AND status = 'CONFIRMED'",
  );
  const twice = await rows(
    "SELECT seat_id AS id FROM reservations WHERE schedule_id IN (?) AND status = 'CONFIRMED' GROUP BY seat_id HAVING COUNT(*) > 1",
  );
  const paidTwice = await rows(
    'SELECT r.seat_id AS id FROM payments p JOIN reservations r ON r.id = p.reservation_id WHERE r.schedule_id IN (?) GROUP BY p.reservation_id, r.seat_id HAVING COUNT(*) > 1',
  );
  return {
    soldSeats: Number(sold?.n),
    confirmedReservations: Number(confirmed?.n),
    doubleSold: [...twice, ...paidTwice].map((r) => `seat ${String(r.id)}`),
  };
}

async function removeRedisKeys(redisUrl: string, prefix: string): Promise<void> {
  const { Redis } = await import('ioredis');
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

async function removeTopics(brokers: string, prefix: string): Promise<void> {
  const { Kafka, logLevel } = await import('kafkajs');
  const admin = new Kafka({ brokers: brokers.split(','), logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
    if (topics.length > 0) await admin.deleteTopics({ topics });
  } finally {
    await admin.disconnect();
  }
}

async function main(): Promise<number> {
  let services: RunningServices | undefined;
  if (flags.services === 'real') {
    log('services: MariaDB, Redis and Kafka (started if not running)');
    services = await ensureServices((line) => log(line));
    onCleanup('stopping the services this run started', () => services!.stop());
  }
  const results = [];
  let refused: string | undefined;
  for (const [i, queue] of runsQueue.entries()) {
    const name = runsQueue.length > 1 ? `run ${i + 1}: ${label(queue)}` : label(queue);
    log(`▶ ${name}`);
    const server: Server = flags.url
      ? { target: await devTokenTarget(flags.url.replace(/\/$/, '')), stop: async () => undefined }
      : await startOwnServer(i, services);
    try {
      results.push(await rehearseOpening(server.target, { ...opening, queue }, label(queue), log));
    } catch (error) {
      if (!(error instanceof SettingsRefused)) throw error;
      refused = error.message;
      break;
    } finally {
      await server.stop();
    }
  }
  // The runs before a refusal still make their report.
  if (refused !== undefined && results.length === 0) {
    console.error(`\n${refused}`);
    return 2;
  }
  const summaries = results.map(summarise);
  console.log('');
  for (const line of consoleSummary(summaries)) console.log(`  ${line}`);
  const file = resolve(
    flags.report ??
      join(
        root,
        'rehearse',
        '.reports',
        `rehearsal-${new Date(startedAt).toISOString().replace(/[:.]/g, '-')}.html`,
      ),
  );
  mkdirSync(dirname(file), { recursive: true });
  const command = [
    'npm run rehearse',
    ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : []),
  ].join(' ');
  writeFileSync(file, htmlReport(summaries, { command, at: new Date(startedAt) }));
  writeFileSync(
    `${file.replace(/\.html?$/, '')}.json`,
    JSON.stringify({ command, runs: summaries, journeys: results.map((r) => r.journeys) }),
  );
  log(`report: ${file}`);
  if (refused !== undefined) {
    console.error(`\n${refused}`);
    return 2;
  }
  const wrong = summaries.filter((s) => !s.sales.ok || s.serverErrors > 0);
  if (wrong.length > 0) {
    for (const s of wrong)
      console.error(
        `FAILED ${s.label}: ${[...s.sales.problems, ...(s.serverErrors > 0 ? [`${s.serverErrors} answers 5xx other than 503`] : [])].join('; ')}`,
      );
    return 1;
  }
  return 0;
}

main()
  .then(async (code) => {
    await cleanup(log, 'rehearse');
    process.exit(code);
  })
  .catch(async (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    await cleanup(log, 'rehearse');
    process.exit(1);
  });
