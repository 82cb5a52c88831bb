import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { run } from './children.ts';

export const wrkBinary = process.env.WRK ?? 'wrk';
const luaScript = fileURLToPath(new URL('./requests.lua', import.meta.url));

/** One line of the request file requests.lua replays. */
export interface TuneRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  headers: Record<string, string>;
  /** "{n}" in the body or a header value becomes the request's global number. */
  body?: string;
}

/** METHOD, PATH, "Name: value"..., BODY; tab-separated, one request per line. */
export function requestLine(r: TuneRequest): string {
  const clean = (value: string) => {
    if (/[\t\n\r]/.test(value))
      throw new Error(`tab or newline in a request field: ${JSON.stringify(value)}`);
    return value;
  };
  return [
    r.method,
    clean(r.path),
    ...Object.entries(r.headers).map(([name, value]) => clean(`${name}: ${value}`)),
    clean(r.body ?? ''),
  ].join('\t');
}

export function writeRequestFile(file: string, requests: readonly TuneRequest[]): void {
  if (requests.length === 0) throw new Error('no requests to write');
  writeFileSync(file, `${requests.map(requestLine).join('\n')}\n`);
}

export interface WrkResult {
  durationSeconds: number;
  /** Answers received (any status). */
  answers: number;
  latencyMs: { mean: number; p50: number; p90: number; p99: number; max: number };
  socketErrors: { connect: number; read: number; write: number; timeout: number };
  statuses: Record<string, number>;
  codes: Record<string, number>;
  /** Where the next run continues in the list. */
  nextStart: number;
  issued: number;
  /** Requests sent after the list ran out (single-use lists repeat lines from there on). */
  repeated: number;
  listSize: number;
}

/** Parses the TUNE_JSON line requests.lua prints from done(). */
export function parseWrkOutput(stdout: string): WrkResult {
  const line = stdout.split('\n').find((l) => l.startsWith('TUNE_JSON '));
  if (!line) throw new Error('wrk printed no TUNE_JSON line');
  const raw = JSON.parse(line.slice('TUNE_JSON '.length)) as {
    durationUs: number;
    requests: number;
    latencyUs: Record<'mean' | 'p50' | 'p90' | 'p99' | 'max', number>;
    errors: WrkResult['socketErrors'];
    statuses: Record<string, number>;
    codes: Record<string, number>;
    nextStart: number;
    issued: number;
    repeated: number;
    listSize: number;
  };
  const ms = (us: number) => us / 1000;
  return {
    durationSeconds: raw.durationUs / 1e6,
    answers: raw.requests,
    latencyMs: {
      mean: ms(raw.latencyUs.mean),
      p50: ms(raw.latencyUs.p50),
      p90: ms(raw.latencyUs.p90),
      p99: ms(raw.latencyUs.p99),
      max: ms(raw.latencyUs.max),
    },
    socketErrors: raw.errors,
    statuses: raw.statuses,
    codes: raw.codes,
    nextStart: raw.nextStart,
    issued: raw.issued,
    repeated: raw.repeated,
    listSize: raw.listSize,
  };
}

export interface WrkRun {
  url: string;
  file: string;
  connections: number;
  threads: number;
  seconds: number;
  start: number;
  onStart?: (pid: number) => void;
}

export async function runWrk(options: WrkRun): Promise<WrkResult> {
  const threads = Math.max(1, Math.min(options.threads, options.connections));
  const url = new URL(options.url);
  if (!isLoopback(url.hostname)) throw new Error(`refusing to load ${url.host}: tune drives loopback only`);
  const args = [
    `-t${threads}`,
    `-c${options.connections}`,
    `-d${options.seconds}s`,
    '--timeout',
    '10s',
    '-s',
    luaScript,
    options.url,
    '--',
    options.file,
    String(options.start),
    String(threads),
  ];
  const result = await run(wrkBinary, args, {}, options.onStart);
  if (result.code !== 0)
    throw new Error(`wrk failed (exit ${result.code}):\n${result.stderr}\n${result.stdout}`);
  return parseWrkOutput(result.stdout);
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
