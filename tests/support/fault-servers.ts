import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { configSchema } from '../../shared/config.ts';
import { freePort } from './fault-services.ts';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface AppServer {
  url: string;
  pid: number;
  logFile: string;
  stop(): Promise<void>;
}

/** The all-in-one server (`tsx server/main.ts`) as its own process, its log lines kept in a file. */
export async function startAppServer(
  env: Record<string, string>,
  logFile: string,
  readyTimeoutMs = 60_000,
): Promise<AppServer> {
  const port = await freePort();
  const out = openSync(logFile, 'a');
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    cwd: REPO_ROOT,
    // One process per server: the tests signal and kill it by pid (npm start forks one per core).
    env: { ...inherited(), WORKERS: '1', ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  const pid = child.pid;
  if (pid === undefined) throw new Error('server process did not start');
  const url = `http://127.0.0.1:${port}`;
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const force = setTimeout(() => child.kill('SIGKILL'), 8_000);
      child.once('exit', () => {
        clearTimeout(force);
        resolve();
      });
      child.kill('SIGTERM');
    });
  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(`server exited with ${child.exitCode}:\n${tail(logFile)}`);
    }
    try {
      if ((await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2_000) })).ok) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`server did not answer /healthz within ${readyTimeoutMs} ms:\n${tail(logFile)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return { url, pid, logFile, stop };
}

/** The environment without any setting of the app's own, so a shell's DATABASE_READ_URL or key prefix cannot leak in. */
function inherited(): NodeJS.ProcessEnv {
  const settings = new Set(Object.keys(configSchema.shape));
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !settings.has(key)));
}

export function tail(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** The server's log lines at pino's error level and above, counted by message and error text. */
export function errorSummary(file: string): Map<string, number> {
  const counts = new Map<string, number>();
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return counts;
  }
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const entry = JSON.parse(line) as { level?: number; msg?: string; err?: unknown };
      if ((entry.level ?? 0) < 50) continue;
      const err =
        typeof entry.err === 'string'
          ? entry.err
          : ((entry.err as { message?: string } | undefined)?.message ?? '');
      const key = `${entry.msg ?? ''}${err ? `: ${err}` : ''}`.slice(0, 160);
      counts.set(key, (counts.get(key) ?? 0) + 1);
    } catch {
      // A line that is not JSON (a crash's stack trace) is kept whole by the tail instead.
    }
  }
  return counts;
}
