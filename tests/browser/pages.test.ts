import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  adminCall,
  createConcert,
  devToken,
  launchBrowser,
  startEmbeddedServer,
} from '../support/browser.ts';
import type { LaunchedProcess } from '../support/server-process.ts';

/**
 * Every page in its loaded state: axe-core finds no serious or critical violation, a phone-sized screen
 * does not scroll sideways, and each is photographed at phone and desktop size (into SCREENSHOTS_DIR when
 * set: `SCREENSHOTS_DIR=docs/screenshots` refreshes the README's pictures).
 */
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const sizes = { phone: { width: 390, height: 844 }, desktop: { width: 1280, height: 800 } };
const screenshots = process.env.SCREENSHOTS_DIR;
/** Korean pages are photographed only where a Hangul font is installed (scripts/services/install.sh adds one). */
const koreanFont = (() => {
  try {
    return execFileSync('fc-list', [':lang=ko'], { encoding: 'utf8' }).trim() !== '';
  } catch {
    return false;
  }
})();

let server: LaunchedProcess;
let browser: Browser;
let url: string;

beforeAll(async () => {
  [server, browser] = await Promise.all([startEmbeddedServer(), launchBrowser()]);
  url = server.url;
  if (screenshots) mkdirSync(screenshots, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  server?.kill('SIGTERM');
  await server?.exited(10_000);
});

interface Violation {
  id: string;
  impact: string | null;
  nodes: string[];
}

async function inspect(page: Page, name: string, photograph = true): Promise<void> {
  await page.waitForFunction('document.querySelectorAll(\'[aria-busy="true"]\').length === 0');
  // Injected through the DevTools protocol: the page's CSP forbids inline scripts, rightly.
  await page.evaluate(axeSource);
  const violations = await page.evaluate<Violation[]>(
    `axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations.map((v) => ({
      id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(' ')) })))`,
  );
  expect(
    violations.filter((v) => v.impact === 'serious' || v.impact === 'critical'),
    name,
  ).toEqual([]);
  for (const [size, viewport] of Object.entries(sizes)) {
    await page.setViewportSize(viewport);
    if (size === 'phone') {
      expect(await page.evaluate<boolean>('document.documentElement.scrollWidth <= innerWidth'), name).toBe(
        true,
      );
    }
    if (screenshots && photograph)
      await page.screenshot({ path: join(screenshots, `${name}-${size}.png`), fullPage: true });
  }
  await page.setViewportSize(sizes.phone);
}

describe('every page in the browser', () => {
  it('passes axe-core without serious or critical violations and fits a phone', async () => {
    const concert = await createConcert(url, 'Seoul Spring Festival', 30);
    const scheduleId = concert.schedules[0]!.id;
    const context = await browser.newContext({ locale: 'en-US', viewport: sizes.phone, bypassCSP: true });
    const page = await context.newPage();

    await page.goto(`${url}/`);
    await inspect(page, 'sign-in');

    // The waiting room while the one slot is taken.
    await adminCall(url, 'PUT', `/v1/admin/queues/${concert.id}`, { maxActive: 1 });
    const first = await devToken(url, 'pages-first');
    await fetch(`${url}/v1/queue/tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${first}`, 'content-type': 'application/json' },
      body: JSON.stringify({ concertId: concert.id }),
    });
    await page.goto(`${url}/#token=${await devToken(url, 'pages-fan')}`);
    await inspect(page, 'concerts');
    await page.goto(`${url}/concerts/${concert.id}`);
    await inspect(page, 'concert');
    await page.goto(`${url}/concerts/${concert.id}/queue?schedule=${scheduleId}`);
    await page.locator('#queue-position', { hasText: /^1$/ }).waitFor();
    await inspect(page, 'waiting-room');

    await adminCall(url, 'PUT', `/v1/admin/queues/${concert.id}`, { maxActive: 10 });
    await page.waitForURL(/\/seats$/);
    await page.locator('button.seat[data-seat="12"]').click();
    await page.locator('#hold-text', { hasText: /Seat 12/ }).waitFor();
    await inspect(page, 'seats');

    await page.getByRole('link', { name: 'Go to payment' }).click();
    await page.locator('#topup-short').waitFor();
    await inspect(page, 'payment');
    await page.getByRole('button', { name: 'Top up points' }).click();
    await page.getByRole('button', { name: /Pay / }).click();
    await page.waitForURL(/\/reservations\/\d+$/);
    await inspect(page, 'confirmation');
    await page.goto(`${url}/me/reservations`);
    await page.locator('[data-status="CONFIRMED"]').waitFor();
    await inspect(page, 'reservations');

    await page.goto(`${url}/admin#token=${await devToken(url, 'pages-operator', 'admin')}`);
    await page.locator(`section[data-concert="${concert.id}"]`).waitFor();
    await inspect(page, 'admin');

    await page.goto(`${url}/admin?lang=ko`);
    expect(await page.locator('html').getAttribute('lang')).toBe('ko');
    await page.locator(`section[data-concert="${concert.id}"]`).waitFor();
    await inspect(page, 'admin-ko', koreanFont);
    await page.goto(`${url}/`);
    await inspect(page, 'concerts-ko', koreanFont);
    await context.close();
  });
});
