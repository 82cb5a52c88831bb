import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { httpOptions } from '../../tests/support/harness.ts';
import { createHttpApp } from './create-http-app.ts';

const app = createHttpApp({ ...httpOptions(), name: 'docs', routes: [] });
const packageDir = createRequire(import.meta.url).resolve('swagger-ui-dist/package.json');

describe('/docs works offline', () => {
  it('references only assets of this server, and points Swagger UI at /openapi.json', async () => {
    const res = await app.request('/docs');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await res.text();
    const refs = [...html.matchAll(/\b(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(refs.length).toBeGreaterThanOrEqual(2);
    for (const ref of refs) expect(ref, 'a local path, no CDN').toMatch(/^\/(?!\/)/);
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).toContain('"/openapi.json"');
  });

  it('serves each referenced asset from the pinned swagger-ui-dist, with its content type', async () => {
    const html = await (await app.request('/docs')).text();
    const refs = [...html.matchAll(/\b(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    const expected: Record<string, RegExp> = { '.css': /^text\/css/, '.js': /^text\/javascript/ };
    for (const ref of refs) {
      const res = await app.request(ref);
      expect(res.status, ref).toBe(200);
      const ext = ref.slice(ref.lastIndexOf('.'));
      expect(res.headers.get('content-type'), ref).toMatch(expected[ext]!);
      const body = Buffer.from(await res.arrayBuffer());
      const file = readFileSync(packageDir.replace(/package\.json$/, ref.replace('/docs/', '')));
      expect(body.equals(file), `${ref} is the package's file`).toBe(true);
    }
  });

  it('an asset name it does not serve is a JSON 404', async () => {
    const res = await app.request('/docs/index.html');
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
  });
});
