import { serve } from '@hono/node-server';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { ConfigError, loadConfig } from './config.ts';
import { createHttpApp } from './http/create-http-app.ts';
import { devTokenRoutes } from './http/dev-tokens.ts';
import type { AppEnv } from './http/env.ts';
import { createLogger } from './logger.ts';
import { createRuntime, type Runtime } from './runtime.ts';

export type Mount = (runtime: Runtime) => OpenAPIHono<AppEnv> | OpenAPIHono<AppEnv>[];

export interface ServeOptions {
  name: string;
  mounts: Mount[];
  /** Runs after the runtime is up and before the port opens (seeding, schedulers, consumers). */
  onStart?: (runtime: Runtime) => Promise<(() => Promise<void>) | undefined>;
  banner?: (url: string, runtime: Runtime) => string[];
}

/**
 * The container contract of a Knative function: read config once, listen on $PORT, log JSON to stdout,
 * drain and close on SIGTERM. The all-in-one server is the same thing with every mount.
 */
export async function serveFunctions(options: ServeOptions): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(78);
    }
    throw error;
  }
  const logger = createLogger({ level: config.LOG_LEVEL, service: options.name });
  let runtime: Runtime;
  try {
    runtime = await createRuntime(config, logger);
  } catch (error) {
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

  const server = serve({ fetch: app.fetch, port: config.PORT, hostname: config.HOST }, (info) => {
    const host = config.HOST === '0.0.0.0' ? '127.0.0.1' : config.HOST;
    const url = `http://${host}:${info.port}`;
    logger.info({ url, embedded: config.embedded, devAuth: config.devAuth }, `${options.name} listening`);
    for (const line of options.banner?.(url, runtime) ?? []) process.stdout.write(`${line}\n`);
  });

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

export function isEntryPoint(metaUrl: string): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  return (
    new URL(metaUrl).pathname === entry || new URL(metaUrl).pathname.replace(/\.[cm]?[jt]s$/, '') === entry
  );
}
