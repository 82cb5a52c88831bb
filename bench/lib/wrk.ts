import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { run } from './children.ts';

/**
 * The load driver of both `npm run bench` and `npm run tune`: request lists written for one replay script
 * (bench/wrk/requests.lua), wrk runs over them, and the one JSON line the script prints, parsed.
 */
export const wrkScript = fileURLToPath(new URL('../wrk/requests.lua', import.meta.url));
export const wrkBinary = process.env.WRK ?? 'wrk';

/** One request of a list: which user sends it (its headers come from the user) and what. */
export interface PlannedRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  /** Index into the list's users (0 without users: the request carries all its headers itself). */
  user?: number;
  body?: string;
  /** "{n}" in a value (or in the body) becomes the request's global number: fresh idempotency keys. */
  headers?: Record<string, string>;
}

/** The file bench/wrk/requests.lua replays: users' header sets, then the requests. */
export function writeRequestFile(
  file: string,
  users: Array<Record<string, string>>,
  requests: readonly PlannedRequest[],
): void {
  if (requests.length === 0) throw new Error('no requests to write');
  const clean = (value: string) => {
    if (/[\t\n]/.test(value)) throw new Error(`tab or newline in a request field: ${value}`);
    return value;
  };
  const headerFields = (headers: Record<string, string> = {}) =>
    Object.entries(headers).map(([name, value]) => clean(`${name}: ${value}`));
  const lines = [
    ...users.map((headers) => ['U', ...headerFields(headers)].join('\t')),
    ...requests.map((r) =>
      [
        'R',
        r.method,
        clean(r.path),
        String(r.user ?? 0),
        clean(r.body ?? ''),
        ...headerFields(r.headers),
      ].join('\t'),
    ),
  ];
  writeFileSync(file, `${lines.join('\n')}\n`);
}

/** The inverse of writeRequestFile (for the autocannon fallback, which replays the same lists). */
export function readRequestFile(file: string): {
  users: Array<Record<string, string>>;
  requests: Array<Required<PlannedRequest>>;
} {
  const headers = (fields: string[]) =>
    Object.fromEntries(
      fields.flatMap((f) => {
        const at = f.indexOf(':');
        return at > 0 ? [[f.slice(0, at), f.slice(at + 1).trimStart()]] : [];
      }),
    );
  const users: Array<Record<string, string>> = [];
  const requests: Array<Required<PlannedRequest>> = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const fields = line.split('\t');
    if (fields[0] === 'U') users.push(headers(fields.slice(1)));
    if (fields[0] === 'R') {
      requests.push({
        method: fields[1] as PlannedRequest['method'],
        path: fields[2]!,
        user: Number(fields[3]),
        body: fields[4] ?? '',
        headers: headers(fields.slice(5)),
      });
    }
  }
  return { users, requests };
}

export interface LoadResult {
  durationSeconds: number;
  requests: number;
  latencyMs: { mean: number; p50: number; p90: number; p99: number; p999: number; max: number };
  /** Socket-level failures (not HTTP statuses); timeouts are requests slower than wrk's --timeout. */
  errors: { connect: number; read: number; write: number; timeout: number };
  statuses: Record<string, number>;
  /** Error codes of non-2xx answers (`"code":"SEAT_TAKEN"`). */
  codes: Record<string, number>;
  /** Where a following run continues in the same list (the furthest thread's next line). */
  nextStart: number;
  /** Each thread's next line ("a,b"): a following run with as many threads goes on without a gap. */
  threadStarts: string;
  /** Requests sent (answered or still in flight when wrk stopped). */
  issued: number;
  /** Requests sent after the list wrapped around (a list meant to be used once was too short). */
  repeated: number;
  listSize: number;
}

export interface WrkRun {
  url: string;
  file: string;
  seconds: number;
  connections: number;
  /** At most one per connection (wrk refuses more threads than connections). */
  threads: number;
  /** Continue the list where a run stopped: its threadStarts (or one line number). */
  start?: number | string;
  /** Requests slower than this count as timeouts rather than latencies. */
  timeoutSeconds: number;
  /** The wrk process's id once it runs (its CPU is measured apart from the server's). */
  onStart?: (pid: number) => void;
}

export interface LoadOptions extends WrkRun {
  generator: 'wrk' | 'autocannon';
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  if (options.generator === 'autocannon') {
    const { runAutocannon } = await import('./autocannon.ts');
    return runAutocannon(options);
  }
  return runWrk(options);
}

/** One wrk run over a request list; the Lua script's done() prints the figures as one JSON line. */
export async function runWrk(options: WrkRun): Promise<LoadResult> {
  const url = new URL(options.url);
  if (!isLoopback(url.hostname)) throw new Error(`refusing to load ${url.host}: loopback only`);
  const threads = Math.max(1, Math.min(options.threads, options.connections));
  const args = [
    `-t${threads}`,
    `-c${options.connections}`,
    `-d${options.seconds}s`,
    '--timeout',
    `${options.timeoutSeconds}s`,
    '-s',
    wrkScript,
    options.url,
    '--',
    options.file,
    String(options.start ?? 0),
    String(threads),
  ];
  const { code, stdout, stderr } = await run(wrkBinary, args, {}, options.onStart);
  if (code !== 0) throw new Error(`wrk failed (exit ${code}):\n${stderr}\n${stdout}`);
  return parseWrkOutput(stdout);
}

/** Reads the BENCH_JSON line the script's done() prints. */
export function parseWrkOutput(stdout: string): LoadResult {
  const line = stdout.split('\n').find((l) => l.startsWith('BENCH_JSON '));
  if (!line) throw new Error(`wrk printed no BENCH_JSON line:\n${stdout}`);
  const raw = JSON.parse(line.slice('BENCH_JSON '.length)) as {
    durationUs: number;
    requests: number;
    latencyUs: Record<'mean' | 'p50' | 'p90' | 'p99' | 'p999' | 'max', number>;
    errors: { connect: number; read: number; write: number; timeout: number };
    statuses: Record<string, number>;
    codes: Record<string, number>;
    nextStart: number;
    threadStarts?: string;
    issued: number;
    repeated: number;
    listSize: number;
  };
  const ms = (us: number) => us / 1000;
  return {
    durationSeconds: raw.durationUs / 1e6,
    requests: raw.requests,
    latencyMs: {
      mean: ms(raw.latencyUs.mean),
      p50: ms(raw.latencyUs.p50),
      p90: ms(raw.latencyUs.p90),
      p99: ms(raw.latencyUs.p99),
      p999: ms(raw.latencyUs.p999),
      max: ms(raw.latencyUs.max),
    },
    errors: {
      connect: raw.errors.connect,
      read: raw.errors.read,
      write: raw.errors.write,
      timeout: raw.errors.timeout,
    },
    statuses: raw.statuses,
    codes: raw.codes,
    nextStart: raw.nextStart,
    threadStarts: raw.threadStarts ?? String(raw.nextStart),
    issued: raw.issued,
    repeated: raw.repeated,
    listSize: raw.listSize,
  };
}

export async function wrkVersion(): Promise<string | null> {
  try {
    const { stdout, stderr } = await run(wrkBinary, ['-v']);
    return (stdout + stderr).split('\n')[0]?.replace(/\s+Copyright.*$/, '') ?? null;
  } catch {
    return null;
  }
}

export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}
