import { describe, expect, it } from 'vitest';
import { createHttpApp } from '../../shared/http/create-http-app.ts';
import { httpOptions } from '../../tests/support/harness.ts';
import { webRoutes } from './app.tsx';
import { bundleClient } from './assets.ts';
import { dictionaries, pickLanguage } from './i18n.ts';
import { type PageData, pageDataId } from './page-data.ts';

function makeApp(devAuth = true) {
  const app = createHttpApp({
    ...httpOptions(),
    name: 'web',
    routes: [webRoutes({ devAuth, script: async () => 'console.log("client")' })],
  });
  return { app };
}

function pageData(html: string): PageData {
  const match = html.match(new RegExp(`<script type="application/json" id="${pageDataId}">(.*?)</script>`));
  return JSON.parse(match![1]!) as PageData;
}

describe('web: pages', () => {
  it('serves every page as HTML in the language the browser asks for', async () => {
    const { app } = makeApp();
    const paths = [
      '/',
      '/concerts/1',
      '/concerts/1/queue?schedule=2',
      '/concerts/1/schedules/2/seats',
      '/reservations/3/pay?concert=1',
      '/reservations/3',
      '/me/reservations',
      '/admin',
    ];
    for (const path of paths) {
      const res = await app.request(path, { headers: { 'accept-language': 'en-GB,en;q=0.9,ko;q=0.5' } });
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
      const html = await res.text();
      expect(html).toMatch(/^<!doctype html><html lang="en">/);
      expect(pageData(html).strings).toEqual(dictionaries.en);
    }
  });

  it('hands the page its parameters and whether dev sign-in exists', async () => {
    const { app } = makeApp(false);
    const html = await (await app.request('/concerts/7/queue?schedule=9')).text();
    expect(pageData(html)).toMatchObject({
      page: 'queue',
      lang: 'ko',
      devAuth: false,
      params: { concertId: '7', scheduleId: '9' },
    });
  });

  it('switches language with ?lang= and remembers it in a cookie', async () => {
    const { app } = makeApp();
    const res = await app.request('/?lang=en', { headers: { 'accept-language': 'ko-KR' } });
    expect(res.headers.get('set-cookie')).toMatch(/^lang=en;/);
    expect(pageData(await res.text()).lang).toBe('en');
    const queue = await (await app.request('/concerts/1/queue?schedule=2&lang=en')).text();
    expect(queue).toContain('href="/concerts/1/queue?schedule=2&amp;lang=ko"');
    const again = await app.request('/', { headers: { cookie: 'lang=en', 'accept-language': 'ko' } });
    expect(pageData(await again.text()).lang).toBe('en');
  });

  it('answers 404 with the API error body for ids that are not ids', async () => {
    const { app } = makeApp();
    for (const path of [
      '/concerts/abc',
      '/concerts/1/queue?schedule=x',
      '/reservations/1/pay?concert=%3Cb%3E',
    ]) {
      const res = await app.request(path);
      expect(res.status, path).toBe(404);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
    }
  });

  it('serves the client script and the style sheet', async () => {
    const { app } = makeApp();
    const script = await app.request('/assets/app.js');
    expect(script.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(await script.text()).toContain('client');
    const style = await app.request('/assets/app.css');
    expect(style.headers.get('content-type')).toMatch(/^text\/css/);
  });

  it('links versioned assets that a CDN may keep, and answers 304 for a current ETag', async () => {
    const { app } = makeApp();
    const html = await (await app.request('/')).text();
    const links = [...html.matchAll(/(?:src|href)="(\/assets\/app\.(?:js|css)\?v=[\w-]+)"/g)].map(
      (m) => m[1]!,
    );
    expect(links).toHaveLength(2);
    for (const link of links) {
      const current = await app.request(link);
      expect(current.status).toBe(200);
      expect(current.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      const etag = current.headers.get('etag')!;
      expect(link).toContain(`v=${etag.slice(1, -1)}`);
      const again = await app.request(link, { headers: { 'If-None-Match': etag } });
      expect(again.status).toBe(304);
      const other = await app.request(link.replace(/v=[\w-]+/, 'v=old'));
      expect(other.status).toBe(200);
      expect(other.headers.get('cache-control')).toBe('no-cache');
    }
  });
});

describe('web: client bundle and languages', () => {
  it('bundles the client script for the browser', async () => {
    const text = await bundleClient(true);
    expect(text).toContain('/v1/queue/tokens');
    expect(text).not.toMatch(/from\s*["']node:/);
  });

  it('picks the language: cookie, then Accept-Language by weight, then Korean', () => {
    expect(pickLanguage(undefined, undefined)).toBe('ko');
    expect(pickLanguage(undefined, 'fr-FR, en;q=0.8, ko;q=0.9')).toBe('ko');
    expect(pickLanguage(undefined, 'fr-FR, en-US;q=0.8')).toBe('en');
    expect(pickLanguage('en', 'ko')).toBe('en');
    expect(pickLanguage('de', 'en')).toBe('en');
  });
});
