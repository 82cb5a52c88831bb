import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../bench/lib/children.ts';

export { freePort };

/**
 * MariaDB, Redis and Kafka of the fault suite's own, which it may kill: started by the project's
 * scripts/services/up.sh under a private SERVICES_DIR on ports free at run time, so the servers the
 * other suites share are never touched. A reaper process stops whatever is left by pid if this test
 * process dies without cleaning up or runs past its time limit.
 */

export type ServiceName = 'mariadb' | 'redis' | 'kafka';

export interface FaultServiceUrls {
  databaseUrl: string;
  redisUrl: string;
  kafkaBrokers: string;
}

export interface FaultServices {
  urls: FaultServiceUrls;
  dir: string;
  /** Sends `signal` to the service and waits until its process is gone (SIGKILL after `graceMs`). */
  stopService(name: ServiceName, signal: NodeJS.Signals, graceMs?: number): Promise<void>;
  /** Starts again whatever is not running (up.sh is idempotent); resolves when the service answers. */
  restart(timeoutMs: number): Promise<void>;
  /** Registers another process (an app server) for the reaper. */
  track(pid: number, pattern: string): void;
  untrack(pid: number): void;
  /** Stops every service by pid, the reaper, and deletes the directory. */
  stop(): Promise<void>;
}

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const SCRIPTS = path.join(REPO_ROOT, 'scripts', 'services');

/** How each service's process is recognised before a pid is signalled (a pid may have been reused). */
const patterns: Record<ServiceName, string> = {
  mariadb: 'mariadbd',
  redis: 'redis-server',
  kafka: 'kafka.Kafka',
};

export async function startFaultServices(
  dir: string,
  options: { lifetimeSeconds: number; log: (line: string) => void },
): Promise<FaultServices> {
  const ports = {
    MARIADB_PORT: await freePort(),
    REDIS_PORT: await freePort(),
    KAFKA_PORT: await freePort(),
    KAFKA_CONTROLLER_PORT: await freePort(),
  };
  const servicesDir = path.join(dir, 'services');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...Object.fromEntries(Object.entries(ports).map(([key, value]) => [key, String(value)])),
    SERVICES_DIR: servicesDir,
    SERVICES_ENV_FILE: path.join(dir, 'services.env'),
    // C1 only: the broker starts much sooner on a busy machine, and this one lives only minutes.
    KAFKA_HEAP_OPTS: '-Xms128m -Xmx384m -XX:TieredStopAtLevel=1',
  };
  const pidFile = (name: ServiceName) => path.join(servicesDir, name, `${name}.pid`);
  const registry = path.join(dir, 'reaper.pids');
  const extra = new Map<number, string>();
  writeFileSync(registry, '');

  const writeRegistry = () => {
    const lines = [...extra].map(([pid, pattern]) => `${pid} ${pattern}`);
    writeFileSync(registry, lines.length > 0 ? `${lines.join('\n')}\n` : '');
  };

  const reaper = startReaper({
    owner: process.pid,
    dir,
    servicesDir,
    registry,
    seconds: options.lifetimeSeconds,
  });

  const run = async (script: string, args: string[], timeoutMs: number) => {
    const result = await runBash(path.join(SCRIPTS, script), args, env, timeoutMs);
    for (const line of result.output.split('\n')) if (line.trim() !== '') options.log(line);
    if (result.code !== 0) throw new Error(`${script} ${args.join(' ')} exited ${result.code}`);
  };

  const livePid = (name: ServiceName): number | undefined => {
    const file = pidFile(name);
    if (!existsSync(file)) return undefined;
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 && processMatches(pid, patterns[name]) ? pid : undefined;
  };

  // Their data is deleted right after, so a short grace is enough.
  const stopServices = async () => {
    await Promise.all(
      (['kafka', 'redis', 'mariadb'] as const).map(async (name) => {
        const pid = livePid(name);
        if (pid === undefined) return;
        signal(pid, 'SIGTERM');
        if (!(await exited(pid, 3_000))) {
          signal(pid, 'SIGKILL');
          await exited(pid, 5_000);
        }
      }),
    );
  };

  try {
    await run('up.sh', [], 180_000);
  } catch (error) {
    await stopServices();
    reaper.kill('SIGKILL');
    throw error;
  }
  const host = '127.0.0.1';
  return {
    urls: {
      databaseUrl: `mysql://concert:concert@${host}:${ports.MARIADB_PORT}/concert`,
      redisUrl: `redis://${host}:${ports.REDIS_PORT}`,
      kafkaBrokers: `${host}:${ports.KAFKA_PORT}`,
    },
    dir,
    async stopService(name, sig, graceMs = 10_000) {
      const pid = livePid(name);
      if (pid === undefined) throw new Error(`${name} is not running`);
      signal(pid, sig);
      if (!(await exited(pid, graceMs))) {
        signal(pid, 'SIGKILL');
        if (!(await exited(pid, 5_000))) throw new Error(`${name} (pid ${pid}) did not stop`);
      }
    },
    restart: (timeoutMs) => run('up.sh', [], timeoutMs),
    track(pid, pattern) {
      extra.set(pid, pattern);
      writeRegistry();
    },
    untrack(pid) {
      extra.delete(pid);
      writeRegistry();
    },
    async stop() {
      await stopServices();
      reaper.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Already gone.
  }
}

/** True when the pid is a live (not zombie) process whose command line contains `pattern`. */
function processMatches(pid: number, pattern: string): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (state === 'Z') return false;
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').includes(pattern);
  } catch {
    return false;
  }
}

function isGone(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return true;
  }
}

async function exited(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!isGone(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}

function runBash(
  script: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', [script, ...args], {
      cwd: REPO_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const timer = setTimeout(() => {
      output += `\n${path.basename(script)} did not finish within ${timeoutMs} ms`;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, output });
    });
  });
}

/**
 * A detached shell that outlives a crashed test process: once the owner is gone or the lifetime is over,
 * it SIGKILLs every service whose pid file names a matching live process and every registered server,
 * then deletes the directory. Killed by `stop()` on a normal end.
 */
function startReaper(input: {
  owner: number;
  dir: string;
  servicesDir: string;
  registry: string;
  seconds: number;
}): ChildProcess {
  const script = `
owner="$1"; dir="$2"; services="$3"; registry="$4"; until=$(( SECONDS + $5 ))
while kill -0 "$owner" 2>/dev/null && (( SECONDS < until )); do sleep 1; done
reap() { local pid="$1" pattern="$2"
  [[ -r /proc/$pid/cmdline ]] && tr '\\0' ' ' </proc/$pid/cmdline | grep -qF -- "$pattern" && kill -KILL "$pid" 2>/dev/null; }
while read -r pid pattern; do [[ -n "$pid" ]] && reap "$pid" "$pattern"; done <"$registry"
for pair in mariadb:mariadbd redis:redis-server kafka:kafka.Kafka; do
  f="$services/\${pair%%:*}/\${pair%%:*}.pid"; [[ -f "$f" ]] && reap "$(tr -dc 0-9 <"$f")" "\${pair#*:}"
done
sleep 1; rm -rf -- "$dir"
`;
  const child = spawn(
    'bash',
    [
      '-c',
      script,
      'fault-reaper',
      String(input.owner),
      input.dir,
      input.servicesDir,
      input.registry,
      String(input.seconds),
    ],
    { detached: true, stdio: 'ignore' },
  );
  child.unref();
  return child;
}
