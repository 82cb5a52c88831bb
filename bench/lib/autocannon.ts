import type { LoadOptions, LoadResult } from './wrk.ts';
import { readRequestFile } from './wrk.ts';

/**
 * The fallback load generator when wrk is not installed: autocannon (a dev dependency only if someone
 * adds it: `npm install -D autocannon`), replaying the same request lists with the same numbering. It
 * runs in this Node process, so it takes more CPU from the server than wrk does; prefer wrk.
 */
interface AutocannonResult {
  duration: number;
  latency: { mean: number; p50: number; p90: number; p99: number; p99_9: number; max: number };
  requests: { total: number };
  errors: number;
  timeouts: number;
}
type Autocannon = (options: object, done: (error: Error | null, result: AutocannonResult) => void) => unknown;

export async function loadAutocannon(): Promise<Autocannon | null> {
  const name = 'autocannon';
  try {
    return ((await import(name)) as { default: Autocannon }).default;
  } catch {
    return null;
  }
}

export async function runAutocannon(options: LoadOptions): Promise<LoadResult> {
  const autocannon = await loadAutocannon();
  if (!autocannon) throw new Error('neither wrk nor autocannon: sudo apt-get install wrk');
  const { users, requests } = readRequestFile(options.file);
  const size = requests.length;
  // One sequence for all connections: a single number says where it goes on.
  const start = Number(String(options.start ?? 0).split(',')[0]);
  let next = start;
  let repeated = 0;
  const statuses: Record<string, number> = {};
  const codes: Record<string, number> = {};
  const fill = (text: string, n: number) => text.replaceAll('{n}', String(n));

  const result = await new Promise<AutocannonResult>((resolve, reject) => {
    autocannon(
      {
        url: options.url,
        connections: options.connections,
        duration: options.seconds,
        timeout: options.timeoutSeconds,
        requests: [
          {
            setupRequest(defaults: Record<string, unknown>) {
              const n = next++;
              if (n >= size) repeated++;
              const r = requests[n % size]!;
              const headers: Record<string, string> = { ...users[r.user] };
              for (const [k, v] of Object.entries(r.headers)) headers[k] = fill(v, n);
              // Keep autocannon's own fields (host, port); replace what this request says.
              return {
                ...defaults,
                method: r.method,
                path: r.path,
                headers,
                ...(r.body ? { body: fill(r.body, n) } : {}),
              };
            },
            onResponse(status: number, body: string) {
              statuses[status] = (statuses[status] ?? 0) + 1;
              const code = status >= 300 ? /"code":"([A-Z_]+)"/.exec(body ?? '')?.[1] : undefined;
              if (code) codes[code] = (codes[code] ?? 0) + 1;
            },
          },
        ],
      },
      (error, res) => (error ? reject(error) : resolve(res)),
    );
  });
  return {
    durationSeconds: result.duration,
    requests: result.requests.total,
    latencyMs: {
      mean: result.latency.mean,
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      p999: result.latency.p99_9,
      max: result.latency.max,
    },
    errors: { connect: 0, read: result.errors - result.timeouts, write: 0, timeout: result.timeouts },
    statuses,
    codes,
    nextStart: next,
    threadStarts: String(next),
    issued: next - start,
    repeated,
    listSize: size,
  };
}
