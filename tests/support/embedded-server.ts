import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { allMounts } from '../../server/all-functions.ts';
import { loadConfig } from '../../shared/config.ts';
import { createHttpApp } from '../../shared/http/create-http-app.ts';
import { devTokenRoutes } from '../../shared/http/dev-tokens.ts';
import { createRuntime, type Runtime } from '../../shared/runtime.ts';
import { manualClock, testSecret } from './harness.ts';

export interface TestServer {
  app: ReturnType<typeof createHttpApp>;
  runtime: Runtime;
  clock: ReturnType<typeof manualClock>;
  close(): Promise<void>;
}

/**
 * The all-in-one server in process, on the embedded adapters (or on real ones when `env` names them), with a
 * clock the test moves. What `npm start` serves, called through `app.request` without a socket.
 */
export async function startTestServer(env: Record<string, string> = {}): Promise<TestServer> {
  const clock = manualClock(Date.now());
  const config = loadConfig({
    DATA_DIR: mkdtempSync(join(tmpdir(), 'concert-test-')),
    AUTH_JWT_SECRET: testSecret,
    QUEUE_TOKEN_SECRET: 'queue-secret-that-is-long-enough-0123456789',
    RATE_LIMIT_PER_SECOND: '1000',
    RATE_LIMIT_BURST: '1000',
    SEED_DEMO: '0',
    DEV_AUTH: '1',
    LOG_LEVEL: 'silent',
    ...env,
  });
  const logger = pino({ level: 'silent' });
  const runtime = await createRuntime(config, logger, { clock });
  const app = createHttpApp({
    name: 'all-in-one',
    logger,
    metrics: runtime.metrics,
    maxBodyBytes: config.MAX_BODY_BYTES,
    readiness: runtime.readiness,
    // As shared/serve.ts mounts them: the dev token route exists only when DEV_AUTH is on.
    routes: [
      ...allMounts.flatMap((mount) => mount(runtime)),
      ...(config.devAuth ? [devTokenRoutes(runtime.userTokens)] : []),
    ],
    beforeScrape: runtime.refreshGauges,
    corsOrigins: config.CORS_ORIGINS,
  });
  return { app, runtime, clock, close: () => runtime.close() };
}

export async function call(
  server: TestServer,
  method: string,
  path: string,
  /** `raw` is sent as it is (broken JSON, oversized bodies); `body` is sent as JSON. */
  options: { headers?: Record<string, string>; body?: unknown; raw?: string } = {},
) {
  const body = options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  const res = await server.app.request(path, {
    method,
    headers: { 'content-type': 'application/json', ...options.headers },
    ...(body === undefined ? {} : { body }),
  });
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}
