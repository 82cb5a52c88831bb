import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/**
 * Validation tools for the deploy tests, installed on first use into `.tools/` (gitignored) from the package
 * registries this project's machines reach: PyPI (into one venv at `.tools/venv`), the Go module proxy
 * (`go install` into `.tools/bin`) and npm (`npm pack`, unpacked under `.tools/npm`). Every version is pinned
 * here, so a developer's machine and CI validate with the same tools.
 *
 * Adding a tool: one entry in TOOLS. `ensureTool(name)` installs it when missing or at another version,
 * prints what it does, and returns where it is.
 */

const run = promisify(execFile);

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const TOOLS_DIR = join(REPO_ROOT, '.tools');
const VENV = join(TOOLS_DIR, 'venv');
const GOBIN = join(TOOLS_DIR, 'bin');
const NPM_DIR = join(TOOLS_DIR, 'npm');

interface PypiTool {
  kind: 'pypi';
  /** distribution name on PyPI */
  package: string;
  version: string;
  /** console script in the venv's bin/ */
  bin: string;
}

interface GoTool {
  kind: 'go';
  /** package path of the main package, as `go install` takes it */
  path: string;
  /** module that versions it (the `mod` line of `go version -m`) */
  module: string;
  version: string;
  bin: string;
}

interface NpmPackTool {
  kind: 'npm-pack';
  /** package fetched as a tarball (not installed: nothing in it runs) */
  package: string;
  version: string;
  /** tar members to unpack, as wildcards */
  members: string[];
}

type ToolSpec = PypiTool | GoTool | NpmPackTool;

export const TOOLS = {
  checkov: { kind: 'pypi', package: 'checkov', version: '3.3.30', bin: 'checkov' },
  hclfmt: {
    kind: 'go',
    path: 'github.com/hashicorp/hcl/v2/cmd/hclfmt',
    module: 'github.com/hashicorp/hcl/v2',
    version: 'v2.25.0',
    bin: 'hclfmt',
  },
  // HCL to JSON with the same parser (hashicorp/hcl/v2) Terraform uses: the structural checks read its output.
  hcl2json: {
    kind: 'go',
    path: 'github.com/tmccombs/hcl2json',
    module: 'github.com/tmccombs/hcl2json',
    version: 'v0.6.9',
    bin: 'hcl2json',
  },
  actionlint: {
    kind: 'go',
    path: 'github.com/rhysd/actionlint/cmd/actionlint',
    module: 'github.com/rhysd/actionlint',
    version: 'v1.7.12',
    bin: 'actionlint',
  },
  kustomize: {
    kind: 'go',
    path: 'sigs.k8s.io/kustomize/kustomize/v5',
    module: 'sigs.k8s.io/kustomize/kustomize/v5',
    version: 'v5.8.1',
    bin: 'kustomize',
  },
  // Provider schemas, as the CDK for Terraform generated them from hashicorp/aws 6.25.0, hashicorp/helm 3.x,
  // hashicorp/kubernetes 2.38.0 and hashicorp/random 3.x: the argument names every resource accepts.
  'schema-aws': {
    kind: 'npm-pack',
    package: '@cdktf/provider-aws',
    version: '21.22.1',
    members: ['package/package.json', 'package/lib/*/index.js'],
  },
  'schema-helm': {
    kind: 'npm-pack',
    package: '@cdktf/provider-helm',
    version: '12.1.2',
    members: ['package/package.json', 'package/lib/*/index.js'],
  },
  'schema-kubernetes': {
    kind: 'npm-pack',
    package: '@cdktf/provider-kubernetes',
    version: '12.1.1',
    members: ['package/package.json', 'package/lib/*/index.js'],
  },
  'schema-random': {
    kind: 'npm-pack',
    package: '@cdktf/provider-random',
    version: '12.0.1',
    members: ['package/package.json', 'package/lib/*/index.js'],
  },
} as const satisfies Record<string, ToolSpec>;

export type ToolName = keyof typeof TOOLS;

export interface InstalledTool {
  name: ToolName;
  version: string;
  /** the executable, or for npm-pack tools the unpacked `package/` directory */
  path: string;
  /** true when this call installed it */
  installed: boolean;
}

/** Thrown when a tool cannot be installed; tests skip on it outside CI and fail on it under CI=true. */
export class ToolUnavailableError extends Error {
  constructor(
    readonly tool: ToolName,
    readonly reason: string,
  ) {
    super(`${tool}: could not be installed: ${reason}`);
    this.name = 'ToolUnavailableError';
  }
}

export const IN_CI = process.env.CI === 'true';

const pending = new Map<ToolName, Promise<InstalledTool>>();

/** Installs the pinned version of `name` if it is missing (once per process) and returns where it is. */
export function ensureTool(name: ToolName): Promise<InstalledTool> {
  let p = pending.get(name);
  if (!p) {
    p = install(name);
    pending.set(name, p);
  }
  return p;
}

async function install(name: ToolName): Promise<InstalledTool> {
  const spec: ToolSpec = TOOLS[name];
  mkdirSync(TOOLS_DIR, { recursive: true });
  // pip into the one venv must not run twice at once (two test processes); each other tool has its own lock.
  const release = await lock(spec.kind === 'pypi' ? 'venv' : name, name);
  try {
    switch (spec.kind) {
      case 'pypi':
        return await installPypi(name, spec);
      case 'go':
        return await installGo(name, spec);
      case 'npm-pack':
        return await installNpmPack(name, spec);
    }
  } finally {
    release();
  }
}

/**
 * A directory lock under .tools/ (mkdir is atomic) holding the owner's pid: a lock whose process is gone (a run
 * killed mid-install) is taken over at once, and any lock older than 20 minutes is taken as abandoned.
 */
async function lock(name: string, tool: ToolName): Promise<() => void> {
  const dir = join(TOOLS_DIR, `.${name}.install-lock`);
  const deadline = Date.now() + 15 * 60_000;
  for (;;) {
    try {
      mkdirSync(dir);
      writeFileSync(join(dir, 'pid'), String(process.pid));
      return () => rmSync(dir, { recursive: true, force: true });
    } catch {
      if (lockIsStale(dir)) rmSync(dir, { recursive: true, force: true });
      else if (Date.now() > deadline) throw new ToolUnavailableError(tool, `timed out waiting for ${dir}`);
      else await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

function lockIsStale(dir: string): boolean {
  const age = Date.now() - (statSync(dir, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
  if (age > 20 * 60_000) return true;
  let pid = Number.NaN;
  try {
    pid = Number(readFileSync(join(dir, 'pid'), 'utf8'));
  } catch {
    return age > 10_000; // the owner has not written its pid yet, or died before it did
  }
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

function say(message: string): void {
  process.stdout.write(`[tools] ${message}\n`);
}

async function sh(file: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const { stdout } = await run(file, args, { env, maxBuffer: 64 * 1024 * 1024, cwd: TOOLS_DIR });
  return stdout;
}

function failure(err: unknown): string {
  if (err && typeof err === 'object' && 'stderr' in err && typeof err.stderr === 'string' && err.stderr) {
    return err.stderr.trim().split('\n').slice(-15).join('\n');
  }
  return err instanceof Error ? err.message : String(err);
}

async function installPypi(name: ToolName, spec: PypiTool): Promise<InstalledTool> {
  const python = join(VENV, 'bin', 'python');
  const bin = join(VENV, 'bin', spec.bin);
  const current = existsSync(python)
    ? await sh(python, [
        '-c',
        `import importlib.metadata as m; print(m.version(${JSON.stringify(spec.package)}))`,
      ])
        .then((out) => out.trim())
        .catch(() => null)
    : null;
  if (current === spec.version && existsSync(bin)) {
    return { name, version: spec.version, path: bin, installed: false };
  }
  try {
    if (!existsSync(python)) {
      say(`creating venv ${VENV}`);
      await sh('python3', ['-m', 'venv', VENV]);
    }
    say(`pip install ${spec.package}==${spec.version} into ${VENV}${current ? ` (was ${current})` : ''}`);
    await sh(python, [
      '-m',
      'pip',
      'install',
      '--quiet',
      '--disable-pip-version-check',
      `${spec.package}==${spec.version}`,
    ]);
  } catch (err) {
    throw new ToolUnavailableError(name, failure(err));
  }
  return { name, version: spec.version, path: bin, installed: true };
}

async function goModuleVersion(bin: string, module: string): Promise<string | null> {
  if (!existsSync(bin)) return null;
  const out = await sh('go', ['version', '-m', bin]).catch(() => '');
  const line = out.split('\n').find((l) => /^\s*mod\s/.test(l) && l.split(/\s+/)[2] === module);
  return line?.split(/\s+/)[3] ?? null;
}

async function installGo(name: ToolName, spec: GoTool): Promise<InstalledTool> {
  const bin = join(GOBIN, spec.bin);
  const current = await goModuleVersion(bin, spec.module);
  if (current === spec.version) return { name, version: spec.version, path: bin, installed: false };
  try {
    say(`GOBIN=${GOBIN} go install ${spec.path}@${spec.version}${current ? ` (was ${current})` : ''}`);
    await sh('go', ['install', `${spec.path}@${spec.version}`], {
      ...process.env,
      GOBIN,
      GOFLAGS: '-mod=mod',
    });
  } catch (err) {
    throw new ToolUnavailableError(name, failure(err));
  }
  const installed = await goModuleVersion(bin, spec.module);
  if (installed !== spec.version) {
    throw new ToolUnavailableError(
      name,
      `installed ${bin} reports ${installed ?? 'no version'}, wanted ${spec.version}`,
    );
  }
  return { name, version: spec.version, path: bin, installed: true };
}

async function installNpmPack(name: ToolName, spec: NpmPackTool): Promise<InstalledTool> {
  const dir = join(NPM_DIR, `${name}-${spec.version}`);
  const pkg = join(dir, 'package');
  if (existsSync(join(pkg, 'package.json')))
    return { name, version: spec.version, path: pkg, installed: false };
  try {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    say(`npm pack ${spec.package}@${spec.version} into ${dir}`);
    const out = await sh('npm', [
      'pack',
      `${spec.package}@${spec.version}`,
      '--pack-destination',
      dir,
      '--silent',
    ]);
    const tarball = out.trim().split('\n').pop() ?? '';
    const file = join(dir, tarball);
    if (!tarball || !existsSync(file))
      throw new Error(`npm pack printed no tarball name (got: ${out.trim()})`);
    await sh('tar', ['-xzf', file, '-C', dir, '--wildcards', ...spec.members]);
    rmSync(file);
    if (!existsSync(join(pkg, 'package.json'))) throw new Error(`${file} had no package/package.json`);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw new ToolUnavailableError(name, failure(err));
  }
  return { name, version: spec.version, path: pkg, installed: true };
}
