import {
  Agent as HttpAgent,
  request as httpRequest,
  type IncomingMessage,
  type RequestOptions,
} from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

export interface PostAnswer {
  status: number;
  /** The response body, read only when the status is not 2xx (it explains the failure). */
  body: string;
}

/** A POST of a small text body to one URL; resolves with the answer, rejects on a network error or timeout. */
export type Post = (headers: Record<string, string>, body: string) => Promise<PostAnswer>;

/**
 * Connections are kept alive and shared by every poster of the process, as undici's pool would. (Node's
 * agent also honours a server's `Keep-Alive: timeout=` hint, so an idle socket is dropped before the server
 * closes it.)
 */
const agents = {
  'http:': new HttpAgent({ keepAlive: true, maxSockets: 256 }),
  'https:': new HttpsAgent({ keepAlive: true, maxSockets: 256 }),
};

/**
 * A poster for `url` on `node:http`, for the hot paths (webhooks, KafkaSource-style deliveries): `fetch` with
 * `AbortSignal.timeout` cost several times its CPU per request on the client side (ADR 3). One timer bounds
 * the whole exchange instead of an AbortSignal.
 */
export function postTo(url: string, timeoutMs: number): Post {
  const target = new URL(url);
  const secure = target.protocol === 'https:';
  if (!secure && target.protocol !== 'http:') throw new Error(`not an http(s) URL: ${url}`);
  const send = secure ? httpsRequest : httpRequest;
  const base: RequestOptions = {
    method: 'POST',
    protocol: target.protocol,
    hostname: target.hostname.replace(/^\[|\]$/g, ''),
    port: target.port || (secure ? 443 : 80),
    path: `${target.pathname}${target.search}`,
    agent: agents[target.protocol as 'http:' | 'https:'],
    ...(target.username
      ? { auth: `${decodeURIComponent(target.username)}:${decodeURIComponent(target.password)}` }
      : {}),
  };
  return (headers, body) =>
    new Promise<PostAnswer>((resolve, reject) => {
      let settled = false;
      const finish = (error: Error | undefined, answer?: PostAnswer) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (error) reject(error);
        else resolve(answer!);
      };
      const req = send(
        { ...base, headers: { ...headers, 'content-length': Buffer.byteLength(body) } },
        (res: IncomingMessage) => {
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) {
            res.on('end', () => finish(undefined, { status, body: '' }));
            res.resume();
            return;
          }
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            if (text.length < 4096) text += chunk;
          });
          res.on('end', () => finish(undefined, { status, body: text }));
        },
      );
      const timer = setTimeout(() => {
        const error = new Error(`no answer from ${target.origin} within ${timeoutMs} ms`);
        finish(error);
        req.destroy(error);
      }, timeoutMs);
      req.on('error', (error) => finish(error));
      req.on('close', () => finish(new Error(`connection to ${target.origin} closed before the answer`)));
      req.end(body);
    });
}
