import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postTo } from './http-post.ts';

describe('postTo (webhooks and deliveries over node:http)', () => {
  const seen: { headers: IncomingMessage['headers']; body: string; url: string | undefined }[] = [];
  const sockets = new Set<string>();
  let server: Server;
  let base: string;
  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      sockets.add(`${req.socket.remotePort}`);
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (d: string) => {
        body += d;
      });
      req.on('end', () => {
        seen.push({ headers: req.headers, body, url: req.url });
        if (req.url === '/silent') return; // never answers
        if (req.url === '/refuse')
          return res.writeHead(409, { 'content-type': 'text/plain' }).end('busy, later');
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('POSTs the headers and body, and reuses the connection', async () => {
    const post = postTo(`${base}/hook?x=1`, 5000);
    for (let i = 0; i < 3; i++)
      expect(
        await post({ 'content-type': 'application/json', 'x-n': String(i) }, `{"n":${i},"é":1}`),
      ).toEqual({
        status: 204,
        body: '',
      });
    const last = seen.at(-1)!;
    expect(last.url).toBe('/hook?x=1');
    expect(last.body).toBe('{"n":2,"é":1}');
    expect(last.headers['x-n']).toBe('2');
    expect(last.headers['content-length']).toBe(String(Buffer.byteLength('{"n":2,"é":1}')));
    expect(sockets.size).toBe(1);
  });

  it('returns a refusal with its body', async () => {
    expect(await postTo(`${base}/refuse`, 5000)({}, 'x')).toEqual({ status: 409, body: 'busy, later' });
  });

  it('rejects when the receiver does not answer in time, or cannot be reached', async () => {
    await expect(postTo(`${base}/silent`, 200)({}, 'x')).rejects.toThrow(/within 200 ms/);
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    await expect(postTo(`http://127.0.0.1:${port}/`, 5000)({}, 'x')).rejects.toThrow(/ECONNREFUSED/);
  });
});
