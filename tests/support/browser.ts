import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { type LaunchedProcess, launchProcess } from './server-process.ts';

/** The Debian package's Chromium (CHROMIUM_PATH for another one). */
export const chromiumPath = () => process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export async function launchBrowser(): Promise<Browser> {
  // Root in CI containers: Chromium's sandbox needs user namespaces those do not grant.
  return chromium.launch({ executablePath: chromiumPath(), headless: true, args: ['--no-sandbox'] });
}

/** `npm start` in its embedded mode, with an empty catalogue and a port from WEB_TEST_PORT when given. */
export async function startEmbeddedServer(env: Record<string, string> = {}): Promise<LaunchedProcess> {
  const port = process.env.WEB_TEST_PORT ? Number(process.env.WEB_TEST_PORT) : undefined;
  const server = await launchProcess(
    ['server/main.ts'],
    {
      DATA_DIR: mkdtempSync(join(tmpdir(), 'concert-web-')),
      SEED_DEMO: '0',
      DEV_AUTH: '1',
      RATE_LIMIT_PER_SECOND: '1000',
      RATE_LIMIT_BURST: '1000',
      ...env,
    },
    port === undefined ? {} : { port },
  );
  await server.healthy(30_000);
  return server;
}

/** A dev token, as the sign-in form gets it. */
export async function devToken(url: string, userId: string, role: 'user' | 'admin' = 'user') {
  const response = await fetch(`${url}/v1/dev/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ userId, role }),
  });
  return ((await response.json()) as { token: string }).token;
}

export async function adminCall<T>(url: string, method: string, path: string, body?: unknown): Promise<T> {
  const token = await devToken(url, 'test-operator', 'admin');
  const response = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

export interface CreatedConcert {
  id: string;
  title: string;
  schedules: { id: string }[];
}

export function createConcert(url: string, title: string, seatCount = 10): Promise<CreatedConcert> {
  return adminCall(url, 'POST', '/v1/admin/concerts', {
    title,
    venue: 'Browser Hall',
    schedules: [{ startsAt: new Date(Date.now() + 7 * 86_400_000).toISOString(), seatCount, price: 50_000 }],
  });
}

/** A fresh browser profile in English, signed in as `userId` the way a host application hands a token over. */
export async function signedInPage(
  browser: Browser,
  url: string,
  userId: string,
  path: string,
  role: 'user' | 'admin' = 'user',
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 390, height: 844 } });
  const page = await context.newPage();
  await page.goto(`${url}${path}#token=${await devToken(url, userId, role)}`);
  return { context, page };
}
