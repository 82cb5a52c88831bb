import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { configSchema } from '../../shared/config.ts';

/**
 * The processes `npm run bench` and `npm run tune` start, and what they undo on the way out.
 *
 * Every process runs in its own process group (detached), so stopping it also stops what it started (tsx
 * starts a second node, the bench server forks cluster workers). Only groups started here are signalled,
 * by id. Cleanup steps (stopping the server, dropping the run's database, its Redis keys, its topics) run
 * once, on success, failure or Ctrl-C, in reverse order of registration.
 */

const running = new Set<ChildProcess>();
const cleanups: Array<{ what: string; run: () => Promise<void> }> = [];
let cleaning: Promise<void> | undefined;

export function start(command: string, args: string[], options: SpawnOptions = {}): ChildProcess {
  // After an interrupt the main flow may still be on its way to its next step: it must not start anything.
  if (cleaning) throw new Error(`not starting ${command}: the run is being stopped`);
  const child = spawn(command, args, { ...options, detached: true });
  running.add(child);
  child.once('exit', () => running.delete(child));
  return child;
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}

/** SIGTERM to the child's group; SIGKILL after graceMs. Resolves when the child has exited. */
export function stop(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => signalGroup(child, 'SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      // Grandchildren that outlived their parent.
      if (child.pid !== undefined) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // the group is empty
        }
      }
      resolve();
    });
    signalGroup(child, 'SIGTERM');
  });
}

/** Registers a cleanup step; the returned function takes it back (a step done early, e.g. a server stopped). */
export function onCleanup(what: string, run: () => Promise<void>): () => void {
  const step = { what, run };
  cleanups.push(step);
  return () => {
    const at = cleanups.indexOf(step);
    if (at >= 0) cleanups.splice(at, 1);
  };
}

/** Stops every child still running, then runs the cleanup steps, newest first; once, however often called. */
export function cleanup(log: (line: string) => void, tool: string): Promise<void> {
  cleaning ??= (async () => {
    await Promise.all([...running].map((child) => stop(child, 5_000)));
    for (const step of cleanups.splice(0).reverse()) {
      try {
        await withTimeout(step.run(), 20_000, step.what);
      } catch (error) {
        log(
          `[${tool}] cleanup: ${step.what} failed: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    }
  })();
  return cleaning;
}

/**
 * Ctrl-C or SIGTERM: stop the children, clean up, exit. Wrappers repeat a signal within milliseconds (npm,
 * sh and tsx each pass it on, besides the terminal sending it to the whole group), so only a Ctrl-C at least
 * a second after the first means "exit at once"; other repeats are ignored while the cleanup runs.
 */
export function installSignalHandlers(log: (line: string) => void, tool: string): void {
  let interruptedAt: number | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    const code = signal === 'SIGINT' ? 130 : 143;
    if (interruptedAt !== undefined) {
      if (signal === 'SIGINT' && Date.now() - interruptedAt > 1000) {
        killAll();
        process.exit(code);
      }
      return;
    }
    interruptedAt = Date.now();
    log(`\n[${tool}] ${signal}: stopping children and cleaning up (again to exit at once)`);
    void cleanup(log, tool).finally(() => process.exit(code));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

function killAll(): void {
  for (const child of running) signalGroup(child, 'SIGKILL');
}

// Whatever the way out, no child outlives the tool.
process.on('exit', killAll);

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Runs a command to completion, collecting its output (the child is tracked like the others). */
export function run(
  command: string,
  args: string[],
  options: SpawnOptions = {},
  onSpawn?: (pid: number) => void,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = start(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    if (child.pid !== undefined) onSpawn?.(child.pid);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr }));
  });
}

/**
 * Waits until `url`/readyz answers 200; throws when the child exits first or the time runs out, with the
 * end of its log. Both tools start servers this way.
 */
export async function waitUntilReady(options: {
  child: ChildProcess;
  url: string;
  label: string;
  logFile: string;
  timeoutMs: number;
}): Promise<void> {
  const { child } = options;
  const exited = () =>
    child.exitCode !== null || child.signalCode !== null
      ? `exited (${child.signalCode ?? child.exitCode})`
      : null;
  const deadline = Date.now() + options.timeoutMs;
  while (Date.now() < deadline && !exited()) {
    try {
      const res = await fetch(`${options.url}/readyz`, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(250);
  }
  throw new Error(
    `${options.label} ${exited() ?? 'was not ready in time'}; its log (${options.logFile}) ends:\n${tail(options.logFile, 20)}`,
  );
}

export function tail(file: string, lines: number): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}

/**
 * The environment of a server process: the parent's, minus every setting shared/config.ts knows (so a
 * DATABASE_URL in the operator's shell cannot leak in), plus the run's.
 */
export function childEnv(settings: Record<string, string | number>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(configSchema.shape)) delete env[key];
  for (const [key, value] of Object.entries(settings)) env[key] = String(value);
  return env;
}
