import http from 'node:http';

export interface HttpAnswer {
  status: number;
  body: unknown;
  headers: http.IncomingHttpHeaders;
}

export interface RequestOptions {
  headers?: Record<string, string>;
  json?: unknown;
  /** No answer within this long fails the request with an error named `TimeoutError` (30 s). */
  timeoutMs?: number;
  /** Aborting it fails the request with an error named `AbortError`. */
  signal?: AbortSignal;
}

/**
 * The bench's own client for setup (tokens, concerts, holds to pay): keep-alive sockets, a bounded
 * number of requests in flight. The measured load comes from wrk, never from here. `npm run rehearse`'s
 * fans use it too (with sockets unbounded): node:http costs far less per request than fetch, which at
 * twenty thousand fans is the difference between measuring the server and measuring the client.
 */
export function createHttpClient(baseUrl: string, maxSockets = 64) {
  const agent = new http.Agent({ keepAlive: true, maxSockets });
  const url = new URL(baseUrl);

  function request(method: string, path: string, options: RequestOptions = {}): Promise<HttpAnswer> {
    const payload = options.json === undefined ? undefined : JSON.stringify(options.json);
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          agent,
          host: url.hostname,
          port: url.port,
          method,
          path,
          ...(options.signal ? { signal: options.signal } : {}),
          headers: {
            ...options.headers,
            ...(payload === undefined
              ? {}
              : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let body: unknown = text;
            try {
              body = text === '' ? null : JSON.parse(text);
            } catch {
              // not JSON: keep the text
            }
            resolve({ status: res.statusCode ?? 0, body, headers: res.headers });
          });
          res.on('error', reject);
        },
      );
      const timeoutMs = options.timeoutMs ?? 30_000;
      req.setTimeout(timeoutMs, () => {
        const error = new Error(`${method} ${path}: no answer in ${timeoutMs} ms`);
        error.name = 'TimeoutError';
        req.destroy(error);
      });
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** Like request, but anything but `expected` is an error that names the answer. */
  async function expect<T>(
    expected: number,
    method: string,
    path: string,
    options: RequestOptions = {},
  ): Promise<T> {
    const answer = await request(method, path, options);
    if (answer.status !== expected) {
      throw new Error(`${method} ${path} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
    }
    return answer.body as T;
  }

  return { request, expect, agent, close: () => agent.destroy() };
}

export type HttpClient = ReturnType<typeof createHttpClient>;

/** Runs fn over items with at most `limit` in flight; results in input order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
