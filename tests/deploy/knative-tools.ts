import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Validation tools for the Knative, workflow and image tests, installed on first use into .tools/ at pinned
 * versions and reused after. Go tools come from the Go module proxy (`go install`), npm tools from the npm
 * registry into their own prefix, so neither touches package.json. Every install and every reuse is
 * printed. Under CI=true a failed install throws; elsewhere the caller may skip with the reason.
 */
export const repoRoot = new URL('../../', import.meta.url).pathname;
export const toolsDir = join(repoRoot, '.tools');

export interface GoTool {
  name: string;
  module: string;
  version: string;
}

export interface NpmTool {
  name: string;
  version: string;
}

export const goTools = {
  kustomize: { name: 'kustomize', module: 'sigs.k8s.io/kustomize/kustomize/v5', version: 'v5.8.1' },
  actionlint: {
    name: 'actionlint',
    module: 'github.com/rhysd/actionlint/cmd/actionlint',
    version: 'v1.7.12',
  },
  helm: { name: 'helm', module: 'helm.sh/helm/v4/cmd/helm', version: 'v4.3.2' },
} satisfies Record<string, GoTool>;

export const npmTools = {
  dockerfileUtils: { name: 'dockerfile-utils', version: '0.16.3' },
  dockerignore: { name: '@balena/dockerignore', version: '1.0.2' },
  lezerPromql: { name: '@prometheus-io/lezer-promql', version: '0.315.0' },
} satisfies Record<string, NpmTool>;

export const isCI = process.env.CI === 'true' || process.env.CI === '1';

export class ToolUnavailable extends Error {
  override name = 'ToolUnavailable';
}

/** What the tests ran, printed once at the end of each file. */
export const toolLog: string[] = [];

function note(line: string): void {
  toolLog.push(line);
  console.log(`[tools] ${line}`);
}

/** One installer at a time across processes (other test files may install the same tool). */
function withLock<T>(name: string, fn: () => T): T {
  const lock = join(toolsDir, `.${name}.lock`);
  mkdirSync(toolsDir, { recursive: true });
  const deadline = Date.now() + 15 * 60_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // A lock older than 20 minutes belongs to a killed run.
      if (Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now()) > 20 * 60_000) {
        rmSync(lock, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) throw new ToolUnavailable(`timed out waiting for ${lock}`);
      spawnSync('sleep', ['1']);
    }
  }
  try {
    return fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** Returns the path of the tool's binary, installing it with `go install module@version` when absent. */
export function ensureGoTool(tool: GoTool): string {
  const binDir = join(toolsDir, 'go', `${tool.name}-${tool.version}`, 'bin');
  const bin = join(binDir, tool.name);
  if (existsSync(bin)) {
    note(`${tool.name} ${tool.version} (${tool.module}) from ${bin}`);
    return bin;
  }
  return withLock(`${tool.name}-${tool.version}`, () => {
    if (existsSync(bin)) return bin;
    const go = spawnSync('go', ['version'], { encoding: 'utf8' });
    if (go.status !== 0) {
      throw new ToolUnavailable(`${tool.name}: the Go toolchain is missing (needed for go install)`);
    }
    note(`installing ${tool.name} ${tool.version}: go install ${tool.module}@${tool.version} (first use)`);
    const started = Date.now();
    const result = spawnSync('go', ['install', `${tool.module}@${tool.version}`], {
      encoding: 'utf8',
      env: { ...process.env, GOBIN: binDir, GOFLAGS: '-buildvcs=false', CGO_ENABLED: '0' },
      stdio: ['ignore', 'inherit', 'pipe'],
      timeout: 20 * 60_000,
    });
    if (result.status !== 0 || !existsSync(bin)) {
      throw new ToolUnavailable(
        `go install ${tool.module}@${tool.version} failed (${result.status ?? result.signal}):\n${result.stderr?.slice(-4000)}`,
      );
    }
    note(
      `installed ${tool.name} ${tool.version} in ${((Date.now() - started) / 1000).toFixed(0)} s → ${bin}`,
    );
    return bin;
  });
}

/** Returns the package's directory under .tools/npm, installing it from the npm registry when absent. */
export function ensureNpmTool(tool: NpmTool): string {
  const prefix = join(toolsDir, 'npm', `${tool.name.replace('/', '__')}-${tool.version}`);
  const dir = join(prefix, 'node_modules', tool.name);
  if (existsSync(join(dir, 'package.json'))) {
    note(`${tool.name} ${tool.version} (npm) from ${dir}`);
    return dir;
  }
  return withLock(`${tool.name.replace('/', '__')}-${tool.version}`, () => {
    if (existsSync(join(dir, 'package.json'))) return dir;
    note(`installing ${tool.name}@${tool.version} from npm into ${prefix} (first use)`);
    mkdirSync(prefix, { recursive: true });
    const result = spawnSync(
      'npm',
      ['install', '--prefix', prefix, '--no-save', '--no-audit', '--no-fund', `${tool.name}@${tool.version}`],
      { encoding: 'utf8', timeout: 10 * 60_000 },
    );
    if (result.status !== 0 || !existsSync(join(dir, 'package.json'))) {
      throw new ToolUnavailable(
        `npm install ${tool.name}@${tool.version} failed:\n${result.stderr?.slice(-4000)}`,
      );
    }
    return dir;
  });
}

/**
 * Runs `get()`; when the tool cannot be had, fails under CI and otherwise returns the reason so the caller
 * can skip (a laptop without Go still runs the rest of the suite).
 */
export function tryTool<T>(get: () => T): { tool: T } | { unavailable: string } {
  try {
    return { tool: get() };
  } catch (error) {
    if (isCI || !(error instanceof ToolUnavailable)) throw error;
    note(`SKIPPING: ${error.message}`);
    return { unavailable: error.message };
  }
}

export interface RunResult {
  status: number;
  stdout: string;
  stderr: string;
}

export function run(bin: string, args: string[], options: { cwd?: string; input?: string } = {}): RunResult {
  const result = spawnSync(bin, args, {
    cwd: options.cwd ?? repoRoot,
    encoding: 'utf8',
    input: options.input,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error) throw result.error;
  note(`ran ${bin.replace(repoRoot, '')} ${args.join(' ')} → exit ${result.status}`);
  return { status: result.status ?? 1, stdout: result.stdout, stderr: result.stderr };
}
