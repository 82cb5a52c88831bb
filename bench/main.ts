import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { sql } from 'kysely';
import { connectDatabase, type Database } from '../shared/db/connect.ts';
import { migrateToLatest } from '../shared/db/migrate.ts';
import { queueKeys } from '../shared/queue/redis-queue-store.ts';
import { ensureServices, type RunningServices } from '../tests/setup/services.ts';
import { loadAutocannon } from './lib/autocannon.ts';
import { childEnv, cleanup, freePort, installSignalHandlers, onCleanup } from './lib/children.ts';
import { BenchContext } from './lib/context.ts';
import { createCpuMeter } from './lib/cpu.ts';
import { createHttpClient } from './lib/http.ts';
import { bundleServer, type ServerProcess, startServer } from './lib/server-process.ts';
import { wrkVersion } from './lib/wrk.ts';
import {
  consoleReport,
  consoleSummary,
  describeMachine,
  machineLines,
  markdownReport,
  type Result,
  sectionLines,
  verdict,
  writeResultsTable,
} from './report.ts';
import { scenarios } from './scenarios/index.ts';
import type { Section } from './scenarios/scenario.ts';

const usage = `npm run bench -- [scenario...] [options]     (no scenario = all, in this order)

scenarios: ${scenarios.map((s) => s.name).join(', ')}

  --duration <s>          measured seconds per run (10)
  --warmup <s>            warm-up seconds before each measured run (2)
  --connections <n>       wrk connections (64)
  --threads <n>           wrk threads (2)
  --workers <n[,n]>       server processes (node cluster) sharing the port; "1,2" runs the set twice (1)
  --db-pool <n>           DB_POOL_SIZE of each server process (the server's default)
  --baseline-wait-ms <ms> the baseline's tryLock wait (10000, the seed ADR's tryLock(10, 5, SECONDS))
  --node-flags "<flags>"  extra flags for the server's node, e.g. "--max-semi-space-size=64"
  --streams <n>           SSE streams the sse scenario opens on one server process (20000)
  --no-events             serve the functions without the in-process outbox relay, dispatcher and triggers
  --profile               CPU-profile the server during each measured run; print where its time went
  --write-docs            write the results table into docs/benchmarks.md's "Latest full run"
  --keep-db               keep the run's database (dropped by default)
  --autocannon            load from autocannon even though wrk is installed (the fallback without wrk)`;

// `npm run bench -- events [--rate 1000 --duration 10 --burst 20000]`: the events pipeline, measured apart.
if (process.argv[2] === 'events') {
  process.argv.splice(2, 1);
  await import('./events.ts');
  process.exit(0);
}

const { values: flags, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    connections: { type: 'string', default: '64' },
    threads: { type: 'string', default: '2' },
    workers: { type: 'string', default: '1' },
    streams: { type: 'string', default: '20000' },
    'db-pool': { type: 'string' },
    'baseline-wait-ms': { type: 'string' },
    profile: { type: 'boolean', default: false },
    'no-events': { type: 'boolean', default: false },
    'node-flags': { type: 'string', default: '' },
    'write-docs': { type: 'boolean', default: false },
    autocannon: { type: 'boolean', default: false },
    'keep-db': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (flags.help) {
  console.log(usage);
  process.exit(0);
}
const unknown = positionals.filter((p) => !scenarios.some((s) => s.name === p));
if (unknown.length > 0) {
  console.error(`unknown scenario ${unknown.join(', ')}\n\n${usage}`);
  process.exit(64);
}
const selected = positionals.length === 0 ? scenarios : scenarios.filter((s) => positionals.includes(s.name));
const number = (name: string, value: string | undefined) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    console.error(`--${name} needs a positive whole number`);
    process.exit(64);
  }
  return n;
};
const options = {
  durationSeconds: number('duration', flags.duration),
  warmupSeconds: number('warmup', flags.warmup),
  connections: number('connections', flags.connections),
  threads: number('threads', flags.threads),
  streams: number('streams', flags.streams),
};
const workerCounts = (flags.workers ?? '1').split(',').map((w) => number('workers', w));

const root = fileURLToPath(new URL('../', import.meta.url));
const startedAt = Date.now();
const log = (line: string) =>
  console.log(`[${((Date.now() - startedAt) / 1000).toFixed(1).padStart(6)}s] ${line}`);

installSignalHandlers(log, 'bench');

async function main(): Promise<number> {
  let generator: 'wrk' | 'autocannon' = flags.autocannon ? 'autocannon' : 'wrk';
  let loadTool = await wrkVersion();
  if (!loadTool && !flags.autocannon) {
    log('wrk is not installed: sudo apt-get install wrk   (falling back to autocannon)');
    generator = 'autocannon';
  }
  if (generator === 'autocannon') {
    if (!(await loadAutocannon())) {
      console.error('no load generator: sudo apt-get install wrk   (or: npm install -D autocannon)');
      return 69;
    }
    loadTool = 'autocannon (in the bench process)';
  }

  log('services: MariaDB and Redis (started if not running)');
  const services: RunningServices = await ensureServices((line) => log(line));
  onCleanup('stopping the services this run started', () => services.stop());

  const runId = `b${Date.now().toString(36).slice(-7)}`;
  const workDir = join(tmpdir(), `concert-bench-${runId}`);
  mkdirSync(workDir, { recursive: true });
  onCleanup('removing the request lists', async () => {
    for (const f of readdirSync(workDir)) if (f.endsWith('.requests')) rmSync(join(workDir, f));
  });

  const { database, url: databaseUrl } = await freshDatabase(services.databaseUrl, runId);
  const redis = new Redis(services.redisUrl, { maxRetriesPerRequest: 1 });
  onCleanup('closing the Redis connection', async () => redis.disconnect());
  const versions = {
    mariadb: String((await sql<{ v: string }>`select version() as v`.execute(database.db)).rows[0]?.v),
    redis: /redis_version:(\S+)/.exec(await redis.info('server'))?.[1] ?? 'unknown',
    loadGenerator: loadTool ?? 'unknown',
  };
  const machine = describeMachine(versions);
  for (const line of machineLines(machine)) log(line);

  log('bundling bench/server.ts (esbuild)');
  // Inside the repo, so that the packages left out of the bundle (sql.js) resolve from node_modules.
  const buildDir = join(root, 'bench', '.build', runId);
  const bundle = await bundleServer(buildDir);
  // Profiles name bundle positions; the bundle's source map stays for bench/profile-summary.ts then.
  if (!flags.profile) {
    onCleanup('removing the server bundle', async () => rmSync(buildDir, { recursive: true, force: true }));
  }
  const secrets = { auth: randomBytes(32).toString('hex'), queue: randomBytes(32).toString('hex') };
  const results: Result[] = [];
  const sections: Section[] = [];

  for (const workers of workerCounts) {
    const port = await freePort();
    const profileDir = join(workDir, `profiles-w${workers}`);
    log(`starting the server: ${workers} process${workers > 1 ? 'es (cluster)' : ''} on 127.0.0.1:${port}`);
    const server: ServerProcess = await startServer({
      bundle,
      port,
      logFile: join(workDir, `server-w${workers}.log`),
      // --expose-gc: GET /bench/memory collects before it answers (the sse scenario's memory per stream).
      nodeFlags: ['--expose-gc', ...flags['node-flags'].split(/\s+/).filter(Boolean)],
      ...(flags.profile ? { profile: { dir: profileDir, processes: workers } } : {}),
      args: [
        '--workers',
        String(workers),
        ...(flags['baseline-wait-ms'] ? ['--baseline-wait-ms', flags['baseline-wait-ms']] : []),
        ...(flags['no-events'] ? ['--no-events'] : []),
      ],
      env: serverEnv({ port, databaseUrl, redisUrl: services.redisUrl, secrets, workDir }),
    });
    const stopServer = async () => {
      log('stopping the server');
      await server.stop();
    };
    const stopped = onCleanup('stopping the server', stopServer);
    log(`server ready (log: ${server.logFile})`);

    const http = createHttpClient(server.url);
    const cpu = createCpuMeter({ redisPort: new URL(services.redisUrl).port });
    const ctx = new BenchContext({
      // Users, keys and wallets are named per pass, so a second pass (--workers 1,2) starts afresh.
      runId: `${runId}w${workers}`,
      baseUrl: server.url,
      serverPid: server.pid,
      profiler: server.profiler,
      http,
      db: database.db,
      databaseUrl,
      redisUrl: services.redisUrl,
      options,
      generator,
      workDir,
      buildDir,
      cpu,
      authJwtSecret: secrets.auth,
      log,
    });
    onCleanup("removing this pass's queues", () => removeQueues(redis, ctx.concerts));
    for (const scenario of selected) {
      // The machine's reference points do not depend on the server: measured once per run.
      if (scenario.name === 'calibrate' && results.some((r) => r.id.startsWith('calibrate-'))) continue;
      log(`▶ ${scenario.name}: ${scenario.about}`);
      const rows = (await scenario.run(ctx)).map((r) => ({
        ...r,
        workers: r.id.startsWith('calibrate-') ? 1 : workers,
      }));
      results.push(...rows);
      for (const line of consoleReport(rows, results)) log(line);
      for (const section of ctx.sections.splice(0)) {
        const titled = {
          ...section,
          title: `${section.title}, ${workers} server process${workers > 1 ? 'es' : ''}`,
        };
        sections.push(titled);
        for (const line of sectionLines(titled)) log(line);
      }
      log(`■ ${scenario.name} done`);
    }
    http.close();
    stopped();
    await stopServer();
    if (flags.profile) log(`CPU profiles of the measured runs in ${profileDir}`);
  }

  console.log('');
  log('results');
  for (const line of machineLines(machine)) console.log(`  ${line}`);
  for (const line of consoleReport(results)) console.log(`  ${line}`);
  console.log('');
  for (const workers of workerCounts)
    for (const line of consoleSummary(results, workers)) console.log(`  ${line}`);
  for (const section of sections) for (const line of sectionLines(section)) console.log(`  ${line}`);
  const missed = results.filter((r) => verdict(r, results).met === false);
  console.log(
    `\n  targets: ${results.filter((r) => verdict(r, results).met).length} met, ${missed.length} missed` +
      (missed.length > 0
        ? ` (${missed.map((r) => `${r.id}${r.round ? ` run ${r.round.index}` : ''} with ${r.workers}w`).join(', ')})`
        : ''),
  );
  writeFileSync(join(workDir, 'results.json'), JSON.stringify({ machine, options, results }, null, 2));
  if (flags['write-docs']) {
    const command = [
      'npm run bench',
      ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : []),
    ].join(' ');
    const file = join(root, 'docs', 'benchmarks.md');
    writeResultsTable(file, markdownReport(results, machine, command, new Date(startedAt), sections));
    log(`${file}: latest full run updated`);
  }
  const wrong = [
    ...results.filter((r) => !r.correctness.ok).map((r) => `${r.id} (${r.correctness.text})`),
    ...sections.filter((s) => !s.ok).map((s) => s.title),
  ];
  if (wrong.length > 0) {
    console.error(`\nCORRECTNESS FAILED: ${wrong.join('; ')}`);
    return 1;
  }
  log(`work files (results.json, server logs, profiles) in ${workDir}`);
  return 0;

  /** A database of its own, migrated, with ids that start where no earlier run's ids reach. */
  async function freshDatabase(baseUrl: string, id: string): Promise<{ database: Database; url: string }> {
    const name = `concert_${id}`;
    const { createConnection } = await import('mysql2/promise');
    const admin = await createConnection({ uri: baseUrl });
    await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
    const url = new URL(baseUrl);
    url.pathname = `/${name}`;
    const db = await connectDatabase({
      url: url.toString(),
      driver: 'mysql2',
      poolSize: 4,
      connectTimeoutMs: 3000,
      dataDir: workDir,
    });
    onCleanup(`dropping database ${name}`, async () => {
      await db.close();
      if (!flags['keep-db']) await admin.query(`DROP DATABASE IF EXISTS \`${name}\``);
      else log(`kept database ${name}`);
      await admin.end();
    });
    await migrateToLatest(db.db);
    // Redis keys are named by concert, schedule and seat ids: ids unique to this run keep runs apart.
    const base = Math.floor(Date.now() / 1000) * 1_000_000;
    for (const table of [
      'concerts',
      'schedules',
      'seats',
      'reservations',
      'payments',
      'point_ledger',
      'outbox',
    ]) {
      await sql`alter table ${sql.table(table)} auto_increment = ${sql.lit(base)}`.execute(db.db);
    }
    log(`database ${name} created and migrated; ids start at ${base}`);
    return { database: db, url: url.toString() };
  }
}

function serverEnv(o: {
  port: number;
  databaseUrl: string;
  redisUrl: string;
  secrets: { auth: string; queue: string };
  workDir: string;
}): NodeJS.ProcessEnv {
  // Nothing of the caller's own service configuration leaks into the server: only what is set here.
  return childEnv({
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: String(o.port),
    LOG_LEVEL: 'warn',
    DATABASE_URL: o.databaseUrl,
    DB_MIGRATE: '0',
    REDIS_URL: o.redisUrl,
    AUTH_JWT_SECRET: o.secrets.auth,
    QUEUE_TOKEN_SECRET: o.secrets.queue,
    DEV_AUTH: '0',
    SEED_DEMO: '0',
    DATA_DIR: o.workDir,
    // The limiter and the queue's admission must not be what is measured.
    RATE_LIMIT_PER_SECOND: '1000000',
    RATE_LIMIT_BURST: '1000000',
    QUEUE_MAX_ACTIVE: '1000000',
    ...(flags['db-pool'] ? { DB_POOL_SIZE: flags['db-pool'] } : {}),
  });
}

/** The queues of this run's concerts (hold guards, caches and rate-limit keys expire by themselves). */
async function removeQueues(redis: Redis, concerts: string[]): Promise<void> {
  for (const id of concerts) {
    await redis.del(...queueKeys(id));
    await redis.srem('q:concerts', id);
  }
}

main()
  .then(async (code) => {
    await cleanup(log, 'bench');
    process.exit(code);
  })
  .catch(async (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    await cleanup(log, 'bench');
    process.exit(1);
  });
