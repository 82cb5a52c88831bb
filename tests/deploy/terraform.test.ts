import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { crdCacheDir, type GoModuleCrd, goModuleCrds } from '../../knative/crd-sources.ts';
import { ensureGoModuleCrds } from '../../knative/fetch-go-crds.ts';
import { createValidator, type Validator } from '../../knative/validate.ts';
import { docsAssets } from '../../shared/http/docs-page.ts';
import { call, startTestServer, type TestServer } from '../support/embedded-server.ts';
import {
  ensureTool,
  IN_CI,
  type InstalledTool,
  REPO_ROOT,
  type ToolName,
  ToolUnavailableError,
} from './tools.ts';

/**
 * Offline validation of terraform/ with real tools, since no provider or registry module can be downloaded
 * here for `terraform validate`: hclfmt parses and checks formatting with HashiCorp's HCL parser; hcl2json
 * (same parser) feeds the structural checks, a reference check standing in for `validate`, and a check of
 * every argument against the provider schemas; checkov scans for misconfigurations.
 */

const exec = promisify(execFile);
const TF_ROOT = join(REPO_ROOT, 'terraform');
const REQUIRED_FILES = ['main.tf', 'variables.tf', 'outputs.tf', 'versions.tf'];
const META_ARGUMENTS = new Set([
  'count',
  'for_each',
  'provider',
  'depends_on',
  'lifecycle',
  'provisioner',
  'connection',
]);
const MODULE_META_ARGUMENTS = new Set(['source', 'version', 'providers', 'count', 'for_each', 'depends_on']);

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
type Obj = { [key: string]: Json };

interface TfFile {
  path: string;
  rel: string;
  dir: string;
  text: string;
  json: Obj | null;
}

const isObj = (v: Json | undefined): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const blocks = (v: Json | undefined): Obj[] => (Array.isArray(v) ? v.filter(isObj) : isObj(v) ? [v] : []);
const entries = (v: Json | undefined): [string, Json][] => (isObj(v) ? Object.entries(v) : []);

function fail(title: string, problems: string[]): void {
  if (problems.length > 0) {
    throw new Error(`${title}: ${problems.length} problem(s)\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

function log(message: string): void {
  process.stdout.write(`[terraform] ${message}\n`);
}

function findTfFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (e.name.startsWith('.')) return [];
    const path = join(dir, e.name);
    if (e.isDirectory()) return findTfFiles(path);
    return e.name.endsWith('.tf') ? [path] : [];
  });
}

/** Every `${...}` expression text in a value, recursively (literal strings carry no references). */
function expressions(value: Json | undefined, out: string[] = []): string[] {
  if (typeof value === 'string') {
    if (value.includes('${')) out.push(value);
  } else if (Array.isArray(value)) {
    for (const v of value) expressions(v, out);
  } else if (isObj(value)) {
    for (const v of Object.values(value)) expressions(v, out);
  }
  return out;
}

const tools = new Map<ToolName, InstalledTool>();
const unavailable = new Map<ToolName, string>();

async function need(name: ToolName): Promise<void> {
  try {
    const tool = await ensureTool(name);
    tools.set(name, tool);
    log(
      `${name} ${tool.version}${tool.installed ? ' (installed now)' : ''}: ${relative(REPO_ROOT, tool.path)}`,
    );
  } catch (err) {
    if (IN_CI || !(err instanceof ToolUnavailableError)) throw err;
    unavailable.set(name, err.message);
    log(`${name} unavailable, its checks are skipped outside CI: ${err.message}`);
  }
}

/** The tool, or a skip outside CI when it could not be installed (under CI=true the install already threw). */
function tool(name: ToolName, ctx: { skip: (note?: string) => void }): InstalledTool {
  const t = tools.get(name);
  if (!t) {
    ctx.skip(unavailable.get(name) ?? `${name} not installed`);
    throw new Error('unreachable');
  }
  return t;
}

let files: TfFile[] = [];
const formatted = new Map<string, { ok: true; output: string } | { ok: false; error: string }>();

function moduleDirs(): string[] {
  const dirs = (base: string) =>
    existsSync(join(TF_ROOT, base))
      ? readdirSync(join(TF_ROOT, base), { withFileTypes: true })
          .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
          .map((e) => join(TF_ROOT, base, e.name))
      : [];
  return [...dirs('modules'), ...dirs('envs')];
}

const isEnv = (dir: string) => relative(TF_ROOT, dir).startsWith('envs/');

function filesIn(dir: string): TfFile[] {
  return files.filter((f) => f.dir === dir);
}

/** Top-level blocks of one kind (`variable`, `output`, `resource`...) across a directory's files. */
function blocksOf(dir: string, kind: string): { file: TfFile; body: Json }[] {
  return filesIn(dir).flatMap((file) =>
    file.json && file.json[kind] !== undefined ? [{ file, body: file.json[kind] }] : [],
  );
}

/** `resource`/`data` bodies as [type, name, body, file]. */
function resources(dir: string, kind: 'resource' | 'data'): [string, string, Obj, TfFile][] {
  return blocksOf(dir, kind).flatMap(({ file, body }) =>
    entries(body).flatMap(([type, byName]) =>
      entries(byName).flatMap(([name, bodies]) =>
        blocks(bodies).map((b): [string, string, Obj, TfFile] => [type, name, b, file]),
      ),
    ),
  );
}

function named(dir: string, kind: string): Map<string, { body: Obj; file: TfFile }> {
  const out = new Map<string, { body: Obj; file: TfFile }>();
  for (const { file, body } of blocksOf(dir, kind)) {
    for (const [name, bodies] of entries(body)) {
      for (const b of blocks(bodies)) out.set(name, { body: b, file });
    }
  }
  return out;
}

beforeAll(async () => {
  const names = [
    'hclfmt',
    'hcl2json',
    'checkov',
    'schema-aws',
    'schema-helm',
    'schema-kubernetes',
    'schema-random',
  ] as const;
  // Every install runs to its end (and releases its lock) before a failure under CI=true fails the file.
  const results = await Promise.allSettled(names.map(need));
  const failed = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
  if (failed.length > 0) throw failed[0];

  const paths = findTfFiles(TF_ROOT).sort();
  const hclfmt = tools.get('hclfmt');
  const hcl2json = tools.get('hcl2json');
  files = await Promise.all(
    paths.map(async (path): Promise<TfFile> => {
      const text = readFileSync(path, 'utf8');
      if (hclfmt) {
        // -check parses and reports diagnostics (exit 1); stdout is the canonical formatting of the file.
        await exec(hclfmt.path, ['-check', path], { maxBuffer: 16 * 1024 * 1024 })
          .then(({ stdout }) => formatted.set(path, { ok: true, output: stdout }))
          .catch((err: { stderr?: string; message: string }) =>
            formatted.set(path, { ok: false, error: (err.stderr || err.message).trim() }),
          );
      }
      let json: Obj | null = null;
      if (hcl2json) {
        json = await exec(hcl2json.path, [path], { maxBuffer: 16 * 1024 * 1024 })
          .then(({ stdout }) => JSON.parse(stdout) as Obj)
          .catch(() => null);
      }
      return { path, rel: relative(REPO_ROOT, path), dir: dirname(path), text, json };
    }),
  );
  log(`${files.length} .tf files in ${moduleDirs().length} module directories`);
});

describe('terraform/', () => {
  it('has modules and one root per environment', () => {
    const dirs = moduleDirs().map((d) => relative(TF_ROOT, d));
    expect(dirs).toEqual(expect.arrayContaining(['envs/dev', 'envs/staging', 'envs/prod']));
    expect(dirs.filter((d) => d.startsWith('modules/')).length).toBeGreaterThan(0);
    const stray = files.map((f) => relative(TF_ROOT, f.dir)).filter((d) => !dirs.includes(d));
    fail('.tf files outside terraform/modules/<name> and terraform/envs/<env>', [...new Set(stray)]);
  });

  it('every .tf file parses (hclfmt)', (ctx) => {
    const t = tool('hclfmt', ctx);
    const problems = files.flatMap((f) => {
      const r = formatted.get(f.path);
      return r && !r.ok ? [`${f.rel}:\n${r.error}`] : [];
    });
    log(`hclfmt ${t.version} -check: ${files.length - problems.length}/${files.length} files parse`);
    fail('HCL syntax errors', problems);
    fail(
      'files hcl2json could not read',
      files.filter((f) => !f.json).map((f) => f.rel),
    );
  });

  it('formatting is canonical (hclfmt, as terraform fmt)', (ctx) => {
    tool('hclfmt', ctx);
    const problems = files.flatMap((f) => {
      const r = formatted.get(f.path);
      if (!r?.ok || r.output === f.text) return [];
      const want = r.output.split('\n');
      const line = f.text.split('\n').findIndex((l, i) => l !== want[i]);
      return [
        `${f.rel}:${line + 1} differs (expected ${JSON.stringify(want[line] ?? '')}); fix: .tools/bin/hclfmt -w ${f.rel}`,
      ];
    });
    log(`formatting: ${files.length - problems.length}/${files.length} canonical`);
    fail('files not canonically formatted', problems);
  });

  it('every module has main.tf, variables.tf, outputs.tf and versions.tf', () => {
    const problems = moduleDirs().flatMap((dir) =>
      REQUIRED_FILES.filter((f) => !existsSync(join(dir, f))).map(
        (f) => `${relative(REPO_ROOT, dir)}: no ${f}`,
      ),
    );
    fail('module layout', problems);
  });

  it('every variable has a description, a type and a default', (ctx) => {
    tool('hcl2json', ctx);
    let count = 0;
    const problems = moduleDirs().flatMap((dir) =>
      [...named(dir, 'variable')].flatMap(([name, { body, file }]) => {
        count++;
        const missing = ['description', 'type', 'default'].filter((k) => !(k in body));
        const blank =
          typeof body.description === 'string' && body.description.trim() === ''
            ? ['description (empty)']
            : [];
        return [...missing, ...blank].map((k) => `${file.rel}: variable "${name}" has no ${k}`);
      }),
    );
    log(`${count} variables checked`);
    fail('variables', problems);
  });

  it('every output has a description and reads resources and modules through try()', (ctx) => {
    tool('hcl2json', ctx);
    const problems = moduleDirs().flatMap((dir) =>
      [...named(dir, 'output')].flatMap(([name, { body, file }]) => {
        const out: string[] = [];
        if (typeof body.description !== 'string' || !body.description.trim())
          out.push(`${file.rel}: output "${name}" has no description`);
        const value = expressions(body.value).join(' ');
        const readsState = /(^|[^.\w])(module\.|(aws|helm|kubernetes|kubectl|random)_\w+\.)/.test(value);
        if (readsState && !value.includes('try('))
          out.push(`${file.rel}: output "${name}" reads a resource or module without try()`);
        return out;
      }),
    );
    fail('outputs', problems);
  });

  it('each module names its main resource `this`', (ctx) => {
    tool('hcl2json', ctx);
    // Stage one's composition has no single main resource, as an environment root has none.
    const compositions = new Set(['modules/platform']);
    const problems = moduleDirs()
      .filter((dir) => !isEnv(dir) && !compositions.has(relative(TF_ROOT, dir)))
      .filter((dir) => {
        const names = [
          ...resources(dir, 'resource').map(([, name]) => name),
          ...[...named(dir, 'module').keys()],
        ];
        return !names.includes('this');
      })
      .map((dir) => `${relative(REPO_ROOT, dir)}: no resource or module named "this"`);
    fail('main resource naming', problems);
  });

  it('versions: modules declare provider minimums, roots pin providers and Terraform with ~>', (ctx) => {
    tool('hcl2json', ctx);
    const problems: string[] = [];
    for (const dir of moduleDirs()) {
      const rel = relative(REPO_ROOT, dir);
      const terraform = blocksOf(dir, 'terraform').flatMap(({ body }) => blocks(body));
      const required = terraform.flatMap((t) => blocks(t.required_providers));
      const version = terraform.map((t) => t.required_version).find((v) => typeof v === 'string');
      if (!version) problems.push(`${rel}: no required_version`);
      // Providers the directory uses must be declared with a source and a version.
      const declared = new Map(required.flatMap((r) => entries(r)));
      const used = new Set(
        [...resources(dir, 'resource'), ...resources(dir, 'data')].map(
          ([type]) => type.split('_')[0] ?? type,
        ),
      );
      // `terraform_remote_state` comes from the built-in provider, which is never declared.
      used.delete('terraform');
      for (const p of used)
        if (!declared.has(p))
          problems.push(`${rel}: uses provider "${p}" without declaring it in required_providers`);
      for (const [name, spec] of declared) {
        const v = isObj(spec) ? spec.version : undefined;
        if (!isObj(spec) || typeof spec.source !== 'string')
          problems.push(`${rel}: provider "${name}" has no source`);
        if (typeof v !== 'string') problems.push(`${rel}: provider "${name}" has no version constraint`);
        else if (isEnv(dir) && !v.startsWith('~>'))
          problems.push(`${rel}: provider "${name}" is "${v}", roots pin with "~>"`);
      }
      if (isEnv(dir) && typeof version === 'string' && !version.startsWith('~>')) {
        problems.push(`${rel}: required_version "${version}", roots pin with "~>"`);
      }
      for (const [name, { body }] of named(dir, 'module')) {
        const source = typeof body.source === 'string' ? body.source : '';
        if (source.startsWith('./') || source.startsWith('../')) {
          if (!existsSync(join(dir, source, 'main.tf')))
            problems.push(`${rel}: module "${name}" source ${source} does not exist`);
        } else if (typeof body.version !== 'string' || !body.version.startsWith('~>')) {
          problems.push(`${rel}: module "${name}" from ${source} must pin version with "~>"`);
        }
      }
    }
    fail('versions', problems);
  });

  it('references resolve: variables, locals, modules, module arguments and outputs', (ctx) => {
    tool('hcl2json', ctx);
    const problems: string[] = [];
    let refs = 0;
    for (const dir of moduleDirs()) {
      const rel = relative(REPO_ROOT, dir);
      const vars = named(dir, 'variable');
      const locals = new Set(
        blocksOf(dir, 'locals').flatMap(({ body }) => blocks(body).flatMap((b) => Object.keys(b))),
      );
      const modules = named(dir, 'module');
      const text = filesIn(dir)
        .flatMap((f) => expressions(f.json ?? {}))
        .join('\n');
      for (const m of text.matchAll(/(?<![\w.])var\.([A-Za-z_][\w-]*)/g)) {
        refs++;
        if (!vars.has(m[1] ?? '')) problems.push(`${rel}: var.${m[1]} is not declared`);
      }
      for (const m of text.matchAll(/(?<![\w.])local\.([A-Za-z_][\w-]*)/g)) {
        refs++;
        if (!locals.has(m[1] ?? '')) problems.push(`${rel}: local.${m[1]} is not declared`);
      }
      for (const m of text.matchAll(
        /(?<![\w.])module\.([A-Za-z_][\w-]*)(?:\[[^\]]*\])?(?:\.([A-Za-z_][\w-]*))?/g,
      )) {
        refs++;
        const [, name = '', output] = m;
        const call = modules.get(name);
        if (!call) {
          problems.push(`${rel}: module.${name} is not declared`);
          continue;
        }
        const source = typeof call.body.source === 'string' ? call.body.source : '';
        if (output && source.startsWith('.') && !named(join(dir, source), 'output').has(output)) {
          problems.push(`${rel}: module.${name}.${output}: ${source} has no output "${output}"`);
        }
      }
      for (const [name, { body }] of modules) {
        const source = typeof body.source === 'string' ? body.source : '';
        if (!source.startsWith('.')) continue;
        const callee = named(join(dir, source), 'variable');
        for (const arg of Object.keys(body)) {
          if (!MODULE_META_ARGUMENTS.has(arg) && !callee.has(arg)) {
            problems.push(`${rel}: module "${name}" passes "${arg}", which ${source} does not declare`);
          }
        }
      }
    }
    log(`${refs} references checked`);
    fail('unresolved references', problems);
  });

  it('every argument and block exists in the provider schema', (ctx) => {
    tool('hcl2json', ctx);
    const schemas = {
      aws: tool('schema-aws', ctx),
      helm: tool('schema-helm', ctx),
      kubernetes: tool('schema-kubernetes', ctx),
      random: tool('schema-random', ctx),
    };
    const problems: string[] = [];
    const unchecked = new Set<string>();
    let checked = 0;
    for (const dir of moduleDirs()) {
      for (const kind of ['resource', 'data'] as const) {
        for (const [type, name, body, file] of resources(dir, kind)) {
          const provider = type.split('_')[0] ?? '';
          const pkg = schemas[provider as keyof typeof schemas];
          if (!pkg) {
            unchecked.add(`${kind}.${type}`);
            continue;
          }
          const schema = loadSchema(pkg, provider, type, kind);
          const where = `${file.rel}: ${kind === 'data' ? 'data.' : ''}${type}.${name}`;
          if (!schema) {
            problems.push(`${where}: no ${kind} "${type}" in ${pkg.name} ${pkg.version}`);
            continue;
          }
          checked++;
          checkBody(body, schema, where, problems, true);
        }
      }
    }
    log(
      `${checked} resources and data sources checked against provider schemas; not checked (no schema): ${[...unchecked].join(', ') || 'none'}`,
    );
    fail('arguments unknown to the provider', problems);
  });

  it('environments: staging and prod keep the ADR topology; no secret values in the repo', (ctx) => {
    tool('hcl2json', ctx);
    const problems: string[] = [];
    const policy: Record<string, (v: Json | undefined) => boolean> = {
      db_multi_az: (v) => v === true,
      db_replica_count: (v) => typeof v === 'number' && v >= 2,
      redis_multi_az: (v) => v === true,
      redis_num_cache_clusters: (v) => typeof v === 'number' && v >= 3,
      msk_broker_count: (v) => typeof v === 'number' && v >= 3,
      deletion_protection: (v) => v === true,
    };
    for (const env of ['staging', 'prod']) {
      const platform = named(join(TF_ROOT, 'envs', env), 'module').get('platform')?.body;
      if (!platform) {
        problems.push(`envs/${env}: no module "platform"`);
        continue;
      }
      for (const [key, ok] of Object.entries(policy)) {
        if (!ok(platform[key])) problems.push(`envs/${env}: ${key} = ${JSON.stringify(platform[key])}`);
      }
    }
    const secretish = /^(password|auth_token|secret_string|master_password|token|client_secret)$/;
    const walk = (v: Json | undefined, path: string, file: TfFile) => {
      for (const [k, child] of entries(v)) {
        if (secretish.test(k) && typeof child === 'string' && !child.includes('${')) {
          problems.push(`${file.rel}: ${path}.${k} is a literal`);
        }
        for (const b of Array.isArray(child) ? child : [child]) walk(b, `${path}.${k}`, file);
      }
    };
    for (const f of files) walk(f.json ?? {}, '', f);
    const tfvars = readdirSync(TF_ROOT, { recursive: true, encoding: 'utf8' }).filter((p) =>
      /\.tfvars(\.json)?$/.test(p),
    );
    for (const p of tfvars)
      problems.push(`terraform/${p}: tfvars files may hold secrets; keep them out of the repo`);
    fail('environment policy', problems);
  });

  it('checkov finds no failed check, and every skip gives its reason', async (ctx) => {
    const checkov = tool('checkov', ctx);
    const args = ['-d', TF_ROOT, '--framework', 'terraform', '--skip-download', '--soft-fail', '-o', 'json'];
    log(`running ${relative(REPO_ROOT, checkov.path)} ${args.join(' ').replace(TF_ROOT, 'terraform')}`);
    const started = Date.now();
    const { stdout } = await exec(checkov.path, args, {
      maxBuffer: 256 * 1024 * 1024,
      cwd: REPO_ROOT,
      env: { ...process.env, LOG_LEVEL: 'ERROR' },
    });
    const parsed = JSON.parse(stdout) as Obj | Obj[];
    const reports = Array.isArray(parsed) ? parsed : [parsed];
    type Check = {
      check_id: string;
      check_name: string;
      resource: string;
      file_path: string;
      file_line_range?: number[];
      check_result?: { suppress_comment?: string };
    };
    const failed: Check[] = [];
    const skipped: Check[] = [];
    let passed = 0;
    let parsingErrors = 0;
    for (const r of reports) {
      const results = (r.results ?? {}) as unknown as {
        failed_checks?: Check[];
        skipped_checks?: Check[];
        passed_checks?: Check[];
        parsing_errors?: string[];
      };
      failed.push(...(results.failed_checks ?? []));
      skipped.push(...(results.skipped_checks ?? []));
      passed += results.passed_checks?.length ?? 0;
      parsingErrors += results.parsing_errors?.length ?? 0;
    }
    log(
      `checkov ${checkov.version}: ${passed} passed, ${failed.length} failed, ${skipped.length} skipped, ${parsingErrors} parsing errors (${((Date.now() - started) / 1000).toFixed(1)} s)`,
    );
    for (const s of skipped)
      log(`  skipped ${s.check_id} on ${s.resource}: ${s.check_result?.suppress_comment ?? ''}`);
    const at = (c: Check) => `terraform${c.file_path}:${c.file_line_range?.[0] ?? '?'}`;
    fail('checkov (fix the resource, or suppress in it with #checkov:skip=<ID>:<reason>)', [
      ...(parsingErrors > 0 ? [`${parsingErrors} file(s) checkov could not parse`] : []),
      ...failed.map((c) => `FAILED ${c.check_id} ${c.check_name}: ${c.resource} (${at(c)})`),
      ...skipped
        .filter((s) => (s.check_result?.suppress_comment ?? '').trim().length < 10)
        .map((s) => `SKIPPED WITHOUT A REASON ${s.check_id}: ${s.resource} (${at(s)})`),
    ]);
    expect(passed).toBeGreaterThan(0);
  });
});

////////////////////////////////////////////////////////////////////////////////
// Provider schemas from the CDK for Terraform bindings: each generated construct's `synthesizeAttributes()`
// lists the argument and block names of one resource, and `<struct>ToTerraform(struct)` functions those of
// each nested block.
////////////////////////////////////////////////////////////////////////////////

/** Argument name -> nested block schema, `null` for a plain argument, `'any'` for a free-form value. */
interface Schema {
  [name: string]: Schema | null | 'any';
}

const schemaCache = new Map<string, Schema | null>();

function loadSchema(
  pkg: InstalledTool,
  provider: string,
  type: string,
  kind: 'resource' | 'data',
): Schema | null {
  const key = `${pkg.name}:${kind}:${type}`;
  if (schemaCache.has(key)) return schemaCache.get(key) ?? null;
  const base = type.slice(provider.length + 1).replaceAll('_', '-');
  const dir = kind === 'data' ? `data-${provider}-${base}` : base;
  const file = join(pkg.path, 'lib', dir, 'index.js');
  let schema: Schema | null = null;
  if (existsSync(file)) {
    const src = readFileSync(file, 'utf8');
    if (src.includes(`.tfResourceType = "${type}"`)) schema = parseConstruct(src);
  }
  schemaCache.set(key, schema);
  return schema;
}

function parseConstruct(src: string): Schema {
  const functions = new Map<string, string>();
  for (const m of src.matchAll(/^function (\w+)ToTerraform\(struct\) \{\n([\s\S]*?)^\}/gm)) {
    functions.set(m[1] ?? '', m[2] ?? '');
  }
  const built = new Map<string, Schema>();
  const keysOf = (body: string, indent: number): Schema => {
    const schema: Schema = {};
    const ret = body.slice(body.lastIndexOf('return {'));
    for (const m of ret.matchAll(new RegExp(`^ {${indent}}([a-z_0-9]+): (.*)$`, 'gm'))) {
      const [, name = '', expr = ''] = m;
      const child = /(?<![.\w])(\w+)ToTerraform\b/.exec(expr)?.[1];
      if (child && functions.has(child)) schema[name] = structOf(child);
      else schema[name] = /cdktf\.anyToTerraform|hashMapper\(cdktf\.anyToTerraform/.test(expr) ? 'any' : null;
    }
    return schema;
  };
  const structOf = (fn: string): Schema => {
    const done = built.get(fn);
    if (done) return done;
    const schema: Schema = {};
    built.set(fn, schema);
    Object.assign(schema, keysOf(functions.get(fn) ?? '', 8));
    return schema;
  };
  const synth = /synthesizeAttributes\(\) \{\n([\s\S]*?)\n {4}\}/.exec(src)?.[1] ?? '';
  return keysOf(synth, 12);
}

function checkBody(body: Obj, schema: Schema, where: string, problems: string[], top: boolean): void {
  for (const [key, value] of Object.entries(body)) {
    if (top && META_ARGUMENTS.has(key)) continue;
    if (key === 'dynamic') {
      for (const [name, dyn] of entries(value)) {
        const inner = schema[name];
        if (inner === undefined) problems.push(`${where}: dynamic "${name}" is not a block of this resource`);
        for (const d of blocks(dyn)) {
          for (const content of blocks(d.content)) {
            if (inner && inner !== 'any') checkBody(content, inner, `${where}.${name}`, problems, false);
          }
        }
      }
      continue;
    }
    const inner = schema[key];
    if (inner === undefined) {
      problems.push(`${where}: unknown argument or block "${key}"`);
      continue;
    }
    if (!inner || inner === 'any') continue;
    // A nested block (a list of objects in hcl2json) or an object-typed argument: check its keys too.
    for (const b of Array.isArray(value) ? value.filter(isObj) : isObj(value) ? [value] : []) {
      checkBody(b, inner, `${where}.${key}`, problems, false);
    }
  }
}

////////////////////////////////////////////////////////////////////////////////
// Delivery: the names Terraform, the workflows and the manifests share, and the two apply stages. Each
// check returns its problems, so the same function runs on the repository and on a broken copy of it.
////////////////////////////////////////////////////////////////////////////////

const ENVS = ['dev', 'staging', 'prod'] as const;
// biome-ignore lint/suspicious/noExplicitAny: parsed YAML
type Yaml = any;

interface Delivery {
  deploy: Yaml;
  overlays: Record<string, Yaml>;
  services: string[];
}

function readDelivery(): Delivery {
  const read = (p: string) => readFileSync(join(REPO_ROOT, p), 'utf8');
  return {
    deploy: parseYaml(read('.github/workflows/deploy.yml')),
    overlays: Object.fromEntries(
      ENVS.map((e) => [e, parseYaml(read(`knative/overlays/${e}/kustomization.yaml`))]),
    ),
    // A Service that runs another function's image (label concert.dev/image) needs no repository of its own.
    services: [
      ...new Set(
        readdirSync(join(REPO_ROOT, 'knative/base/services'))
          .filter((f) => f.endsWith('.yaml'))
          .map((f) => {
            const service = parseYaml(read(`knative/base/services/${f}`));
            return String(service.metadata?.labels?.['concert.dev/image'] ?? f.replace(/\.yaml$/, ''));
          }),
      ),
    ].sort(),
  };
}

const envDir = (name: string) => join(TF_ROOT, 'envs', name);
/** An interpolation as hcl2json and GitHub write it: interp('var.x') is the text `${var.x}`. */
const interp = (expr: string) => `$${'{'}${expr}}`;
const gh = (expr: string) => `$${'{{'} ${expr} }}`;
const str = (v: Json | undefined) => (typeof v === 'string' ? v : '');
const strings = (v: Json | undefined) => (Array.isArray(v) ? v.filter((x) => typeof x === 'string') : []);

/** The `default` of a variable in a directory. */
function defaultOf(dir: string, name: string): Json | undefined {
  return named(dir, 'variable').get(name)?.body.default;
}

function imageLinks(d: Delivery): string[] {
  const problems: string[] = [];
  const global = envDir('global');
  const ecr = named(global, 'module').get('ecr')?.body;
  if (!ecr) return ['envs/global: no module "ecr"'];
  const prefix = str(ecr.name_prefix);
  const repos = new Set(strings(defaultOf(global, 'functions')).map((f) => `${prefix}/${f}`));
  if (str(ecr.repositories) !== interp('var.functions'))
    problems.push('envs/global: ecr.repositories is not var.functions');
  const push = (d.deploy.jobs.build.steps as Yaml[]).find((s) =>
    s.uses?.startsWith('docker/build-push-action'),
  );
  const tags = String(push?.with?.tags ?? '')
    .trim()
    .split(/\s*[\n,]\s*/);
  for (const tag of tags) {
    const repo = /^\$\{\{ steps\.ecr\.outputs\.registry \}\}\/(.+)\/\$\{\{ matrix\.function \}\}:(.+)$/.exec(
      tag,
    );
    if (!repo) {
      problems.push(`workflow pushes ${tag}, not <registry>/<prefix>/<function>:<tag>`);
      continue;
    }
    if (repo[1] !== prefix)
      problems.push(`workflow pushes to ${repo[1]}/<fn>, Terraform creates ${prefix}/<fn>`);
    if (repo[2] !== gh('github.sha')) problems.push(`workflow tag ${repo[2]} is not the commit SHA`);
  }
  // The build matrix is the deployable set: each one needs its repository.
  for (const fn of d.services)
    if (!repos.has(`${prefix}/${fn}`)) problems.push(`Service ${fn} has no ECR repository ${prefix}/${fn}`);
  for (const env of ENVS) {
    for (const image of d.overlays[env].images ?? []) {
      const repo = /\.amazonaws\.com\/(.+)$/.exec(String(image.newName))?.[1] ?? String(image.newName);
      if (!repos.has(repo)) problems.push(`overlay ${env} pulls ${repo}, which Terraform does not create`);
    }
  }
  return problems;
}

function roleLinks(d: Delivery): string[] {
  const problems: string[] = [];
  const jobs = Object.entries<Yaml>(d.deploy.jobs);
  const roleVar = (job: Yaml) =>
    (job.steps as Yaml[])
      .map((s) => String(s.with?.['role-to-assume'] ?? ''))
      .map((r) => /vars\.(\w+)/.exec(r)?.[1])
      .find(Boolean);
  // The ECR role trusts main: the workflow must build only on main.
  const trust = JSON.stringify(
    resources(envDir('global'), 'data').find(([, n]) => n === 'ecr_push_assume')?.[2] ?? {},
  );
  if (!trust.includes('ref:refs/heads/main')) problems.push('envs/global: ECR push role does not trust main');
  if (JSON.stringify(d.deploy.on.push.branches) !== '["main"]')
    problems.push('deploy runs on more than main');
  if (roleVar(d.deploy.jobs.build) !== 'AWS_ECR_ROLE_ARN')
    problems.push('build job does not use AWS_ECR_ROLE_ARN');
  for (const env of ENVS) {
    const platform = named(envDir(env), 'module').get('platform')?.body ?? {};
    const trusted = new Set(strings(platform.github_environments));
    const wanted = `AWS_DEPLOY_ROLE_ARN_${env.toUpperCase()}`;
    const users = jobs.filter(([, job]) => roleVar(job) === wanted);
    if (users.length === 0) problems.push(`no job deploys with ${wanted}`);
    for (const [name, job] of users) {
      if (!trusted.has(job.environment))
        problems.push(
          `job ${name} (environment ${job.environment}) uses ${wanted}, whose role trusts ${[...trusted].join(', ') || 'nothing'}`,
        );
      const runner = `codebuild-${str(platform.name)}-deploy-`;
      if (!String(job['runs-on']).startsWith(runner))
        problems.push(`job ${name} runs on ${job['runs-on']}, not the ${env} VPC runner ${runner}...`);
    }
    // The namespace the overlay deploys into is the one whose service accounts and deploy role exist.
    const ns =
      str(platform.functions_namespace) ||
      str(defaultOf(join(TF_ROOT, 'modules/platform'), 'functions_namespace'));
    if (d.overlays[env].namespace !== ns)
      problems.push(`overlay ${env} deploys to ${d.overlays[env].namespace}, Terraform's namespace is ${ns}`);
  }
  return problems;
}

const K8S_TYPES = /^(helm|kubernetes|kubectl)_/;

/** Module directories a root reaches, through local module sources. */
function reach(dir: string, seen = new Set<string>()): Set<string> {
  seen.add(dir);
  for (const [, { body }] of named(dir, 'module')) {
    const source = str(body.source);
    if (source.startsWith('.')) {
      const next = join(dir, source);
      if (!seen.has(next)) reach(next, seen);
    }
  }
  return seen;
}

function stageLinks(): string[] {
  const problems: string[] = [];
  for (const env of ENVS) {
    const infra = envDir(env);
    const cluster = envDir(`${env}-cluster`);
    if (!existsSync(cluster)) {
      problems.push(`no stage two root envs/${env}-cluster`);
      continue;
    }
    // Stage one never talks to Kubernetes: no such provider, no such resource in anything it calls.
    for (const dir of reach(infra)) {
      for (const [type, name] of resources(dir, 'resource'))
        if (K8S_TYPES.test(type))
          problems.push(`${relative(TF_ROOT, dir)} (stage one of ${env}): ${type}.${name}`);
      for (const { body } of blocksOf(dir, 'provider'))
        for (const p of Object.keys(isObj(body) ? body : {}))
          if (['kubernetes', 'helm', 'kubectl'].includes(p))
            problems.push(`envs/${env}: provider ${p} in stage one`);
    }
    // Stage two creates no cluster, and reads stage one's state by its backend key.
    for (const dir of reach(cluster))
      for (const [type] of resources(dir, 'resource'))
        if (type === 'aws_eks_cluster') problems.push(`envs/${env}-cluster creates a cluster`);
    const backend = blocksOf(infra, 'terraform')
      .flatMap(({ body }) => blocks(body))
      .flatMap((t) => blocks(t.backend))
      .flatMap((b) => blocks(b.s3))[0];
    const state = resources(cluster, 'data').find(([type]) => type === 'terraform_remote_state');
    const config = state ? (blocks(state[2].config)[0] ?? (state[2].config as Obj)) : undefined;
    if (!state) problems.push(`envs/${env}-cluster does not read stage one's remote state`);
    else if (str(config?.key) !== str(backend?.key))
      problems.push(`envs/${env}-cluster reads ${str(config?.key)}, stage one writes ${str(backend?.key)}`);
    const outputs = named(infra, 'output');
    const text = filesIn(cluster)
      .flatMap((f) => expressions(f.json ?? {}))
      .join('\n');
    for (const m of text.matchAll(/local\.infra\.(\w+)/g))
      if (!outputs.has(m[1] ?? ''))
        problems.push(`envs/${env}-cluster reads output ${m[1]}, which envs/${env} lacks`);
  }
  return problems;
}

/** NodePool and EC2NodeClass as Terraform renders them, with the variables they read filled in. */
function karpenterManifests(): { kind: string; body: Obj }[] {
  const dir = join(TF_ROOT, 'modules/cluster-addons');
  const locals = blocksOf(dir, 'locals').flatMap(({ body }) => blocks(body));
  const samples: Record<string, Json> = {
    karpenter_node_role_name: 'concert-prod-karpenter-node',
    node_subnet_ids: ['subnet-0a1b2c3d4e5f60718'],
    node_security_group_id: 'sg-0a1b2c3d4e5f60718',
  };
  const value = (name: string): Json => samples[name] ?? defaultOf(dir, name) ?? null;
  const fill = (v: Json): Json => {
    if (typeof v === 'string') {
      const forIds = /^\$\{\[for (\w+) in var\.(\w+) : \{ ?(\w+) = \1 ?\}\]\}$/.exec(v);
      if (forIds) {
        const list = value(forIds[2] ?? '');
        return (Array.isArray(list) ? list : []).map((x) => ({ [forIds[3] ?? 'id']: x }));
      }
      const whole = /^\$\{var\.(\w+)\}$/.exec(v);
      if (whole) return value(whole[1] ?? '');
      return v.replace(/\$\{var\.(\w+)\}/g, (_, n: string) => String(value(n)));
    }
    if (Array.isArray(v)) return v.map(fill);
    if (isObj(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fill(x)]));
    return v;
  };
  return locals.flatMap((l) =>
    Object.values(l)
      .filter(isObj)
      .filter(
        (o) =>
          typeof o.kind === 'string' &&
          typeof o.apiVersion === 'string' &&
          o.apiVersion.startsWith('karpenter'),
      )
      .map((o) => ({ kind: str(o.kind), body: fill(o) as Obj })),
  );
}

interface GatewayWiring {
  /** The gateway module's locals with its variables' defaults filled in. */
  proxy: Yaml;
  gatewayClass: Yaml;
  binding: Yaml;
  /** knative/gateway/gateway.yaml as generated. */
  gateway: Yaml;
  /** The ALB target group's port (modules/ingress). */
  targetPort: number;
  /** Where each TargetGroupBinding in terraform/ is declared. */
  bindingsIn: string[];
}

function readGatewayWiring(): GatewayWiring {
  const dir = join(TF_ROOT, 'modules/gateway');
  const locals = Object.assign({}, ...blocksOf(dir, 'locals').flatMap(({ body }) => blocks(body))) as Obj;
  const fill = (v: Json): Json => {
    if (typeof v === 'string') {
      const whole = /^\$\{(var|local)\.(\w+)\}$/.exec(v);
      if (whole)
        return whole[1] === 'var'
          ? (defaultOf(dir, whole[2] ?? '') ?? null)
          : fill(locals[whole[2] ?? ''] ?? null);
      return v;
    }
    if (Array.isArray(v)) return v.map(fill);
    if (isObj(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fill(x)]));
    return v;
  };
  const bindingsIn = files
    .filter((f) => /kind\s*=\s*"TargetGroupBinding"/.test(f.text))
    .map((f) => relative(TF_ROOT, f.dir));
  return {
    proxy: fill(locals.envoy_proxy ?? null),
    gatewayClass: fill(locals.gateway_class ?? null),
    binding: fill(locals.target_group_binding ?? null),
    gateway: parseYaml(readFileSync(join(REPO_ROOT, 'knative/gateway/gateway.yaml'), 'utf8')),
    targetPort: Number(defaultOf(join(TF_ROOT, 'modules/ingress'), 'target_port')),
    bindingsIn: [...new Set(bindingsIn)],
  };
}

/** ALB target group → TargetGroupBinding → the Envoy proxy Service of the generated Gateway, same port. */
function gatewayLinks(w: GatewayWiring): string[] {
  const problems: string[] = [];
  if (JSON.stringify(w.bindingsIn) !== '["modules/gateway"]')
    problems.push(
      `TargetGroupBindings declared in ${w.bindingsIn.join(', ') || 'no module'}, not only modules/gateway`,
    );
  const className = w.gateway?.spec?.gatewayClassName;
  if (w.gatewayClass?.metadata?.name !== className)
    problems.push(
      `Gateway concert-public uses class ${className}, Terraform creates ${w.gatewayClass?.metadata?.name}`,
    );
  if (w.gatewayClass?.spec?.controllerName !== 'gateway.envoyproxy.io/gatewayclass-controller')
    problems.push(`class ${className} is not Envoy Gateway's (${w.gatewayClass?.spec?.controllerName})`);
  const ref = w.gatewayClass?.spec?.parametersRef ?? {};
  if (
    ref.kind !== w.proxy?.kind ||
    ref.name !== w.proxy?.metadata?.name ||
    ref.namespace !== w.proxy?.metadata?.namespace
  )
    problems.push(
      `class ${className} points at EnvoyProxy ${ref.namespace}/${ref.name}, not the one Terraform creates`,
    );
  const service = w.proxy?.spec?.provider?.kubernetes?.envoyService?.name;
  const target = w.binding?.spec?.serviceRef ?? {};
  if (!service) problems.push('EnvoyProxy leaves the proxy Service name to Envoy Gateway (a generated hash)');
  else if (target.name !== service)
    problems.push(
      `TargetGroupBinding points at Service ${target.name}, the Gateway's proxy Service is ${service}`,
    );
  // Envoy Gateway creates the proxy Service in its own namespace (not the Gateway's).
  if (w.binding?.metadata?.namespace !== w.proxy?.metadata?.namespace)
    problems.push(
      `TargetGroupBinding in ${w.binding?.metadata?.namespace}, the proxy Service in ${w.proxy?.metadata?.namespace}`,
    );
  const ports: number[] = (w.gateway?.spec?.listeners ?? []).map((l: Yaml) => l.port);
  if (!ports.includes(target.port))
    problems.push(`TargetGroupBinding uses port ${target.port}, the Gateway listens on ${ports.join(', ')}`);
  // The pods listen on the listener port, moved above the privileged range as Envoy Gateway does.
  const podPort = target.port < 1024 ? target.port + 10000 : target.port;
  if (w.targetPort !== podPort)
    problems.push(`ALB target group port ${w.targetPort}, the proxy pods listen on ${podPort}`);
  return problems;
}

/**
 * Strict checks (unknown fields rejected) for the EnvoyProxy and GatewayClass Terraform applies: EnvoyProxy's
 * CRD from Envoy Gateway's Go module at the chart version Terraform pins, GatewayClass's from the Gateway API
 * module the router's other kinds come from.
 */
async function gatewayCrdChecks(): Promise<Record<string, (doc: Yaml) => string[]>> {
  const version = str(defaultOf(join(TF_ROOT, 'modules/gateway'), 'chart_version'));
  const envoyProxy: GoModuleCrd = {
    file: `gateway.envoyproxy.io_envoyproxies@${version}.yaml`,
    kinds: ['gateway.envoyproxy.io/v1alpha1/EnvoyProxy'],
    module: 'github.com/envoyproxy/gateway',
    version,
    path: 'charts/gateway-helm/charts/crds/crds/generated/gateway.envoyproxy.io_envoyproxies.yaml',
  };
  const gatewayClass = goModuleCrds.find((c) =>
    c.kinds.includes('gateway.networking.k8s.io/v1/GatewayClass'),
  )!;
  await ensureGoModuleCrds(crdCacheDir, [envoyProxy, gatewayClass]);
  const validator = createValidator({ extraCrdFiles: [join(crdCacheDir, envoyProxy.file)] });
  const checks: Record<string, (doc: Yaml) => string[]> = {};
  for (const key of [...envoyProxy.kinds, ...gatewayClass.kinds])
    checks[key] = (doc) => validator.validate(doc);
  return checks;
}

function gatewaySchemaProblems(checks: Record<string, (doc: Yaml) => string[]>, docs: Yaml[]): string[] {
  return docs.flatMap((doc) => {
    const key = `${doc.apiVersion}/${doc.kind}`;
    const check = checks[key];
    return check ? check(doc).map((p) => `${doc.kind}: ${p}`) : [`${key}: no schema`];
  });
}

/**
 * Every variable without a usable default that a secret's value reads in modules/secrets is set by the
 * platform module, and every platform variable that feeds one is set by each environment root.
 */
function secretValueLinks(): string[] {
  const problems: string[] = [];
  const secretsDir = join(TF_ROOT, 'modules/secrets');
  const read = new Set<string>();
  for (const [type, , body] of resources(secretsDir, 'resource'))
    if (type === 'aws_secretsmanager_secret_version')
      for (const e of expressions(body)) for (const m of e.matchAll(/var\.(\w+)/g)) read.add(m[1] ?? '');
  const platformDir = join(TF_ROOT, 'modules/platform');
  const call = named(platformDir, 'module').get('secrets')?.body ?? {};
  const fromPlatform = new Set<string>();
  // Only what has no usable default (empty or null) must come from outside; a named default is a choice.
  const empty = (n: string) =>
    [undefined, null, ''].includes(defaultOf(secretsDir, n) as string | null | undefined);
  for (const name of [...read].filter((n) => n !== 'kms_key_arn' && empty(n))) {
    const arg = call[name];
    if (arg === undefined) problems.push(`modules/platform does not set secrets.${name}`);
    const passed = /^\$\{var\.(\w+)\}$/.exec(typeof arg === 'string' ? arg : '')?.[1];
    if (passed) fromPlatform.add(passed);
  }
  for (const env of ENVS) {
    const platform = named(envDir(env), 'module').get('platform')?.body ?? {};
    for (const name of fromPlatform)
      if (platform[name] === undefined) problems.push(`envs/${env} does not set platform.${name}`);
  }
  return problems;
}

/** NodePool and EC2NodeClass against Karpenter's own CRDs (strict), at the version the chart installs. */
async function karpenterValidator(): Promise<Validator> {
  const crds = goModuleCrds.filter((c) => c.module === 'github.com/aws/karpenter-provider-aws');
  const chart = str(defaultOf(join(TF_ROOT, 'modules/cluster-addons'), 'karpenter_chart_version'));
  for (const crd of crds)
    if (crd.version !== `v${chart}`)
      throw new Error(`${crd.file} is from ${crd.version}, the chart is ${chart}`);
  await ensureGoModuleCrds(crdCacheDir, crds);
  return createValidator({ crdDirs: [crdCacheDir] });
}

function karpenterProblems(validator: Validator, manifests: { kind: string; body: Obj }[]): string[] {
  const problems = manifests.flatMap(({ kind, body }) =>
    validator.validate(body as Yaml).map((p) => `${kind}: ${p}`),
  );
  const kinds = manifests.map((m) => m.kind).sort();
  if (JSON.stringify(kinds) !== '["EC2NodeClass","NodePool"]')
    problems.push(`Karpenter manifests: ${kinds.join(', ')}`);
  return problems;
}

describe('delivery: names shared by Terraform, workflows and manifests; two apply stages', () => {
  it('the workflow pushes commit-SHA tags only to the repositories Terraform creates, which the overlays pull', (ctx) => {
    tool('hcl2json', ctx);
    const d = readDelivery();
    fail('image links', imageLinks(d));
    const renamed = structuredClone(d);
    const push = (renamed.deploy.jobs.build.steps as Yaml[]).find((s) =>
      s.uses?.startsWith('docker/build-push-action'),
    );
    push.with.tags = String(push.with.tags).replace('/concert/', '/concert-prod/');
    expect(imageLinks(renamed).join('\n')).toMatch(/Terraform creates concert\/<fn>/);
    push.with.tags = `${gh('steps.ecr.outputs.registry')}/concert/${gh('matrix.function')}:main`;
    expect(imageLinks(renamed).join('\n')).toMatch(/not the commit SHA/);
    expect(imageLinks({ ...d, services: [...d.services, 'dispatcher'] }).join('\n')).toMatch(
      /dispatcher has no ECR/,
    );
  });

  it('deploy jobs assume the role Terraform trusts for their GitHub environment, on the runner in its VPC, into its namespace', (ctx) => {
    tool('hcl2json', ctx);
    const d = readDelivery();
    fail('role links', roleLinks(d));
    const moved = structuredClone(d);
    moved.deploy.jobs.canary.environment = 'production';
    expect(roleLinks(moved).join('\n')).toMatch(/environment production/);
    const hosted = structuredClone(d);
    hosted.deploy.jobs.prod['runs-on'] = 'ubuntu-24.04';
    expect(roleLinks(hosted).join('\n')).toMatch(/not the prod VPC runner/);
    const ns = structuredClone(d);
    ns.overlays.staging.namespace = 'concert';
    expect(roleLinks(ns).join('\n')).toMatch(/overlay staging deploys to concert/);
  });

  it('stage one has no Kubernetes provider or resource; stage two reads its remote state and only its outputs', (ctx) => {
    tool('hcl2json', ctx);
    fail('stages', stageLinks());
  });

  it('Karpenter NodePool and EC2NodeClass validate strictly against Karpenter’s CRDs at the chart’s version', async (ctx) => {
    tool('hcl2json', ctx);
    const validator = await karpenterValidator().catch((err: Error) => {
      if (IN_CI) throw err;
      ctx.skip(`CRDs unavailable: ${err.message}`);
      throw err;
    });
    const manifests = karpenterManifests();
    fail('Karpenter schema', karpenterProblems(validator, manifests));
    const broken = structuredClone(manifests);
    const pool = broken.find((m) => m.kind === 'NodePool')?.body as Yaml;
    pool.spec.disruption.consolidationPolicy = 'Sometimes';
    pool.spec.template.spec.expireAfer = '720h';
    const problems = karpenterProblems(validator, broken).join('\n');
    expect(problems).toMatch(/consolidationPolicy/);
    expect(problems).toMatch(/unknown field "expireAfer"/);
  });

  it('the ALB target group reaches the Gateway: TargetGroupBinding → its Envoy proxy Service, same port', (ctx) => {
    tool('hcl2json', ctx);
    const w = readGatewayWiring();
    fail('gateway links', gatewayLinks(w));
    const broken = (change: (c: GatewayWiring) => void) => {
      const copy = structuredClone(w);
      change(copy);
      return gatewayLinks(copy).join('\n');
    };
    expect(broken((c) => (c.binding.spec.serviceRef.name = 'kourier'))).toMatch(/points at Service kourier/);
    expect(broken((c) => (c.binding.spec.serviceRef.port = 8080))).toMatch(/uses port 8080/);
    expect(broken((c) => (c.binding.metadata.namespace = 'kourier-system'))).toMatch(
      /TargetGroupBinding in kourier-system/,
    );
    expect(broken((c) => (c.gateway.spec.gatewayClassName = 'istio'))).toMatch(/uses class istio/);
    expect(broken((c) => delete c.proxy.spec.provider.kubernetes.envoyService.name)).toMatch(
      /generated hash/,
    );
    expect(broken((c) => (c.targetPort = 8080))).toMatch(/target group port 8080/);
    expect(broken((c) => c.bindingsIn.push('modules/knative'))).toMatch(/modules\/knative/);
  });

  it('EnvoyProxy and GatewayClass validate against Envoy Gateway’s CRD at the pinned chart and Gateway API’s', async (ctx) => {
    tool('hcl2json', ctx);
    const checks = await gatewayCrdChecks().catch((err: Error) => {
      if (IN_CI) throw err;
      ctx.skip(`CRDs unavailable: ${err.message}`);
      throw err;
    });
    const w = readGatewayWiring();
    fail('gateway schema', gatewaySchemaProblems(checks, [w.proxy, w.gatewayClass]));
    const broken = structuredClone(w.proxy);
    broken.spec.provider.kubernetes.envoyService.serviceName = 'typo';
    expect(gatewaySchemaProblems(checks, [broken]).join('\n')).toMatch(/serviceName/);
  });

  it('secret values: what modules/secrets writes is set by the platform module and by every root', (ctx) => {
    tool('hcl2json', ctx);
    fail('secret value links', secretValueLinks());
  });
});

////////////////////////////////////////////////////////////////////////////////
// Edge and logs: CloudFront reaches the ALB and caches only what the API marks public; Fluent Bit writes to
// the OpenSearch domain of stage one as the service account its role trusts.
////////////////////////////////////////////////////////////////////////////////

/** A module argument or output as written, without the `${...}` and `try(..., null)` around it. */
function bare(v: Json | undefined): string {
  let text = str(v);
  // Only a value that is one interpolation as a whole: `${a}/${b}` is a template and stays as written.
  if (text.startsWith('${') && text.indexOf('}') === text.length - 1) text = text.slice(2, -1);
  return text.replace(/^try\((.*), (null|\[\])\)$/s, '$1');
}

/**
 * Follows `module.<m>.<output>` (and a cluster root's `local.infra.<output>`, stage one's output) down to the
 * expression that finally produces the value: [directory, expression].
 */
function trace(dir: string, expr: string, env?: string): [string, string] {
  for (let hops = 0; hops < 10; hops++) {
    const infra = /^local\.infra\.(\w+)$/.exec(expr);
    if (infra && env) {
      dir = envDir(env);
      expr = bare(named(dir, 'output').get(infra[1] ?? '')?.body.value);
      continue;
    }
    const m = /^module\.(\w+)\.(\w+)$/.exec(expr);
    if (!m) break;
    const call = named(dir, 'module').get(m[1] ?? '');
    if (!call) break;
    dir = join(dir, str(call.body.source));
    expr = bare(named(dir, 'output').get(m[2] ?? '')?.body.value);
  }
  return [relative(TF_ROOT, dir), expr];
}

const resourceBody = (dir: string, type: string, name: string) =>
  resources(dir, 'resource').find(([t, n]) => t === type && n === name)?.[2];
const dataBody = (dir: string, type: string, name: string) =>
  resources(dir, 'data').find(([t, n]) => t === type && n === name)?.[2];

/** CloudFront path patterns: case-sensitive, `*` any run of characters, `?` one character. */
const patternMatches = (pattern: string, path: string) =>
  new RegExp(
    `^${pattern
      .split('')
      .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
      .join('')}$`,
  ).test(path);

function cdnLinks(): { problems: string[]; cached: Map<string, string[]> } {
  const problems: string[] = [];
  const cached = new Map<string, string[]>();
  const platformDir = join(TF_ROOT, 'modules/platform');
  const cdnDir = join(TF_ROOT, 'modules/cdn');
  const cdnCall = named(platformDir, 'module').get('cdn')?.body;
  if (!cdnCall) return { problems: ['modules/platform: no module "cdn"'], cached };
  // The origin is the ALB of the ingress module, the one whose listener forwards to the Knative gateway.
  const [originDir, origin] = trace(platformDir, bare(cdnCall.origin_domain_name));
  if (originDir !== 'modules/ingress' || origin !== 'aws_lb.this.dns_name')
    problems.push(`CloudFront origin is ${originDir}: ${origin}, not the ingress module's aws_lb.this`);
  const dist = resourceBody(cdnDir, 'aws_cloudfront_distribution', 'this');
  if (!dist) return { problems: [...problems, 'modules/cdn: no aws_cloudfront_distribution.this'], cached };
  const origins = blocks(dist.origin);
  if (origins.length !== 1 || bare(origins[0]?.domain_name) !== 'var.origin_domain_name')
    problems.push('modules/cdn: the distribution has another origin than var.origin_domain_name');
  if (bare(cdnCall.web_acl_arn) !== 'module.cdn_waf.web_acl_arn')
    problems.push('modules/platform: the distribution has no web ACL of its own');
  else if (str(named(platformDir, 'module').get('cdn_waf')?.body.scope) !== 'CLOUDFRONT')
    problems.push('modules/platform: the distribution web ACL is not of scope CLOUDFRONT');
  // The ALB drops its per-IP rules only because it answers nothing but CloudFront, whose ACL keeps them.
  const mods = named(platformDir, 'module');
  if (mods.get('waf')?.body.per_ip_rate_rules === false) {
    if (mods.get('ingress')?.body.cloudfront_only !== true)
      problems.push(
        'modules/platform: the ALB has no per-IP limits yet accepts clients that skip CloudFront',
      );
    if (mods.get('cdn_waf')?.body.per_ip_rate_rules === false)
      problems.push('modules/platform: no web ACL limits clients per IP');
  }
  // Everything not listed is passed: no cache, every viewer header, cookie and query string.
  const def = blocks(dist.default_cache_behavior)[0] ?? {};
  const disabled = dataBody(
    cdnDir,
    'aws_cloudfront_cache_policy',
    bare(def.cache_policy_id).split('.')[2] ?? '',
  );
  const allViewer = dataBody(
    cdnDir,
    'aws_cloudfront_origin_request_policy',
    bare(def.origin_request_policy_id).split('.')[2] ?? '',
  );
  if (str(disabled?.name) !== 'Managed-CachingDisabled')
    problems.push('modules/cdn: the default behaviour caches (cache policy is not Managed-CachingDisabled)');
  if (str(allViewer?.name) !== 'Managed-AllViewer')
    problems.push('modules/cdn: the default behaviour does not forward every viewer header and query');
  // The cached behaviours: one per pattern, on a policy that stores only what the origin's Cache-Control allows.
  const dynamicBehaviours = entries(dist.dynamic).filter(([k]) => k === 'ordered_cache_behavior');
  const fixed = blocks(dist.ordered_cache_behavior);
  if (fixed.length > 0) problems.push('modules/cdn: ordered_cache_behavior outside var.cached_path_patterns');
  for (const [, dyn] of dynamicBehaviours) {
    for (const d of blocks(dyn)) {
      if (bare(d.for_each) !== 'var.cached_path_patterns')
        problems.push(
          `modules/cdn: cached behaviours iterate ${str(d.for_each)}, not var.cached_path_patterns`,
        );
      const content = blocks(d.content)[0] ?? {};
      const policy = resourceBody(
        cdnDir,
        'aws_cloudfront_cache_policy',
        bare(content.cache_policy_id).split('.')[1] ?? '',
      );
      if (policy?.default_ttl !== 0 || policy.min_ttl !== 0)
        problems.push(
          'modules/cdn: the cached behaviours keep answers the origin did not mark (default/min TTL not 0)',
        );
      if (JSON.stringify(strings(content.cached_methods)) !== '["GET","HEAD"]')
        problems.push(
          `modules/cdn: cached methods ${JSON.stringify(content.cached_methods)}, not GET and HEAD`,
        );
      if (strings(content.allowed_methods).some((m) => !['GET', 'HEAD', 'OPTIONS'].includes(m)))
        problems.push('modules/cdn: a cached behaviour accepts writes');
    }
  }
  if (dynamicBehaviours.length === 0) problems.push('modules/cdn: no cached behaviour');
  if (bare(cdnCall.cached_path_patterns) !== 'var.cdn_cached_path_patterns')
    problems.push('modules/platform: cdn.cached_path_patterns is not var.cdn_cached_path_patterns');
  for (const env of ENVS) {
    const platform = named(envDir(env), 'module').get('platform')?.body ?? {};
    const patterns = strings(
      platform.cdn_cached_path_patterns ?? defaultOf(platformDir, 'cdn_cached_path_patterns'),
    );
    cached.set(env, patterns);
  }
  return { problems, cached };
}

function fluentBitLinks(): string[] {
  const problems: string[] = [];
  const addons = join(TF_ROOT, 'modules/cluster-addons');
  const locals = Object.assign({}, ...blocksOf(addons, 'locals').flatMap(({ body }) => blocks(body))) as Obj;
  const values = isObj(locals.fluent_bit_values) ? locals.fluent_bit_values : {};
  const config = isObj(values.config) ? values.config : {};
  const outputs = str(config.outputs);
  const host = /^\s*Host\s+\$\{var\.(\w+)\}\s*$/m.exec(outputs)?.[1];
  if (!/^\s*Name\s+opensearch\s*$/m.test(outputs)) problems.push('Fluent Bit has no opensearch output');
  if (!/^\s*AWS_Auth\s+On\s*$/m.test(outputs))
    problems.push('Fluent Bit does not sign its requests (AWS_Auth)');
  if (!/^\s*Merge_Log\s+On\s*$/m.test(str(config.filters)))
    problems.push('Fluent Bit does not merge the JSON log line into fields (Merge_Log On)');
  const release = resourceBody(addons, 'helm_release', 'fluent_bit');
  if (!release) problems.push('modules/cluster-addons: no helm_release.fluent_bit');
  else if (!strings(release.values).includes(interp('yamlencode(local.fluent_bit_values)')))
    problems.push('helm_release.fluent_bit does not install local.fluent_bit_values');
  const sa = isObj(values.serviceAccount) ? values.serviceAccount : {};
  const annotations = isObj(sa.annotations) ? sa.annotations : {};
  const roleVar = /^var\.(\w+)$/.exec(bare(annotations['eks.amazonaws.com/role-arn']))?.[1];
  const nsLocal = /^local\.(\w+)$/.exec(bare(release?.namespace))?.[1];
  const nameLocal = /^local\.(\w+)$/.exec(bare(sa.name))?.[1];
  // `namespace/name` from stage one, split in two.
  const saVar = /^split\("\/", var\.(\w+)\)\[0\]$/.exec(bare(locals[nsLocal ?? '']))?.[1];
  const saVar2 = /^split\("\/", var\.(\w+)\)\[1\]$/.exec(bare(locals[nameLocal ?? '']))?.[1];
  if (!saVar || saVar !== saVar2)
    problems.push('Fluent Bit namespace and service account name are not the two halves of one variable');
  for (const env of ENVS) {
    const call = named(envDir(`${env}-cluster`), 'module').get('cluster_addons')?.body ?? {};
    const follow = (variable: string | undefined) =>
      trace(envDir(`${env}-cluster`), bare(call[variable ?? '']), env).join(': ');
    const endpoint = follow(host);
    if (endpoint !== 'modules/logs: aws_opensearch_domain.this.endpoint')
      problems.push(
        `envs/${env}-cluster: Fluent Bit's Host is ${endpoint}, not the OpenSearch domain's endpoint`,
      );
    const role = follow(roleVar);
    const account = follow(saVar);
    if (role !== 'modules/irsa: aws_iam_role.this.arn')
      problems.push(`envs/${env}-cluster: Fluent Bit's role is ${role}, not an IRSA role`);
    if (account !== `modules/irsa: ${interp('var.namespace')}/${interp('var.service_account')}`)
      problems.push(
        `envs/${env}-cluster: Fluent Bit's service account is ${account}, not the IRSA role's subject`,
      );
  }
  // The role and the subject come from the same IRSA module call, whose trust names that subject.
  const logs = join(TF_ROOT, 'modules/logs');
  const roleFrom = bare(named(logs, 'output').get('fluent_bit_role_arn')?.body.value).split('.')[1];
  const subjectFrom = bare(named(logs, 'output').get('fluent_bit_service_account')?.body.value).split('.')[1];
  if (!roleFrom || roleFrom !== subjectFrom)
    problems.push(`modules/logs: role from module.${roleFrom}, service account from module.${subjectFrom}`);
  const trust = JSON.stringify(
    dataBody(join(TF_ROOT, 'modules/irsa'), 'aws_iam_policy_document', 'assume') ?? {},
  );
  if (!trust.includes(`system:serviceaccount:${interp('var.namespace')}:${interp('var.service_account')}`))
    problems.push(
      'modules/irsa: the trust does not name system:serviceaccount:<namespace>:<service_account>',
    );
  return problems;
}

/** Runs `check` with one file's parsed JSON changed, then puts it back. */
function withPatched<T>(rel: string, change: (json: Yaml) => void, check: () => T): T {
  const file = files.find((f) => f.rel === rel);
  if (!file?.json) throw new Error(`${rel} not parsed`);
  const original = file.json;
  file.json = structuredClone(original);
  try {
    change(file.json);
    return check();
  } finally {
    file.json = original;
  }
}

describe('edge and logs: CloudFront before the ALB, Fluent Bit to OpenSearch', () => {
  let server: TestServer;
  /** Every GET the API serves, with the Cache-Control it answers. */
  const answers = new Map<string, string>();

  beforeAll(async () => {
    server = await startTestServer();
    const doc = (await call(server, 'GET', '/openapi.json')).body as { paths: Record<string, object> };
    const token = String(
      (await call(server, 'POST', '/v1/dev/tokens', { body: { userId: '42' } })).body.token,
    );
    const paths = [
      ...Object.entries(doc.paths)
        .filter(([, item]) => 'get' in item)
        .map(([template]) => template.replaceAll(/\{[^}]+\}/g, '1')),
      '/openapi.json',
      '/docs',
      ...Object.keys(docsAssets).map((a) => `/docs/${a}`),
      '/healthz',
      '/metrics',
      '/',
    ];
    // The fan pages' script and style sheet, at the versioned URLs the pages link.
    const page = await (await server.app.request('/')).text();
    paths.push(...[...page.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1] ?? ''));
    expect(paths.filter((p) => p.startsWith('/assets/'))).toHaveLength(2);
    for (const path of paths) {
      // Signed in, as the catalogue is read; the stream path is left before it would stream.
      const res = await server.app.request(path, {
        headers: { authorization: `Bearer ${token}` },
        signal: AbortSignal.timeout(5000),
      });
      answers.set(path, res.headers.get('cache-control') ?? '');
      await res.body?.cancel();
    }
  });
  afterAll(() => server?.close());

  it('CloudFront forwards to the ingress ALB and caches exactly the paths the API marks Cache-Control: public', (ctx) => {
    tool('hcl2json', ctx);
    const { problems, cached } = cdnLinks();
    fail('CloudFront links', problems);
    const cacheable = [...answers].filter(([, cc]) => /(^|,)\s*public\b/.test(cc)).map(([p]) => p);
    expect(cacheable.length).toBeGreaterThan(0);
    for (const [env, patterns] of cached) {
      const wrong = [
        ...cacheable
          .filter((p) => !patterns.some((pat) => patternMatches(pat, p)))
          .map((p) => `${env}: ${p} is marked public but CloudFront passes it uncached`),
        ...[...answers.keys()]
          .filter((p) => !cacheable.includes(p) && patterns.some((pat) => patternMatches(pat, p)))
          .map((p) => `${env}: ${p} is not marked public but falls in a cached behaviour`),
        ...patterns
          .filter((pat) => !cacheable.some((p) => patternMatches(pat, p)))
          .map((pat) => `${env}: cached pattern ${pat} matches nothing the API marks public`),
      ];
      fail('cached behaviours against the API', wrong);
    }
    // Each link, removed once, is named.
    const platform = 'terraform/modules/platform/main.tf';
    expect(
      withPatched(
        platform,
        (j) => {
          j.module.cdn[0].origin_domain_name = interp('module.vpc.vpc_id');
        },
        () => cdnLinks().problems,
      ).join('\n'),
    ).toMatch(/not the ingress module's aws_lb\.this/);
    expect(
      withPatched(
        platform,
        (j) => {
          j.module.cdn_waf[0].scope = 'REGIONAL';
        },
        () => cdnLinks().problems,
      ).join('\n'),
    ).toMatch(/not of scope CLOUDFRONT/);
    expect(
      withPatched(
        platform,
        (j) => {
          j.module.ingress[0].cloudfront_only = false;
        },
        () => cdnLinks().problems,
      ).join('\n'),
    ).toMatch(/accepts clients that skip CloudFront/);
    expect(patternMatches('/v1/*', '/v1/concerts') && !patternMatches('/docs/*', '/docs')).toBe(true);
  });

  it("Fluent Bit writes to stage one's OpenSearch endpoint as the service account its IRSA role trusts", (ctx) => {
    tool('hcl2json', ctx);
    fail('Fluent Bit links', fluentBitLinks());
    const addons = 'terraform/modules/cluster-addons/main.tf';
    const locals = (j: Yaml) => (j.locals as Yaml[]).find((l) => l.fluent_bit_values);
    expect(
      withPatched(
        addons,
        (j) => {
          const v = locals(j).fluent_bit_values.config;
          v.outputs = v.outputs.replace(interp('var.logs_endpoint'), interp('var.region'));
        },
        fluentBitLinks,
      ).join('\n'),
    ).toMatch(/Host is .*not the OpenSearch domain's endpoint/);
    expect(
      withPatched(
        addons,
        (j) => {
          locals(j).fluent_bit_values.serviceAccount.name = 'fluent-bit';
        },
        fluentBitLinks,
      ).join('\n'),
    ).toMatch(/two halves of one variable/);
    expect(
      withPatched(
        'terraform/envs/prod-cluster/main.tf',
        (j) => {
          j.module.cluster_addons[0].fluent_bit_service_account = 'logging/fluent-bit';
        },
        fluentBitLinks,
      ).join('\n'),
    ).toMatch(/prod-cluster: Fluent Bit's service account is/);
    expect(
      withPatched(
        addons,
        (j) => {
          const v = locals(j).fluent_bit_values.config;
          v.filters = v.filters.replace('Merge_Log           On', 'Merge_Log           Off');
        },
        fluentBitLinks,
      ).join('\n'),
    ).toMatch(/Merge_Log On/);
  });
});
