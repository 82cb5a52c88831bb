import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';

/**
 * Every process the tool starts runs in its own process group (detached), so stopping it also stops
 * anything it started (tsx starts a second node). Only groups started here are ever signalled, by id.
 * Cleanup steps (dropping the run's database, its Redis keys, its topics) run once, on success, failure
 * or Ctrl-C.
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

/** Registers a cleanup step; they run in reverse order of registration. */
export function onCleanup(what: string, run: () => Promise<void>): void {
  cleanups.push({ what, run });
}

export function cleanup(log: (line: string) => void): Promise<void> {
  cleaning ??= (async () => {
    await Promise.all([...running].map((child) => stop(child, 5_000)));
    for (const step of cleanups.splice(0).reverse()) {
      try {
        await withTimeout(step.run(), 20_000, step.what);
      } catch (error) {
        log(`[tune] cleanup: ${step.what} failed: ${error instanceof Error ? error.message : String(error)}`);
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
export function installSignalHandlers(log: (line: string) => void): void {
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
    log(`\n[tune] ${signal}: stopping children and cleaning up (again to exit at once)`);
    void cleanup(log).finally(() => process.exit(code));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // Whatever the way out, no child outlives the tool.
  process.on('exit', killAll);
}

function killAll(): void {
  for (const child of running) signalGroup(child, 'SIGKILL');
}

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
