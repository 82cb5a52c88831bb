import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { createRoute, z } from '@hono/zod-openapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpOptions } from '../../tests/support/harness.ts';
import { createHttpApp } from './create-http-app.ts';
import { preserializedJson } from './preserialized-json.ts';
import { createRouter } from './router.ts';

// The body limit takes a shortcut through the Node adapter, so it and the checks around it are proven over
// a real socket: declared and chunked bodies, headers present, absent and malformed.
const routes = createRouter();
routes.openapi(
  createRoute({
    method: 'post',
    path: '/echo',
    request: {
      headers: z.object({ 'x-tag': z.string().regex(/^[a-z]+$/, 'lower-case letters') }),
      body: { required: true, content: { 'application/json': { schema: z.object({ pad: z.string() }) } } },
    },
    responses: { 200: { description: 'echo' } },
  }),
  (c) => c.json({ tag: c.req.valid('header')['x-tag'], length: c.req.valid('json').pad.length }, 200),
);
routes.openapi(
  createRoute({ method: 'get', path: '/cached', responses: { 200: { description: 'serialised JSON' } } }),
  () => preserializedJson<{ cached: boolean }>('{"cached":true}'),
);
const app = createHttpApp({ ...httpOptions(), name: 'paths', routes: [routes] });
let server: ReturnType<typeof serve>;
let port = 0;

beforeAll(async () => {
  server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise<void>((resolve) => server.once('listening', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

function post(body: string, headers: Record<string, string>, chunked = false) {
  return new Promise<{
    status: number;
    json: { error?: { code: string; details?: unknown[] } } & object;
    requestId?: string | string[] | undefined;
  }>((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        path: '/echo',
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(chunked ? {} : { 'content-length': String(Buffer.byteLength(body)) }),
          ...headers,
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => {
          text += chunk;
        });
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            json: JSON.parse(text),
            requestId: res.headers['x-request-id'],
          }),
        );
      },
    );
    req.on('error', reject);
    if (chunked) {
      // Several writes without a length: Node sends Transfer-Encoding: chunked.
      for (let i = 0; i < body.length; i += 8192) req.write(body.slice(i, i + 8192));
      req.end();
    } else req.end(body);
  });
}

const big = JSON.stringify({ pad: 'x'.repeat(70_000) });
const small = JSON.stringify({ pad: 'abc' });

describe('request paths over a real Node socket', () => {
  it('accepts a small body with a declared length', async () => {
    expect(await post(small, { 'x-tag': 'ok' })).toMatchObject({
      status: 200,
      json: { tag: 'ok', length: 3 },
    });
  });

  it('accepts a small chunked body', async () => {
    expect(await post(small, { 'x-tag': 'ok' }, true)).toMatchObject({
      status: 200,
      json: { tag: 'ok', length: 3 },
    });
  });

  it('answers every request with its X-Request-Id, the caller’s when sane, on answers and errors', async () => {
    expect((await post(small, { 'x-tag': 'ok', 'x-request-id': 'trace-1' })).requestId).toBe('trace-1');
    expect((await post(small, { 'x-request-id': 'trace-2' })).requestId).toBe('trace-2');
    expect((await post(big, { 'x-tag': 'ok', 'x-request-id': 'trace-3' })).requestId).toBe('trace-3');
    const made = (await post(small, { 'x-tag': 'ok', 'x-request-id': 'bad id with spaces' })).requestId;
    expect(made).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('puts the X-Request-Id also on a Response the route built itself', async () => {
    const res = await app.request('/cached', { headers: { 'x-request-id': 'trace-4' } });
    expect([res.status, res.headers.get('x-request-id'), await res.json()]).toEqual([
      200,
      'trace-4',
      { cached: true },
    ]);
  });

  it('answers 413 to a declared length over the limit', async () => {
    const res = await post(big, { 'x-tag': 'ok' });
    expect(res.status).toBe(413);
    expect(res.json.error?.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('answers 413 to a chunked body that grows over the limit', async () => {
    const res = await post(big, { 'x-tag': 'ok' }, true);
    expect(res.status).toBe(413);
    expect(res.json.error?.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('answers 400 VALIDATION_FAILED naming a missing or malformed declared header', async () => {
    for (const headers of [{}, { 'x-tag': 'NOT-OK' }] as Record<string, string>[]) {
      const res = await post(small, headers);
      expect(res.status).toBe(400);
      expect(res.json.error?.code).toBe('VALIDATION_FAILED');
      expect(JSON.stringify(res.json.error?.details)).toContain('x-tag');
    }
  });

  it('keeps declared headers in the OpenAPI document', async () => {
    const doc = (await (await app.request('/openapi.json')).json()) as {
      paths: Record<string, { post: { parameters: { name: string; in: string }[] } }>;
    };
    expect(doc.paths['/echo']?.post.parameters).toContainEqual(
      expect.objectContaining({ name: 'x-tag', in: 'header' }),
    );
  });
});
