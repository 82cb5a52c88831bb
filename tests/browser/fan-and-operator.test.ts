import { randomUUID } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  adminCall,
  createConcert,
  devToken,
  launchBrowser,
  signedInPage,
  startEmbeddedServer,
} from '../support/browser.ts';
import type { LaunchedProcess } from '../support/server-process.ts';

let server: LaunchedProcess;
let browser: Browser;
let url: string;

beforeAll(async () => {
  [server, browser] = await Promise.all([startEmbeddedServer(), launchBrowser()]);
  url = server.url;
});

afterAll(async () => {
  await browser?.close();
  server?.kill('SIGTERM');
  await server?.exited(10_000);
});

const seat = (page: Page, n: number) => page.locator(`button.seat[data-seat="${n}"]`);

describe('a fan in the browser', () => {
  it('goes from the landing page to a paid seat, topping up points on the way', async () => {
    const concert = await createConcert(url, `Landing ${randomUUID().slice(0, 8)}`);
    const context = await browser.newContext({ locale: 'en-US', viewport: { width: 390, height: 844 } });
    const page = await context.newPage();
    await page.goto(`${url}/`);

    // The dev sign-in the embedded server offers.
    const fan = `fan-${randomUUID().slice(0, 8)}`;
    await page.getByLabel('User id').fill(fan);
    await page.getByRole('button', { name: 'Sign in' }).click();
    // The sign-in reloads the page once the token is kept; a click before that reload would be lost to it.
    await page.getByText(`Signed in as ${fan}`).waitFor();
    await page.getByRole('link', { name: concert.title }).click();
    await page.getByRole('link', { name: /Enter the waiting room/ }).click();

    // An empty line admits at once; the waiting room hands over to the seat map.
    await page.waitForURL(/\/seats$/);
    await seat(page, 3).click();
    await page.locator('#hold-text', { hasText: /Seat 3 is yours for \d+:\d\d/ }).waitFor();
    await page.getByRole('link', { name: 'Go to payment' }).click();

    await page.locator('#topup-short', { hasText: /You need .*50,000 more points/ }).waitFor();
    await page.getByRole('button', { name: 'Top up points' }).click();
    const pay = page.getByRole('button', { name: /Pay .*50,000/ });
    await pay.click();

    await page.waitForURL(/\/reservations\/\d+$/);
    await page.locator('main', { hasText: /Reservation \d+ is confirmed/ }).waitFor();
    const reservationId = page.url().split('/').pop();
    const token = await page.evaluate<string>("localStorage.getItem('concert.token')");
    const answer = await fetch(`${url}/v1/reservations/${reservationId}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(await answer.json()).toMatchObject({ status: 'CONFIRMED', price: 50_000 });
    await context.close();
  });

  it('sees a seat taken by someone else without reloading, when two race for it', async () => {
    const concert = await createConcert(url, `Race ${randomUUID().slice(0, 8)}`);
    const path = `/concerts/${concert.id}/queue?schedule=${concert.schedules[0]!.id}`;
    const a = await signedInPage(browser, url, `racer-a-${randomUUID().slice(0, 8)}`, path);
    const b = await signedInPage(browser, url, `racer-b-${randomUUID().slice(0, 8)}`, path);
    for (const { page } of [a, b]) {
      await page.waitForURL(/\/seats$/);
      await seat(page, 5).waitFor();
      // Survives only as long as the page is not reloaded.
      await page.evaluate("window.marker = 'same page'");
    }

    await Promise.all([seat(a.page, 5).click(), seat(b.page, 5).click()]);
    const holders = await Promise.all(
      [a.page, b.page].map((page) =>
        Promise.race([
          page
            .locator('#hold-text', { hasText: /Seat 5 is yours/ })
            .waitFor()
            .then(() => 'holder'),
          page
            .locator('button.seat[data-seat="5"][data-status="HELD"]')
            .waitFor()
            .then(async () => ((await page.locator('#hold').isVisible()) ? 'holder' : 'loser')),
        ]),
      ),
    );
    expect([...holders].sort()).toEqual(['holder', 'loser']);
    const loser = holders[0] === 'loser' ? a.page : b.page;
    await loser.locator('button.seat[data-seat="5"][data-status="HELD"]').waitFor();
    expect(await seat(loser, 5).getAttribute('aria-label')).toMatch(/Seat 5, .* taken/);
    // And a seat the watcher never clicked turns taken on its screen too.
    const holder = loser === a.page ? b.page : a.page;
    await seat(holder, 7).click();
    await loser.locator('button.seat[data-seat="7"][data-status="HELD"]').waitFor();
    expect(await loser.evaluate<string>('window.marker')).toBe('same page');
    await Promise.all([a.context.close(), b.context.close()]);
  });
});

describe('a payment whose answer is lost', () => {
  it('is retried from the page with the same Idempotency-Key and charged once', async () => {
    const concert = await createConcert(url, `Retry ${randomUUID().slice(0, 8)}`);
    const path = `/concerts/${concert.id}/queue?schedule=${concert.schedules[0]!.id}`;
    const { context, page } = await signedInPage(browser, url, `retry-${randomUUID().slice(0, 8)}`, path);
    await page.waitForURL(/\/seats$/);
    await seat(page, 2).click();
    await page.getByRole('link', { name: 'Go to payment' }).click();
    await page.getByRole('button', { name: 'Top up points' }).click();
    await page.locator('#pay-balance', { hasText: /50,000/ }).waitFor();

    // The first payment reaches the server and is charged, but its answer never reaches the page.
    const keys: string[] = [];
    let lose = true;
    await page.route('**/payments', async (route) => {
      keys.push(route.request().headers()['idempotency-key'] ?? '');
      if (!lose) return route.continue();
      lose = false;
      await route.fetch();
      await route.abort('connectionreset');
    });
    const pay = page.getByRole('button', { name: /Pay / });
    await pay.click();
    await page.locator('#pay-retry', { hasText: 'charged only once' }).waitFor();
    await pay.click();
    await page.waitForURL(/\/reservations\/\d+$/);

    expect(keys).toHaveLength(2);
    expect(keys[1]).toBe(keys[0]);
    const token = await page.evaluate<string>("localStorage.getItem('concert.token')");
    const points = await fetch(`${url}/v1/points`, { headers: { authorization: `Bearer ${token}` } });
    expect(((await points.json()) as { balance: number }).balance).toBe(0);
    await context.close();
  });
});

describe('the waiting room without its stream', () => {
  it('polls at pollAfterSeconds when the stream is refused, and hands over once admitted', async () => {
    const concert = await createConcert(url, `Polling ${randomUUID().slice(0, 8)}`);
    // One slot and a short slot life: the estimate, and so pollAfterSeconds, stays around a second.
    await adminCall(url, 'PUT', `/v1/admin/queues/${concert.id}`, { maxActive: 1, activeTtlSeconds: 10 });
    const first = await devToken(url, `first-${randomUUID().slice(0, 8)}`);
    await fetch(`${url}/v1/queue/tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${first}`, 'content-type': 'application/json' },
      body: JSON.stringify({ concertId: concert.id }),
    });

    const context = await browser.newContext({ locale: 'en-US' });
    const page = await context.newPage();
    let streams = 0;
    await page.route('**/v1/queue/stream**', (route) => {
      streams += 1;
      return route.fulfill({ status: 503, contentType: 'application/json', body: '{}' });
    });
    const polls: string[] = [];
    page.on('request', (request) => {
      if (request.url().endsWith('/v1/queue/status')) polls.push(request.headers()['x-queue-token'] ?? '');
    });
    const fan = await devToken(url, `polling-${randomUUID().slice(0, 8)}`);
    await page.goto(`${url}/concerts/${concert.id}/queue?schedule=${concert.schedules[0]!.id}#token=${fan}`);
    await page.locator('#queue-mode', { hasText: /Checking every \d+ s/ }).waitFor();
    await page.locator('#queue-position', { hasText: /^1$/ }).waitFor();

    await adminCall(url, 'PUT', `/v1/admin/queues/${concert.id}`, { maxActive: 2 });
    await page.waitForURL(/\/seats$/);
    expect(streams).toBe(1);
    expect(polls.length).toBeGreaterThan(0);
    expect(new Set(polls).size).toBe(1);
    await context.close();
  });
});

describe('the operator console', () => {
  it('pauses and resumes a line while a fan waits, and the fan page shows both', async () => {
    const concert = await createConcert(url, `Pause ${randomUUID().slice(0, 8)}`);
    const operator = await signedInPage(browser, url, 'operator', '/admin', 'admin');
    const panel = operator.page.locator(`section[data-concert="${concert.id}"]`);

    // One slot, taken: the fan has to wait.
    await panel.getByLabel('Max active').fill('1');
    await panel.getByRole('button', { name: 'Save' }).click();
    await expect
      .poll(() => adminCall<{ maxActive: number }>(url, 'GET', `/v1/admin/queues/${concert.id}`))
      .toMatchObject({ maxActive: 1 });
    const first = await devToken(url, `first-${randomUUID().slice(0, 8)}`);
    await fetch(`${url}/v1/queue/tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${first}`, 'content-type': 'application/json' },
      body: JSON.stringify({ concertId: concert.id }),
    });

    const fan = await signedInPage(
      browser,
      url,
      `waiting-${randomUUID().slice(0, 8)}`,
      `/concerts/${concert.id}/queue?schedule=${concert.schedules[0]!.id}`,
    );
    await fan.page.locator('#queue-position', { hasText: /^1$/ }).waitFor();
    await fan.page.locator('#queue-mode', { hasText: 'Live updates' }).waitFor();
    await panel.locator(`#c${concert.id}-waiting`, { hasText: /^1$/ }).waitFor();

    await panel.getByRole('button', { name: 'Pause the line' }).click();
    await panel.locator('.badge', { hasText: 'paused' }).waitFor();
    await fan.page.locator('#queue-paused', { hasText: 'The line is paused by the organiser' }).waitFor();

    await panel.getByRole('button', { name: 'Resume the line' }).click();
    await panel.locator('.badge', { hasText: 'running' }).waitFor();
    await fan.page.locator('#queue-paused', { hasText: 'The line is moving.' }).waitFor();
    expect(await fan.page.locator('#queue-position').textContent()).toBe('1');
    await Promise.all([operator.context.close(), fan.context.close()]);
  });

  it('shows a seat held then sold in the sales of its date, and the payment among the recent events', async () => {
    const concert = await createConcert(url, `Sales ${randomUUID().slice(0, 8)}`);
    const scheduleId = concert.schedules[0]!.id;
    const operator = await signedInPage(browser, url, 'operator', '/admin', 'admin');
    const panel = operator.page.locator(`section[data-concert="${concert.id}"]`);
    const count = (name: string) =>
      panel.locator(`tr[data-schedule="${scheduleId}"] td[data-count="${name}"]`);
    await count('available').filter({ hasText: /^10$/ }).waitFor();
    expect(await count('sold').textContent()).toBe('0');
    await panel.getByText('No events yet.').waitFor();

    // A fan over the API, step by step, while the console keeps refreshing.
    const fan = { authorization: `Bearer ${await devToken(url, `buyer-${randomUUID().slice(0, 8)}`)}` };
    const post = async (path: string, body: unknown, headers: Record<string, string> = {}) => {
      const response = await fetch(`${url}${path}`, {
        method: 'POST',
        headers: { ...fan, ...headers, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(response.ok, `${path}: ${response.status}`).toBe(true);
      return (await response.json()) as Record<string, string>;
    };
    const entered = await post('/v1/queue/tokens', { concertId: concert.id });
    const access = { 'x-queue-token': entered.accessToken! };
    const map = (await (
      await fetch(`${url}/v1/schedules/${scheduleId}/seats`, { headers: { ...fan, ...access } })
    ).json()) as { items: { id: string }[] };
    const held = await post('/v1/reservations', { scheduleId, seatId: map.items[3]!.id }, access);
    await count('held').filter({ hasText: /^1$/ }).waitFor();
    expect(await count('available').textContent()).toBe('9');
    await panel.locator('li[data-topic="reservation.created"]').waitFor();

    await post('/v1/points/charges', { amount: 50_000 }, { 'idempotency-key': randomUUID() });
    await post(`/v1/reservations/${held.id}/payments`, {}, { ...access, 'idempotency-key': randomUUID() });
    await count('sold').filter({ hasText: /^1$/ }).waitFor();
    expect([await count('held').textContent(), await count('available').textContent()]).toEqual(['0', '9']);
    const payment = panel.locator('li[data-topic="payment.completed"]');
    await payment.waitFor();
    expect(await payment.textContent()).toContain(`reservationId=${held.id}`);
    // Newest first: the payment heads the list.
    expect(await panel.locator('.events li').first().getAttribute('data-topic')).toBe('payment.completed');
    await operator.context.close();
  });

  it('switches a line to adaptive admission within bounds, and shows the rate and the mode', async () => {
    const concert = await createConcert(url, `Adaptive ${randomUUID().slice(0, 8)}`);
    const operator = await signedInPage(browser, url, 'operator', '/admin', 'admin');
    const panel = operator.page.locator(`section[data-concert="${concert.id}"]`);
    await panel.getByText(/Admitting up to \d+ a second, fixed\./).waitFor();

    // Adaptive needs both bounds: without them the API refuses, and the page says so.
    await panel.getByLabel('Admission').selectOption('adaptive');
    await panel.getByRole('button', { name: 'Save' }).click();
    await operator.page.getByRole('alert').waitFor();
    expect(
      await adminCall<{ admission: string }>(url, 'GET', `/v1/admin/queues/${concert.id}`),
    ).toMatchObject({ admission: 'fixed' });

    await panel.getByLabel('Adaptive: at least per second').fill('5');
    await panel.getByLabel('Adaptive: at most per second').fill('40');
    await panel.getByRole('button', { name: 'Save' }).click();
    await panel.getByText(/Admitting up to \d+ a second, adaptive\./).waitFor();
    expect(await adminCall(url, 'GET', `/v1/admin/queues/${concert.id}`)).toMatchObject({
      admission: 'adaptive',
      minAdmitPerSecond: 5,
      maxAdmitPerSecond: 40,
    });
    await operator.context.close();
  });
});
