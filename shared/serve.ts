import cluster from 'node:cluster';
import os from 'node:os';
import { createAdaptorServer, type HttpBindings, type ServerType } from '@hono/node-server';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { ConfigError, loadConfig } from './config.ts';
import { DataDirLockedError } from './db/data-dir-lock.ts';
import { runMigrations } from './db/migrate-command.ts';
import { createHttpApp } from './http/create-http-app.ts';
import { devTokenRoutes } from './http/dev-tokens.ts';
import type { AppEnv } from './http/env.ts';
import { createLogger } from './logger.ts';
import { migrateTask } from './needs.ts';
import { createRuntime, type Runtime } from './runtime.ts';

export type Mount = (runtime: Runtime) => OpenAPIHono<AppEnv> | OpenAPIHono<AppEnv>[];

export interface ServeOptions {
  name: string;
  mounts: Mount[];
  /** Runs after the runtime is up and before the port opens (seeding, schedulers, consumers). */
  onStart?: (runtime: Runtime) => Promise<(() => Promise<void>) | undefined>;
  /** processes: how many serve and why (with `workers`). */
  banner?: (url: string, runtime: Runtime, processes: string) => string[];
  /**
   * Serve from `WORKERS` processes sharing the port (node cluster; one per core when unset) when the
   * database and Redis are real services: the all-in-one server. Embedded adapters live inside one process,
   * so with them it stays one process and says so.
   */
  workers?: boolean;
}

/** How many processes serve, and why (a line for the banner). */
export function workerPlan(
  config: { WORKERS?: number | undefined; DATABASE_URL?: string | undefined; REDIS_URL?: string | undefined },
  cores = os.availableParallelism(),
): { count: number; why: string } {
  if (!config.DATABASE_URL || !config.REDIS_URL) {
    return {
      count: 1,
      why:
        'one process: the embedded database and Redis live inside it' +
        (config.WORKERS && config.WORKERS > 1
          ? ` (WORKERS=${config.WORKERS} needs DATABASE_URL and REDIS_URL)`
          : ''),
    };
  }
  if (config.WORKERS) return { count: config.WORKERS, why: `${config.WORKERS} (WORKERS)` };
  return { count: cores, why: `${cores}, one per core (set WORKERS to choose)` };
}

/**
 * The container contract of a Knative function: read config once, listen on $PORT, log JSON to stdout,
 * drain and close on SIGTERM. The all-in-one server is the same thing with every mount.
 */
export async function serveFunctions(options: ServeOptions): Promise<void> {
  const migrateOnly = process.argv.includes('--migrate');
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(process.env, migrateOnly ? migrateTask : options.name);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(78);
    }
    throw error;
  }
  const logger = createLogger({ level: config.LOG_LEVEL, service: options.name });
  if (migrateOnly) process.exit(await runMigrations(config, logger));
  const plan = options.workers ? workerPlan(config) : { count: 1, why: '' };
  if (plan.count > 1 && cluster.isPrimary) return runPrimary(options.name, plan.count, logger);
  // A refusal a person can act on is one plain line, not a stack trace.
  const refuse = (message: string): never => {
    process.stderr.write(`${options.name}: ${message}\n`);
    process.exit(1);
  };

  // The port first: a busy port must not be found only after migrations and seeding have run. Until the
  // runtime is up, every request (probes included) answers 503.
  let handle: (request: Request, env: HttpBindings) => Response | Promise<Response> = startingUp;
  const server = createAdaptorServer({ fetch: (request, env) => handle(request, env as HttpBindings) });
  await listen(server, config.PORT, config.HOST).catch((error: unknown) =>
    refuse(listenProblem(error, config.HOST, config.PORT)),
  );

  let runtime: Runtime;
  try {
    runtime = await createRuntime(config, logger, { processName: options.name });
  } catch (error) {
    if (error instanceof DataDirLockedError) refuse(error.message);
    // One clear line, not a stack: the usual cause is a service that is not up yet (Knative retries us).
    logger.fatal({ err: error instanceof Error ? error.message : String(error) }, 'could not start');
    process.exit(1);
  }
  const stopBackground = await options.onStart?.(runtime);

  const routes = options.mounts.flatMap((mount) => mount(runtime));
  if (config.devAuth) routes.push(devTokenRoutes(runtime.userTokens));
  const app = createHttpApp({
    name: options.name,
    logger,
    metrics: runtime.metrics,
    maxBodyBytes: config.MAX_BODY_BYTES,
    readiness: runtime.readiness,
    routes,
    beforeScrape: runtime.refreshGauges,
    corsOrigins: config.CORS_ORIGINS,
  });
  handle = app.fetch;

  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.PORT;
  const host = config.HOST === '0.0.0.0' ? '127.0.0.1' : config.HOST;
  const url = `http://${host}:${port}`;
  logger.info({ url, ...runtime.adapters, devAuth: config.devAuth }, `${options.name} listening`);
  // One banner for the whole server, not one per worker.
  if (!cluster.isWorker || cluster.worker?.id === 1) {
    for (const line of options.banner?.(url, runtime, plan.why) ?? []) process.stdout.write(`${line}\n`);
  }
  // The primary tells a worker that dies before it serves from one that dies later.
  if (cluster.isWorker) process.send?.({ type: 'serving' });

  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    server.close(async () => {
      await stopBackground?.();
      await runtime.close();
      process.exit(0);
    });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

/**
 * The cluster primary: forks the workers (each runs everything a single process would, on the shared port)
 * and serves nothing itself. A worker that dies before it serves stops them all (a refusal such as a busy
 * port would only repeat); one that dies later is replaced. SIGTERM and SIGINT go to every worker.
 */
function runPrimary(name: string, count: number, logger: ReturnType<typeof createLogger>): void {
  let stopping = false;
  let failed = false;
  let running = 0;
  const serving = new Set<number>();
  const fork = () => {
    running += 1;
    const worker = cluster.fork();
    worker.on('message', (message: { type?: string }) => {
      if (message?.type === 'serving') serving.add(worker.id);
    });
  };
  const stop = () => {
    stopping = true;
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  cluster.on('exit', (worker, code, signal) => {
    running -= 1;
    const served = serving.delete(worker.id);
    if (!stopping && served) {
      logger.error({ pid: worker.process.pid, code, signal }, `${name}: a worker died; starting another`);
      fork();
      return;
    }
    if (!stopping) {
      failed = true;
      stop();
    }
    if (running === 0) process.exit(failed ? 1 : 0);
  });
  for (let i = 0; i < count; i++) fork();
}

function listen(server: ServerType, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function listenProblem(error: unknown, host: string, port: number): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const where = `${host}:${port}`;
  if (code === 'EADDRINUSE') {
    return `port ${port} is already in use on ${host} (another process listens there): stop it, or set PORT to a free port`;
  }
  if (code === 'EACCES') return `not allowed to listen on ${where}: set PORT to a port above 1023`;
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') {
    return `HOST ${host} is not an address of this machine: set HOST to 0.0.0.0 or 127.0.0.1`;
  }
  return `cannot listen on ${where}: ${error instanceof Error ? error.message : String(error)}`;
}

function startingUp(): Response {
  const body = {
    error: { code: 'DEPENDENCY_UNAVAILABLE', message: 'Starting up, retry in a moment', requestId: '' },
  };
  return new Response(JSON.stringify(body), {
    status: 503,
    headers: { 'content-type': 'application/json', 'retry-after': '1' },
  });
}

export function isEntryPoint(metaUrl: string): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  return (
    new URL(metaUrl).pathname === entry || new URL(metaUrl).pathname.replace(/\.[cm]?[jt]s$/, '') === entry
  );
}
