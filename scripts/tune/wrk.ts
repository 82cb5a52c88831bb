import {
  parseWrkOutput as parseBenchOutput,
  writeRequestFile as writeBenchRequests,
  wrkScript,
} from '../../bench/lib/wrk.ts';
import { run } from './children.ts';

export const wrkBinary = process.env.WRK ?? 'wrk';

/** One request of a tune list; every request carries its own headers (no shared user sets). */
export interface TuneRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  headers: Record<string, string>;
  /** "{n}" in the body or a header value becomes the request's global number. */
  body?: string;
}

/** Written in the bench's request-file format, which the one replay script (bench/wrk/requests.lua) reads. */
export function writeRequestFile(file: string, requests: readonly TuneRequest[]): void {
  if (requests.length === 0) throw new Error('no requests to write');
  writeBenchRequests(
    file,
    [],
    requests.map((r) => ({
      method: r.method,
      path: r.path,
      user: 0,
      headers: r.headers,
      ...(r.body === undefined ? {} : { body: r.body }),
    })),
  );
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

/** The replay script's figures, in the shape tune reports them. */
export function parseWrkOutput(stdout: string): WrkResult {
  const r = parseBenchOutput(stdout);
  const { p999: _unused, ...latencyMs } = r.latencyMs;
  return {
    durationSeconds: r.durationSeconds,
    answers: r.requests,
    latencyMs,
    socketErrors: r.errors,
    statuses: r.statuses,
    codes: r.codes,
    nextStart: r.nextStart,
    issued: r.issued,
    repeated: r.repeated,
    listSize: r.listSize,
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
    wrkScript,
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
