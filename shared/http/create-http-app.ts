import { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import { AppError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import { type AllowedMethods, allowedMethods } from './allowed-methods.ts';
import { mountDocs } from './docs-page.ts';
import type { AppEnv } from './env.ts';
import { notFound, onError, respondWithError } from './error-handler.ts';
import { directAnswers } from './event-stream.ts';
import { metricsMiddleware } from './metrics-middleware.ts';
import { requestIdMiddleware } from './request-id.ts';

export interface ReadinessCheck {
  name: string;
  check(): Promise<void>;
  /**
   * What this process is while the check fails: `unavailable` (the default: /readyz answers 503, take it
   * out of rotation) or `degraded` (it still serves its requests, so /readyz stays 200 and names the
   * dependency, as the API does while Kafka is away and its events wait in the outbox).
   */
  whenDown?: 'unavailable' | 'degraded';
}

export interface HttpAppOptions {
  /** The function's name: the `function` label of its metrics. */
  name: string;
  logger: Logger;
  metrics: Metrics;
  maxBodyBytes: number;
  readiness: ReadinessCheck[];
  routes: OpenAPIHono<AppEnv>[];
  /** Refreshes gauges (pool usage, queue sizes) right before a scrape. */
  beforeScrape?: () => Promise<void> | void;
  /** Browser origins allowed to call the API (`CORS_ORIGINS`); none: no CORS headers at all. */
  corsOrigins?: readonly string[];
}

const readinessTimeoutMs = 1500;

/**
 * The HTTP shell shared by every function and by the all-in-one server: request id, metrics, body limit,
 * one error handler, JSON 404, and the operational endpoints Knative probes and Prometheus scrape.
 * Middleware lives only here; a function contributes routes, so mounting several never runs it twice.
 */
export function createHttpApp(options: HttpAppOptions): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>();
  app.use(directAnswers());
  app.use(requestIdMiddleware(options.logger));
  app.use(metricsMiddleware(options.metrics, options.name));
  // Read at the first request, when every route (also those added after this returns) is registered.
  let table: AllowedMethods | undefined;
  const methodsOf: AllowedMethods = (path) => {
    table ??= allowedMethods(app.routes);
    return table(path);
  };
  if (options.corsOrigins?.length) app.use(corsFor(options.corsOrigins, methodsOf));
  const tooLarge = (c: Context<AppEnv>) =>
    respondWithError(
      c,
      new AppError('PAYLOAD_TOO_LARGE', `Body is larger than ${options.maxBodyBytes} bytes`),
    );
  const limitBody = bodyLimit({ maxSize: options.maxBodyBytes, onError: tooLarge });
  // Only where a body can come, and by its Content-Length when it has one (Node's parser then reads no
  // more than that): touching the raw body makes the Node adapter build a full web Request, a cost on
  // every request that would otherwise need none. Chunked bodies go through hono's streaming check.
  app.use(async function limitRequestBody(c, next) {
    if (c.req.method === 'GET' || c.req.method === 'HEAD' || c.req.method === 'OPTIONS') return next();
    const declared = c.req.header('content-length');
    if (declared !== undefined && /^\d+$/.test(declared)) {
      if (Number(declared) > options.maxBodyBytes) return tooLarge(c);
      return next();
    }
    return limitBody(c, next);
  });
  app.onError(onError);
  app.notFound(notFound(methodsOf));

  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    const results = await Promise.all(
      options.readiness.map(async ({ name, check, whenDown }) => {
        try {
          await withTimeout(check(), readinessTimeoutMs, name);
          return { name, ok: true as const, status: 'ok' as const };
        } catch (error) {
          return {
            name,
            ok: false as const,
            status: whenDown ?? ('unavailable' as const),
            error: error instanceof Error ? error.message : String(error),
          };
        }
      }),
    );
    const ready = results.every((r) => r.status !== 'unavailable');
    const status = !ready ? 'unavailable' : results.every((r) => r.ok) ? 'ready' : 'degraded';
    if (!ready) c.header('Retry-After', '2');
    return c.json({ status, checks: results }, ready ? 200 : 503);
  });
  app.get('/metrics', async (c) => {
    await options.beforeScrape?.();
    c.header('Content-Type', options.metrics.registry.contentType);
    return c.body(await options.metrics.registry.metrics());
  });

  for (const routes of options.routes) app.route('/', routes);

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
  });
  const documentInfo = {
    openapi: '3.1.0',
    info: { title: 'Concert reservation API', version: '1.0.0', description: `Served by ${options.name}` },
  };
  app.get('/openapi.json', (c) => c.json(bodyErrorsDocumented(app.getOpenAPI31Document(documentInfo))));
  mountDocs(app);
  return app;
}

type OpenApiDocument = ReturnType<OpenAPIHono['getOpenAPI31Document']>;

/**
 * Every operation that takes a body also answers 413 (the body limit above) and 415 (zod-openapi's media
 * type check): documented here, next to the limit, rather than repeated in each route's definition.
 */
function bodyErrorsDocumented(document: OpenApiDocument): OpenApiDocument {
  const answer = (description: string) => ({
    description,
    content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
  });
  for (const item of Object.values(document.paths ?? {})) {
    for (const operation of Object.values(item)) {
      if (typeof operation !== 'object' || operation === null || !('requestBody' in operation)) continue;
      const responses = (operation as { responses?: Record<string, unknown> }).responses;
      if (!operation.requestBody || !responses) continue;
      responses['413'] ??= answer('PAYLOAD_TOO_LARGE');
      responses['415'] ??= answer('UNSUPPORTED_MEDIA_TYPE');
    }
  }
  return document;
}

/**
 * hono's cors for the configured origins, on requests that carry an Origin; a preflight for a path this
 * process does not serve falls through to the 404 instead of hono's blanket 204.
 */
function corsFor(origins: readonly string[], methodsOf: AllowedMethods) {
  const handler = cors({
    origin: [...origins],
    allowMethods: (_origin, c) => methodsOf(c.req.path),
    allowHeaders: ['Authorization', 'Content-Type', 'Idempotency-Key', 'X-Queue-Token', 'X-Request-Id'],
    exposeHeaders: ['Retry-After', 'X-Request-Id', 'Idempotent-Replayed', 'ETag', 'WWW-Authenticate'],
    maxAge: 600,
  });
  return async function corsForOrigins(c: Context<AppEnv>, next: () => Promise<void>) {
    if (c.req.header('origin') === undefined) {
      // A shared cache must not hand this answer, made without CORS headers, to a browser's request.
      await next();
      c.header('Vary', 'Origin', { append: true });
      return;
    }
    if (c.req.method === 'OPTIONS' && methodsOf(c.req.path).length === 0) return next();
    return handler(c, next);
  };
}

async function withTimeout<T>(promise: Promise<T>, ms: number, name: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${name} did not answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
