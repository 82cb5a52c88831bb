/** A small JSON client for preparing data through the setup server, and a bounded parallel map. */

export interface Answer {
  status: number;
  body: unknown;
}

export function httpClient(baseUrl: string) {
  async function call(
    method: string,
    path: string,
    options: { headers?: Record<string, string>; json?: unknown } = {},
  ): Promise<Answer> {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        ...(options.json !== undefined ? { 'content-type': 'application/json' } : {}),
        ...options.headers,
      },
      ...(options.json !== undefined ? { body: JSON.stringify(options.json) } : {}),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = text === '' ? null : JSON.parse(text);
    } catch {
      // not JSON: keep the text for the error message
    }
    return { status: res.status, body };
  }
  return {
    call,
    async expect<T>(
      status: number,
      method: string,
      path: string,
      options: { headers?: Record<string, string>; json?: unknown } = {},
    ): Promise<T> {
      const answer = await call(method, path, options);
      if (answer.status !== status) {
        throw new Error(
          `${method} ${path}: expected ${status}, got ${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`,
        );
      }
      return answer.body as T;
    },
  };
}

export type HttpClient = ReturnType<typeof httpClient>;

export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
) {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
