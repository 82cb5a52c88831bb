import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { configSchema } from '../../shared/config.ts';

export interface ServerProcess {
  url: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      srv.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/**
 * The all-in-one server as a real process (as `npm start` runs it), ready when /healthz answers. `entry`
 * runs another script instead, e.g. `['scripts/run-function.ts', 'dispatcher']` for one function alone.
 */
export async function startServerProcess(
  env: Record<string, string>,
  nodeArgs: string[] = [],
  entry: string[] = ['server/main.ts'],
): Promise<ServerProcess> {
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', ...entry], {
    cwd: new URL('../../', import.meta.url).pathname,
    // One process per server, as the tests count them (npm start forks one per core).
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', WORKERS: '1', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}: ${stderr}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`server did not start: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

export interface LaunchedProcess {
  pid: number;
  url: string;
  stdout(): string;
  stderr(): string;
  /** The exit code (or the signal's name); rejects when the process is still running after `ms`. */
  exited(ms: number): Promise<number | string>;
  /** Resolves once /healthz answers 200; rejects when the process exits first or after `ms`. */
  healthy(ms: number): Promise<void>;
  kill(signal: NodeJS.Signals): void;
}

/**
 * A server entry (`server/main.ts`, or `scripts/run-function.ts <name>`) as its own process, with its
 * output kept. Only the settings given here reach it, so the test runner's service URLs cannot leak in.
 */
export async function launchProcess(
  args: string[],
  env: Record<string, string>,
  options: { port?: number } = {},
): Promise<LaunchedProcess> {
  const inherited = Object.entries(process.env).filter(
    (entry): entry is [string, string] => entry[1] !== undefined && !(entry[0] in configSchema.shape),
  );
  const port = options.port ?? (await freePort());
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
    cwd: new URL('../../', import.meta.url).pathname,
    env: {
      ...Object.fromEntries(inherited),
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      WORKERS: '1',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exit = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  const url = `http://127.0.0.1:${port}`;
  const within = <T>(ms: number, what: string, work: Promise<T>) =>
    new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms; stderr: ${stderr}`)), ms);
      work.then(resolve, reject).finally(() => clearTimeout(timer));
    });
  return {
    pid: child.pid ?? 0,
    url,
    stdout: () => stdout,
    stderr: () => stderr,
    exited: (ms) => within(ms, 'did not exit', exit),
    async healthy(ms) {
      const deadline = Date.now() + ms;
      for (;;) {
        if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}: ${stderr}`);
        const ok = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) }).then(
          (r) => r.ok,
          () => false,
        );
        if (ok) return;
        if (Date.now() > deadline) throw new Error(`no /healthz within ${ms} ms; stderr: ${stderr}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    kill: (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
}
