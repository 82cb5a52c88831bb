import { type ChildProcess, spawn } from 'node:child_process';
import {
  cpSync,
  createWriteStream,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { track } from './children.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));

/**
 * bench/server.ts bundled into one ESM file (as scripts/build.ts bundles the functions), so the server is
 * plain `node server.mjs`: no tsx loader, one process to signal. Not minified, so profiles keep names.
 */
export async function bundleServer(outDir: string, name = 'server'): Promise<string> {
  mkdirSync(outDir, { recursive: true });
  const outfile = join(outDir, `${name}.mjs`);
  await build({
    entryPoints: [join(root, 'bench', `${name}.ts`)],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    sourcemap: 'linked',
    external: ['sql.js', 'cpu-features', 'ssh2'],
    banner: {
      js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
    },
    logLevel: 'warning',
  });
  cpSync(join(root, 'shared', 'redis', 'lua'), join(outDir, 'lua'), { recursive: true });
  // In one bundle every module's import.meta.url is the bundle's, so each functions/*/main.ts would take
  // itself for the entry point (isEntryPoint) and serve too. Started through another file, none does.
  const entry = join(outDir, `start-${name}.mjs`);
  writeFileSync(entry, `import './${name}.mjs';\n`);
  return entry;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface ServerProcess {
  url: string;
  /** With profileDir: profile the server's processes from start() until stop(label). */
  profiler?: { start(): void; stop(label: string): Promise<string[]> };
  /** Its process group: the server and its cluster workers. */
  pid: number;
  logFile: string;
  stop(): Promise<void>;
}

export async function startServer(options: {
  bundle: string;
  env: Record<string, string>;
  port: number;
  args: string[];
  nodeFlags: string[];
  logFile: string;
  /** Where bench/server.ts writes CPU profiles on SIGUSR2 (it gets --profile-dir), and how many it writes. */
  profile?: { dir: string; processes: number };
}): Promise<ServerProcess> {
  const profile = options.profile;
  if (profile) mkdirSync(profile.dir, { recursive: true });
  const log = createWriteStream(options.logFile);
  // Its own process group: Ctrl-C in the terminal reaches the bench, which then stops the whole group.
  const child: ChildProcess = track(
    spawn(
      process.execPath,
      [
        ...options.nodeFlags,
        options.bundle,
        ...options.args,
        ...(profile ? ['--profile-dir', profile.dir] : []),
      ],
      {
        env: options.env,
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      },
    ),
    { group: true },
  );
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const exited = new Promise<number>((resolve) => child.once('exit', (code) => resolve(code ?? 1)));
  const url = `http://127.0.0.1:${options.port}`;
  const tail = () => readFileSync(options.logFile, 'utf8').split('\n').slice(-30).join('\n');

  const deadline = Date.now() + 60_000;
  for (;;) {
    const exitCode = await Promise.race([exited, sleep(200).then(() => null)]);
    if (exitCode !== null)
      throw new Error(`bench server exited (${exitCode}) before it was ready:\n${tail()}`);
    const ready = await fetch(`${url}/readyz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) throw new Error(`bench server not ready after 60 s:\n${tail()}`);
  }

  const signal = () => process.kill(-child.pid!, 'SIGUSR2');
  const profiler = profile && {
    start: signal,
    async stop(label: string) {
      const before = new Set(readdirSync(profile.dir));
      signal();
      const deadline = Date.now() + 20_000;
      let fresh: string[] = [];
      while (Date.now() < deadline) {
        fresh = readdirSync(profile.dir).filter((f) => f.endsWith('.cpuprofile') && !before.has(f));
        if (fresh.length >= profile.processes) break;
        await sleep(100);
      }
      await sleep(200);
      return fresh.map((f, i) => {
        const to = join(profile.dir, `${label}.${i + 1}.cpuprofile`);
        renameSync(join(profile.dir, f), to);
        return to;
      });
    },
  };

  return {
    url,
    ...(profiler ? { profiler } : {}),
    pid: child.pid!,
    logFile: options.logFile,
    async stop() {
      if (child.exitCode !== null || child.pid === undefined) return;
      // SIGTERM: it drains and exits by itself, which also writes --cpu-prof profiles.
      process.kill(-child.pid, 'SIGTERM');
      const code = await Promise.race([exited, sleep(15_000).then(() => null)]);
      if (code === null) process.kill(-child.pid, 'SIGKILL');
      log.end();
    },
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
