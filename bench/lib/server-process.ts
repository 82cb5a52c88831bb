import { closeSync, cpSync, mkdirSync, openSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { sleep, start, stop, waitUntilReady } from './children.ts';

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
  env: NodeJS.ProcessEnv;
  port: number;
  args: string[];
  nodeFlags: string[];
  logFile: string;
  /** Where bench/server.ts writes CPU profiles on SIGUSR2 (it gets --profile-dir), and how many it writes. */
  profile?: { dir: string; processes: number };
}): Promise<ServerProcess> {
  const profile = options.profile;
  if (profile) mkdirSync(profile.dir, { recursive: true });
  const out = openSync(options.logFile, 'a');
  // Its own process group: Ctrl-C in the terminal reaches the bench, which then stops the whole group.
  const child = start(
    process.execPath,
    [
      ...options.nodeFlags,
      options.bundle,
      ...options.args,
      ...(profile ? ['--profile-dir', profile.dir] : []),
    ],
    { env: options.env, stdio: ['ignore', out, out] },
  );
  closeSync(out);
  const url = `http://127.0.0.1:${options.port}`;
  await waitUntilReady({ child, url, label: 'bench server', logFile: options.logFile, timeoutMs: 60_000 });

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
    // SIGTERM: it drains and exits by itself, which also writes --cpu-prof profiles.
    stop: () => stop(child, 15_000),
  };
}
