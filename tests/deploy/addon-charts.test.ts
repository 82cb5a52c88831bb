import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify } from 'yaml';
import { gateway as gatewayManifest, httpRoute, referenceGrant } from '../../knative/router.ts';
import {
  createValidator,
  kindKey,
  type Manifest,
  parseManifests,
  type Validator,
} from '../../knative/validate.ts';
import {
  type ChartSource,
  ChartUnavailable,
  chartKeys,
  chartSourceFor,
  ensureChart,
  moduleFilesDir,
  unavailableReason,
  unknownValuePaths,
} from './addon-charts.ts';
import { ensureGoTool, goTools, run, toolLog, tryTool } from './knative-tools.ts';
import { ensureTool, IN_CI, REPO_ROOT } from './tools.ts';

/**
 * The upstream charts Terraform installs with `helm_release`, rendered offline with the values Terraform
 * passes: every key Terraform sets must exist in the chart (Helm ignores a misspelled one without a word),
 * `helm template` must render at the cluster's Kubernetes version, and the facts the other layers rely on
 * must hold in what it renders. Charts that no Go module serves at the pinned version are listed in
 * docs/deploy.md ("Upstream charts") with the reason.
 */

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
type Obj = { [key: string]: Json };
const isObj = (v: Json | undefined): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const list = (v: Json | undefined): Obj[] => (Array.isArray(v) ? v.filter(isObj) : isObj(v) ? [v] : []);
const str = (v: Json | undefined) => (typeof v === 'string' ? v : '');
/** An interpolation as hcl2json writes it: interp('var.x') is the text `${var.x}`. */
const interp = (expr: string) => `$${'{'}${expr}}`;

const TF = join(REPO_ROOT, 'terraform');
/** The charts that come from a Go module at the version Terraform pins; the rest are in docs/deploy.md. */
const RENDERED = ['karpenter', 'gateway-helm', 'external-secrets', 'knative-operator'] as const;
type Rendered = (typeof RENDERED)[number];

/**
 * What Terraform would know only at apply time, as realistic samples (the env roots take them from stage
 * one's outputs). A reference not listed here and not a variable with a default fails the test, so a new
 * value Terraform passes is not rendered as an empty string.
 */
const samples: Record<string, Json> = {
  'var.cluster_name': 'concert-prod',
  'var.karpenter_queue_name': 'Karpenter-concert-prod',
  'var.vpc_id': 'vpc-0a1b2c3d4e5f60718',
  'data.aws_region.current.region': 'ap-northeast-2',
  'module.lb_controller_irsa.role_arn':
    'arn:aws:iam::123456789012:role/concert-prod-aws-load-balancer-controller',
};

let hcl2json = '';
const parsed = new Map<string, Obj>();

function hcl(file: string): Obj {
  let json = parsed.get(file);
  if (!json) {
    json = JSON.parse(execFileSync(hcl2json, [file], { encoding: 'utf8' })) as Obj;
    parsed.set(file, json);
  }
  return json;
}

const tfFiles = (dir: string) =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.tf'))
    .map((f) => hcl(join(dir, f)));

function resourceBody(dir: string, type: string, name: string): Obj | undefined {
  for (const json of tfFiles(dir)) {
    const byType = isObj(json.resource) ? json.resource[type] : undefined;
    const body = isObj(byType) ? list(byType[name])[0] : undefined;
    if (body) return body;
  }
  return undefined;
}

/** `kind` blocks of a directory (`variable`, `module`, `locals`...), name → body. */
function blocks(dir: string, kind: string): Map<string, Obj> {
  const out = new Map<string, Obj>();
  for (const json of tfFiles(dir))
    for (const [name, bodies] of Object.entries(isObj(json[kind]) ? json[kind] : {}))
      for (const body of list(bodies)) out.set(name, body);
  return out;
}

function locals(dir: string): Obj {
  return Object.assign({}, ...tfFiles(dir).flatMap((j) => list(j.locals)));
}

const moduleDirs = () =>
  ['modules', 'envs'].flatMap((base) =>
    readdirSync(join(TF, base), { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => join(TF, base, e.name)),
  );

/** An HCL expression hcl2json left as text (`${...}`) parsed again, as the value of one attribute. */
function hclValue(expression: string): Json {
  const tmp = mkdtempSync(join(tmpdir(), 'hcl-'));
  try {
    writeFileSync(join(tmp, 'v.tf'), `v = ${expression}\n`);
    return (JSON.parse(execFileSync(hcl2json, [join(tmp, 'v.tf')], { encoding: 'utf8' })) as Obj).v ?? null;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * Every value a variable can take where it is used: the literal a caller passes, the caller's own variable
 * followed up, or the default when no caller sets it. An expression (stage one's outputs) stays as written.
 */
function effective(dir: string, name: string): Json[] {
  const callers = moduleDirs().flatMap((d) =>
    [...blocks(d, 'module').values()]
      .filter((m) => resolve(d, str(m.source)) === dir)
      .map((m) => [d, m] as const),
  );
  const fallback = blocks(dir, 'variable').get(name)?.default ?? null;
  if (callers.length === 0) return [fallback];
  const values = callers.flatMap(([d, m]) => {
    const arg = m[name];
    if (arg === undefined) return [fallback];
    const passed = /^\$\{var\.(\w+)\}$/.exec(str(arg))?.[1];
    return passed ? effective(d, passed) : [arg];
  });
  return [...new Map(values.map((v) => [JSON.stringify(v), v])).values()];
}

/** Fills `${var.x}` (sample, else default), `${local.x}` and the sampled references into a value. */
function fill(dir: string, value: Json): Json {
  const own = locals(dir);
  const one = (expr: string): Json => {
    const e = expr.replace(/^\((.*)\)$/, '$1');
    if (e in samples) return samples[e] ?? null;
    const v = /^var\.(\w+)$/.exec(e)?.[1];
    const fromDefault = v ? blocks(dir, 'variable').get(v)?.default : undefined;
    if (fromDefault !== undefined && fromDefault !== '') return fromDefault;
    const l = /^local\.(\w+)$/.exec(e)?.[1];
    if (l && own[l] !== undefined) return walk(own[l]);
    const ns = /^kubernetes_namespace_v1\.(\w+)\.metadata\[0\]\.name$/.exec(e)?.[1];
    const namespace = ns ? resourceBody(dir, 'kubernetes_namespace_v1', ns) : undefined;
    if (namespace) return walk(list(namespace.metadata)[0]?.name ?? null);
    throw new Error(`${relative(TF, dir)}: no sample or default for ${e}`);
  };
  const walk = (v: Json): Json => {
    if (typeof v === 'string') {
      const whole = /^\$\{([^{}]+)\}$/.exec(v);
      if (whole) return one(whole[1] ?? '');
      return v.replace(/\$\{([^{}]+)\}/g, (_, e: string) => String(one(e)));
    }
    if (Array.isArray(v)) return v.map(walk);
    if (isObj(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [String(walk(k)), walk(x)]));
    return v;
  };
  return walk(value);
}

/** The object inside `${yamlencode(...)}`, as JSON with its references still `${...}`. */
function yamlencoded(text: string, dir: string): Json {
  const inner = /^\$\{yamlencode\(([\s\S]*)\)\}$/.exec(text)?.[1];
  if (!inner) throw new Error(`${relative(TF, dir)}: values ${text.slice(0, 40)}… is not yamlencode(...)`);
  const local = /^local\.(\w+)$/.exec(inner.trim())?.[1];
  return local ? (locals(dir)[local] ?? null) : hclValue(inner);
}

interface Release {
  where: string;
  dir: string;
  chart: string;
  repository: string;
  namespace: string;
  versions: string[];
  /** The values as Terraform writes them (references as `${...}`), and filled with samples and defaults. */
  raw: Obj;
  values: Obj;
}

function readReleases(): Release[] {
  return moduleDirs().flatMap((dir) =>
    tfFiles(dir).flatMap((json) => {
      const releases =
        isObj(json.resource) && isObj(json.resource.helm_release) ? json.resource.helm_release : {};
      return Object.entries(releases).flatMap(([name, bodies]) =>
        list(bodies).map((body): Release => {
          const version = /^\$\{var\.(\w+)\}$/.exec(str(body.version))?.[1];
          const raw = Object.assign(
            {},
            ...(Array.isArray(body.values) ? body.values : []).map((v) => yamlencoded(str(v), dir)),
          ) as Obj;
          return {
            where: `${relative(TF, dir)} helm_release.${name}`,
            dir,
            chart: str(body.chart),
            repository: str(body.repository),
            versions: (version ? effective(dir, version) : [body.version ?? null]).map((v) => String(v)),
            raw,
            // Filled on use: a chart not rendered here may read what no sample covers (Fluent Bit's split()).
            get namespace() {
              return str(fill(dir, body.namespace ?? 'default'));
            },
            get values() {
              return fill(dir, raw) as Obj;
            },
          };
        }),
      );
    }),
  );
}

const helm = tryTool(() => ensureGoTool(goTools.helm));
let releases: Release[] = [];
let kubeVersion = '';
const charts = new Map<Rendered, { release: Release; source: ChartSource; dir: string }>();
const skipped = new Map<string, string>();
let tmp = '';

beforeAll(async () => {
  try {
    hcl2json = (await ensureTool('hcl2json')).path;
  } catch (err) {
    if (IN_CI) throw err;
    skipped.set('hcl2json', (err as Error).message);
    return;
  }
  tmp = mkdtempSync(join(tmpdir(), 'addon-charts-'));
  releases = readReleases();
  const versions = effective(join(TF, 'modules/eks'), 'kubernetes_version');
  if (versions.length !== 1) throw new Error(`EKS runs more than one version: ${JSON.stringify(versions)}`);
  kubeVersion = String(versions[0]);
  for (const chart of RENDERED) {
    const release = releases.find((r) => r.chart === chart);
    const source = release && chartSourceFor(release.chart, release.repository);
    if (!release || !source) continue;
    if (release.versions.length !== 1) throw new Error(`${release.where}: versions ${release.versions}`);
    try {
      charts.set(chart, { release, source, dir: await ensureChart(source, release.versions[0]!) });
    } catch (err) {
      if (IN_CI || !(err instanceof ChartUnavailable)) throw err;
      skipped.set(chart, err.message);
    }
  }
}, 300_000);

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
  console.log(`[addon-charts] tools and commands:\n  ${toolLog.join('\n  ')}`);
});

function chartOf(chart: Rendered, ctx: { skip: (note?: string) => void }) {
  const why =
    skipped.get('hcl2json') ?? skipped.get(chart) ?? ('unavailable' in helm ? helm.unavailable : null);
  if (why) ctx.skip(why);
  const found = charts.get(chart);
  if (!found) throw new Error(`no helm_release installs ${chart} from a known source`);
  return found;
}

const rendered = new Map<string, { docs: Manifest[]; error: string }>();

/**
 * `helm template` of one chart, the same call reused: Envoy Gateway's CRDs are large, so a render without
 * them (`crds: false`) serves checks that read only the templates.
 */
function template(
  chart: Rendered,
  values: Obj,
  options: { namespace?: string; crds?: boolean } = {},
): { docs: Manifest[]; error: string } {
  const { release, dir } = charts.get(chart)!;
  const namespace = options.namespace ?? release.namespace;
  const key = JSON.stringify([chart, values, namespace, options.crds ?? true]);
  const cached = rendered.get(key);
  if (cached) return cached;
  const file = join(tmp, `${chart}-values.json`);
  writeFileSync(file, JSON.stringify(values));
  const args = ['template', chart, dir, '--namespace', namespace, '--kube-version', kubeVersion, '-f', file];
  const result = run(
    'tool' in helm ? helm.tool : 'helm',
    options.crds === false ? args : [...args, '--include-crds'],
  );
  const out =
    result.status === 0
      ? { docs: parseManifests(result.stdout), error: '' }
      : { docs: [], error: result.stderr.trim() };
  rendered.set(key, out);
  return out;
}

const find = (docs: Manifest[], kind: string, name?: string) =>
  docs.filter((d) => d.kind === kind && (name === undefined || d.metadata?.name === name));

const validators = new Map<string, Validator>();

/**
 * A validator holding only the CRDs a chart renders for `kinds`, as the cluster will serve them. Compiling
 * Envoy Gateway's CRDs is slow, so a validator is reused for the same CRD text.
 */
function validatorFor(docs: Manifest[], kinds: string[]): Validator {
  const crds = find(docs, 'CustomResourceDefinition').filter((crd) => kinds.includes(crd.spec.names.kind));
  const key = JSON.stringify(crds);
  let validator = validators.get(key);
  if (!validator) {
    const dir = mkdtempSync(join(tmp, 'crds-'));
    const files = crds.map((crd, i) => {
      const file = join(dir, `${i}.yaml`);
      writeFileSync(file, stringify(crd));
      return file;
    });
    validator = createValidator({ crdDirs: [dir], extraCrdFiles: files });
    validators.set(key, validator);
  }
  return validator;
}

/** `group/version/Kind` keys the rendered CRDs serve. */
const served = (docs: Manifest[]) =>
  new Set(
    find(docs, 'CustomResourceDefinition').flatMap((crd) =>
      (crd.spec.versions as Manifest[])
        .filter((v) => v.served)
        .map((v) => `${crd.spec.group}/${v.name}/${crd.spec.names.kind}`),
    ),
  );

/** Releases neither rendered here nor explained in docs/deploy.md's "Upstream charts", or pinned twice. */
function coverage(all: Release[], docs: string): string[] {
  const section = /## Upstream charts\n([\s\S]*?)(\n## |$)/.exec(docs)?.[1] ?? '';
  const problems: string[] = [];
  for (const r of all) {
    const reason = unavailableReason(chartSourceFor(r.chart, r.repository), r.versions[0] ?? '');
    const rendered = (RENDERED as readonly string[]).includes(r.chart);
    if (reason === null && !rendered) problems.push(`${r.where}: ${r.chart} could be rendered but is not`);
    if (reason !== null && rendered) problems.push(`${r.where}: ${r.chart}: ${reason}`);
    // Its own bullet, naming the version it was checked by hand at: a bump without a new check fails.
    const bullet = section.split(/\n(?=- )/).find((b) => b.startsWith(`- **\`${r.chart}\`**`)) ?? '';
    if (reason !== null && !bullet)
      problems.push(`${r.where}: ${r.chart} is not rendered (${reason}) and docs/deploy.md does not say why`);
    else if (reason !== null && !bullet.includes(r.versions[0] ?? '?'))
      problems.push(
        `${r.where}: ${r.chart} ${r.versions[0]} was not checked by hand (docs/deploy.md names another version)`,
      );
    if (r.versions.length !== 1) problems.push(`${r.where}: more than one version ${r.versions.join(', ')}`);
  }
  return problems;
}

describe('upstream charts Terraform installs, rendered with the values it passes', () => {
  it('every helm_release is rendered here or named in docs/deploy.md with why it is not', (ctx) => {
    if (skipped.has('hcl2json')) ctx.skip(skipped.get('hcl2json'));
    const docs = readFileSync(join(REPO_ROOT, 'docs/deploy.md'), 'utf8');
    expect(releases.length).toBeGreaterThan(0);
    expect(coverage(releases, docs)).toEqual([]);
    expect(coverage(releases, docs.replaceAll('`fluent-bit`', 'Fluent Bit')).join('\n')).toMatch(
      /fluent-bit is not rendered .* docs\/deploy\.md does not say why/,
    );
    const bumped = releases.map((r) =>
      r.chart === 'aws-load-balancer-controller' ? { ...r, versions: ['1.17.0'] } : r,
    );
    expect(coverage(bumped, docs).join('\n')).toMatch(/1\.17\.0 was not checked by hand/);
    const unpinned = releases.map((r) =>
      r.chart === 'karpenter' ? { ...r, versions: ['1.8.2', '1.9.0'] } : r,
    );
    expect(coverage(unpinned, docs).join('\n')).toMatch(/more than one version 1\.8\.2, 1\.9\.0/);
  });

  it.for(RENDERED)(
    '%s: every value key Terraform sets exists in the chart; a typo is caught',
    (chart, ctx) => {
      const { release, dir, source } = chartOf(chart, ctx);
      const keys = chartKeys(dir);
      expect(unknownValuePaths(release.values, keys)).toEqual([]);
      expect(unknownValuePaths({ ...release.values, replicaCont: 2 }, keys)).toEqual(['replicaCont']);
      // Each top-level key Terraform sets, misspelled, is caught with every path below it.
      for (const key of Object.keys(release.values)) {
        const { [key]: moved, ...rest } = release.values;
        const misspelled = unknownValuePaths({ ...rest, [`${key}s`]: moved ?? null }, keys);
        expect(misspelled.length, key).toBeGreaterThan(0);
        expect(misspelled.every((p) => p.startsWith(`${key}s`))).toBe(true);
      }
      // A subchart left out of the extracted chart (no module serves it) must stay switched off.
      for (const name of source.absentDependencies ?? [])
        expect((release.values[name] as Obj | undefined)?.enabled ?? false, name).toBe(false);
    },
  );

  it.for(RENDERED)(
    `%s: helm template renders with Terraform's values at the cluster's version`,
    (chart, ctx) => {
      const { release } = chartOf(chart, ctx);
      const { docs, error } = template(chart, release.values);
      expect(error).toBe('');
      expect(find(docs, 'Deployment').length).toBeGreaterThan(0);
      // Namespaced objects land in the release's namespace (the chart's own namespace handling followed).
      for (const d of find(docs, 'Deployment')) expect(d.metadata.namespace).toBe(release.namespace);
    },
  );
});

////////////////////////////////////////////////////////////////////////////////
// The facts the other layers rely on. Each returns its problems so a broken copy can be checked too.
////////////////////////////////////////////////////////////////////////////////

/** Karpenter runs as the service account stage one's pod identity association names, with Terraform's settings. */
function karpenterFacts(docs: Manifest[], release: Release): string[] {
  const problems: string[] = [];
  const call = blocks(join(TF, 'modules/platform'), 'module').get('karpenter') ?? {};
  // terraform-aws-modules/eks//modules/karpenter: `service_account` defaults to "karpenter" (its variables.tf).
  const namespace = str(call.namespace) || 'kube-system';
  const name = str(call.service_account) || 'karpenter';
  const accounts = find(docs, 'ServiceAccount');
  if (!accounts.some((a) => a.metadata.name === name && a.metadata.namespace === namespace))
    problems.push(
      `the chart creates ServiceAccount ${accounts.map((a) => `${a.metadata.namespace}/${a.metadata.name}`).join(', ')}, the pod identity association names ${namespace}/${name}`,
    );
  const [deployment] = find(docs, 'Deployment');
  const pod = deployment?.spec?.template?.spec ?? {};
  if (pod.serviceAccountName !== name)
    problems.push(`the controller runs as ${pod.serviceAccountName}, not ${name}`);
  const env = new Map<string, string>(
    (pod.containers?.[0]?.env ?? []).map((e: Manifest) => [e.name, e.value]),
  );
  const settings = release.values.settings as Obj;
  if (env.get('CLUSTER_NAME') !== settings.clusterName)
    problems.push(
      `CLUSTER_NAME is ${env.get('CLUSTER_NAME')}, Terraform's cluster is ${settings.clusterName}`,
    );
  if (env.get('INTERRUPTION_QUEUE') !== settings.interruptionQueue)
    problems.push(
      `INTERRUPTION_QUEUE is ${env.get('INTERRUPTION_QUEUE')}, stage one's queue is ${settings.interruptionQueue}`,
    );
  if (deployment?.spec?.replicas !== release.values.replicas)
    problems.push(
      `${deployment?.spec?.replicas} controller replicas, Terraform asks ${release.values.replicas}`,
    );
  return problems;
}

const ENVS = ['dev', 'staging', 'prod'] as const;
/** A value that is one expression, without `${...}` and `try(..., null)` around it. */
const bare = (v: Json | undefined) =>
  str(v)
    .replace(/^\$\{([\s\S]*)\}$/, '$1')
    .replace(/^try\(([\s\S]*), null\)$/, '$1');

/** Follows a stage-two argument (`local.infra.<output>`) through stage one's outputs to what produces it. */
function stageOneSource(env: string, arg: Json | undefined): string {
  const expr = bare(arg);
  const dir = join(TF, 'envs', env);
  const infra = /^local\.infra\.(\w+)$/.exec(expr)?.[1];
  if (!infra) return `${expr} (not stage one's output)`;
  return follow(dir, bare(blocks(dir, 'output').get(infra)?.value));
}

/** `module.<m>.<output>` followed down local modules to the expression that produces it: `<dir>: <expr>`. */
function follow(dir: string, expr: string): string {
  for (let m = /^module\.(\w+)\.(\w+)$/.exec(expr); m; m = /^module\.(\w+)\.(\w+)$/.exec(expr)) {
    const call = blocks(dir, 'module').get(m[1] ?? '');
    if (!call || !str(call.source).startsWith('.')) break;
    dir = resolve(dir, str(call.source));
    expr = bare(blocks(dir, 'output').get(m[2] ?? '')?.value);
  }
  return `${relative(TF, dir)}: ${expr}`;
}

/**
 * The cluster name and interruption queue Karpenter's values read come, in every environment, from the
 * cluster and the Karpenter module of stage one whose pod identity association names its service account.
 */
function karpenterStageOneLinks(calls: Record<string, Obj>): string[] {
  const problems: string[] = [];
  const platform = blocks(join(TF, 'modules/platform'), 'module').get('karpenter') ?? {};
  const cluster = follow(join(TF, 'modules/platform'), bare(platform.cluster_name));
  for (const env of ENVS) {
    const call = calls[env] ?? {};
    const name = stageOneSource(env, call.cluster_name);
    const queue = stageOneSource(env, call.karpenter_queue_name);
    if (name !== cluster)
      problems.push(`${env}: Karpenter's clusterName is ${name}, its AWS side is for ${cluster}`);
    if (queue !== 'modules/platform: module.karpenter.queue_name')
      problems.push(
        `${env}: Karpenter's interruption queue is ${queue}, not stage one's module.karpenter queue`,
      );
  }
  return problems;
}

/** Envoy Gateway: controller and proxies where the binding looks, the class's controller name, the CRDs the router needs. */
function envoyGatewayFacts(docs: Manifest[]): string[] {
  const problems: string[] = [];
  const dir = join(TF, 'modules/gateway');
  const wiring = fill(dir, locals(dir)) as Obj;
  const proxy = wiring.envoy_proxy as Manifest;
  const gatewayClass = wiring.gateway_class as Manifest;
  const [deployment] = find(docs, 'Deployment', 'envoy-gateway');
  if (deployment?.metadata?.namespace !== proxy.metadata.namespace)
    problems.push(
      `Envoy Gateway runs in ${deployment?.metadata?.namespace}, the EnvoyProxy and binding are in ${proxy.metadata.namespace}`,
    );
  const [config] = find(docs, 'ConfigMap', 'envoy-gateway-config');
  const eg = parseYaml(String(config?.data?.['envoy-gateway.yaml'] ?? '')) ?? {};
  if (eg.gateway?.controllerName !== gatewayClass.spec.controllerName)
    problems.push(
      `the controller serves classes of ${eg.gateway?.controllerName}, GatewayClass ${gatewayClass.metadata.name} names ${gatewayClass.spec.controllerName}`,
    );
  // The TargetGroupBinding expects the proxy Service beside the controller, not in the Gateway's namespace.
  const deploy = eg.provider?.kubernetes?.deploy?.type;
  if (deploy !== undefined && deploy !== 'ControllerNamespace')
    problems.push(`proxies deployed by ${deploy}, not in the controller's namespace`);
  // The Gateway API CRDs the chart installs are what the cluster serves: the generated objects must pass them.
  const kinds = served(docs);
  const generated: Manifest[] = [
    httpRoute('concert'),
    gatewayManifest(str(gatewayClass.metadata.name)),
    referenceGrant(['concert']),
    gatewayClass,
  ];
  // The EnvoyProxy is checked against this same CRD file in terraform.test.ts; here only that it is served.
  if (!kinds.has(kindKey(proxy))) problems.push(`${kindKey(proxy)} is not served by the chart's CRDs`);
  const validator = validatorFor(
    docs,
    generated.map((d) => d.kind),
  );
  for (const doc of generated) {
    const key = kindKey(doc);
    if (!kinds.has(key)) problems.push(`${key} (${doc.metadata?.name}) is not served by the chart's CRDs`);
    else problems.push(...validator.validate(doc).map((p) => `${doc.kind}/${doc.metadata?.name}: ${p}`));
  }
  return problems;
}

/** External Secrets: installs its CRDs (nothing else in terraform/ does) and may mint the functions' tokens. */
function externalSecretsFacts(docs: Manifest[], release: Release): string[] {
  const problems: string[] = [];
  if (release.values.installCRDs !== true)
    problems.push(
      'installCRDs is not true, and no other part of terraform/ installs the ExternalSecret CRDs',
    );
  // Each function's SecretStore signs in with the function's service account (auth.jwt.serviceAccountRef):
  // the controller asks the API server for that account's token.
  const rules = find(docs, 'ClusterRole')
    .filter((r) => /-controller$/.test(r.metadata.name))
    .flatMap((r) => r.rules ?? []);
  const mints = rules.some(
    (r: Manifest) => r.resources?.includes('serviceaccounts/token') && r.verbs?.includes('create'),
  );
  if (!mints)
    problems.push('the controller may not create serviceaccounts/token, which the SecretStores need');
  const [controller] = find(docs, 'Deployment', 'external-secrets');
  if (!controller) problems.push('no Deployment external-secrets');
  return problems;
}

/** The KnativeServing and KnativeEventing Terraform applies, against the CRDs the operator's chart renders. */
function knativeOperatorFacts(docs: Manifest[], applied: Manifest[]): string[] {
  const validator = validatorFor(
    docs,
    applied.map((d) => d.kind),
  );
  const kinds = served(docs);
  return applied.flatMap((doc) => {
    const key = kindKey(doc);
    if (!kinds.has(key)) return [`${key} is not served by the operator's CRDs (${[...kinds].join(', ')})`];
    return validator.validate(doc).map((p) => `${doc.kind}: ${p}`);
  });
}

interface Account {
  namespace: string;
  name: string;
}
const account = (a: Account) => `${a.namespace}/${a.name}`;

/**
 * The Kafka source's data plane signs in to MSK with IRSA: the account the operator's own manifests run the
 * dispatcher as (at the Eventing minor it installs) must be the one Terraform annotates and the role trusts.
 */
function kafkaSourceAccountFacts(
  kodata: string,
  eventingVersion: string | undefined,
  annotated: Account,
  trusted: Account,
): string[] {
  const base = join(kodata, 'cmd/operator/kodata/eventing-source');
  const minors = readdirSync(base).filter((v) => /^\d+\.\d+$/.test(v));
  const byNumber = (v: string) => v.split('.').map(Number) as [number, number];
  minors.sort((a, b) => byNumber(a)[0] - byNumber(b)[0] || byNumber(a)[1] - byNumber(b)[1]);
  // Without spec.version the operator installs the newest Eventing it ships.
  const minor = eventingVersion ? /^v?(\d+\.\d+)/.exec(eventingVersion)?.[1] : minors.at(-1);
  if (!minor || !minors.includes(minor)) return [`the operator ships no Kafka source for Eventing ${minor}`];
  const docs = readdirSync(join(base, minor, 'kafka')).flatMap((f) =>
    parseManifests(readFileSync(join(base, minor, 'kafka', f), 'utf8')),
  );
  const dispatcher = docs.find(
    (d) => ['StatefulSet', 'Deployment'].includes(d.kind) && d.metadata.name === 'kafka-source-dispatcher',
  );
  if (!dispatcher) return [`Eventing ${minor}'s Kafka source has no kafka-source-dispatcher`];
  const runs = {
    namespace: dispatcher.metadata.namespace,
    name: dispatcher.spec.template.spec.serviceAccountName,
  };
  const problems: string[] = [];
  if (account(runs) !== account(annotated))
    problems.push(`the dispatcher runs as ${account(runs)}, Terraform annotates ${account(annotated)}`);
  if (account(runs) !== account(trusted))
    problems.push(`the dispatcher runs as ${account(runs)}, the IRSA role trusts ${account(trusted)}`);
  return problems;
}

/** The service account modules/knative annotates, and the subject stage one's IRSA role trusts. */
function kafkaSourceAccounts(): { annotated: Account[]; trusted: Account } {
  const dir = join(TF, 'modules/knative');
  const metadata =
    list(resourceBody(dir, 'kubernetes_service_account_v1', 'kafka_source')?.metadata)[0] ?? {};
  const variable = /^\$\{var\.(\w+)\}$/.exec(str(metadata.name))?.[1] ?? '';
  const namespace = str(fill(dir, metadata.namespace ?? null));
  const irsa = blocks(join(TF, 'modules/platform'), 'module').get('kafka_source_irsa') ?? {};
  return {
    annotated: effective(dir, variable).map((name) => ({ namespace, name: String(name) })),
    trusted: { namespace: str(irsa.namespace), name: str(irsa.service_account) },
  };
}

/**
 * The Load Balancer Controller's chart is not rendered here (docs/deploy.md, "Upstream charts"); what links
 * it to IAM is still checked: the account its values create, in the release's namespace, is the subject of
 * the IRSA role whose ARN annotates it.
 */
function loadBalancerControllerFacts(release: Release): string[] {
  const problems: string[] = [];
  const irsa = blocks(release.dir, 'module').get('lb_controller_irsa') ?? {};
  const sa = (release.raw.serviceAccount ?? {}) as Obj;
  const annotations = (sa.annotations ?? {}) as Obj;
  const subject = {
    namespace: str(fill(release.dir, irsa.namespace ?? null)),
    name: str(fill(release.dir, irsa.service_account ?? null)),
  };
  const created = { namespace: release.namespace, name: str(fill(release.dir, sa.name ?? null)) };
  if (sa.create !== true) problems.push('the chart does not create the service account the role annotates');
  if (account(created) !== account(subject))
    problems.push(`the chart creates ${account(created)}, the IRSA role trusts ${account(subject)}`);
  if (annotations['eks.amazonaws.com/role-arn'] !== interp('module.lb_controller_irsa.role_arn'))
    problems.push(
      `the account is annotated with ${annotations['eks.amazonaws.com/role-arn']}, not the IRSA role's ARN`,
    );
  return problems;
}

/** The custom resources modules/knative applies with kubectl_manifest, filled in. */
function knativeApplied(): Manifest[] {
  const dir = join(TF, 'modules/knative');
  const bodies = tfFiles(dir).flatMap((j) =>
    Object.values(
      isObj(j.resource) && isObj(j.resource.kubectl_manifest) ? j.resource.kubectl_manifest : {},
    ).flatMap(list),
  );
  return bodies.map((b) => fill(dir, yamlencoded(str(b.yaml_body), dir)) as Manifest);
}

describe('what the other layers rely on, in what the charts render', () => {
  it('Load Balancer Controller (not rendered): the account its values create is the IRSA role’s subject', (ctx) => {
    if (skipped.has('hcl2json')) ctx.skip(skipped.get('hcl2json'));
    const release = releases.find((r) => r.chart === 'aws-load-balancer-controller');
    if (!release) throw new Error('no helm_release installs aws-load-balancer-controller');
    expect(loadBalancerControllerFacts(release)).toEqual([]);
    const copy = (change: (raw: Obj) => void): Release => {
      const raw = structuredClone(release.raw);
      change(raw);
      // The spread reads the getters once: the copy keeps the release's namespace.
      return { ...release, raw };
    };
    const sa = (raw: Obj) => raw.serviceAccount as Obj;
    expect(loadBalancerControllerFacts(copy((r) => (sa(r).name = 'alb-controller'))).join('\n')).toMatch(
      /creates kube-system\/alb-controller, the IRSA role trusts kube-system\/aws-load-balancer-controller/,
    );
    expect(loadBalancerControllerFacts(copy((r) => (sa(r).create = false))).join('\n')).toMatch(
      /does not create/,
    );
    expect(
      loadBalancerControllerFacts(
        copy((r) => ((sa(r).annotations as Obj)['eks.amazonaws.com/role-arn'] = '')),
      ).join('\n'),
    ).toMatch(/not the IRSA role's ARN/);
  });

  it('Karpenter: the service account of the pod identity association, the cluster and the interruption queue', (ctx) => {
    const { release } = chartOf('karpenter', ctx);
    const { docs } = template('karpenter', release.values);
    expect(karpenterFacts(docs, release)).toEqual([]);
    const renamed = template('karpenter', {
      ...release.values,
      serviceAccount: { name: 'karpenter-controller' },
    });
    expect(karpenterFacts(renamed.docs, release).join('\n')).toMatch(
      /pod identity association names kube-system\/karpenter/,
    );
    expect(
      karpenterFacts(template('karpenter', release.values, { namespace: 'karpenter' }).docs, release).join(
        '\n',
      ),
    ).toMatch(/ServiceAccount karpenter\/karpenter/);
    const calls = Object.fromEntries(
      ENVS.map((env) => [
        env,
        blocks(join(TF, 'envs', `${env}-cluster`), 'module').get('cluster_addons') ?? {},
      ]),
    );
    expect(karpenterStageOneLinks(calls)).toEqual([]);
    const swapped = structuredClone(calls);
    swapped.staging!.karpenter_queue_name = interp('local.infra.kafka_bootstrap_brokers');
    swapped.prod!.cluster_name = interp('var.region');
    const links = karpenterStageOneLinks(swapped).join('\n');
    expect(links).toMatch(/staging: Karpenter's interruption queue is modules\/msk/);
    expect(links).toMatch(/prod: Karpenter's clusterName is var\.region \(not stage one's output\)/);
    const queue = template('karpenter', { ...release.values, settings: { clusterName: 'concert-prod' } });
    expect(karpenterFacts(queue.docs, release).join('\n')).toMatch(/INTERRUPTION_QUEUE is undefined/);
  });

  it('Envoy Gateway: the binding’s namespace, the class’s controller, and the router’s kinds in its Gateway API CRDs', (ctx) => {
    const { release } = chartOf('gateway-helm', ctx);
    const { docs } = template('gateway-helm', release.values);
    expect(envoyGatewayFacts(docs)).toEqual([]);
    const elsewhere = template('gateway-helm', release.values, { namespace: 'envoy-gateway', crds: false });
    expect(envoyGatewayFacts(elsewhere.docs).join('\n')).toMatch(/runs in envoy-gateway, the EnvoyProxy/);
    const renamed = template(
      'gateway-helm',
      {
        ...release.values,
        config: { envoyGateway: { gateway: { controllerName: 'example.com/gateway' } } },
      },
      { crds: false },
    );
    expect(envoyGatewayFacts(renamed.docs).join('\n')).toMatch(/serves classes of example\.com\/gateway/);
    const perGateway = template(
      'gateway-helm',
      {
        ...release.values,
        config: {
          envoyGateway: {
            provider: { type: 'Kubernetes', kubernetes: { deploy: { type: 'GatewayNamespace' } } },
          },
        },
      },
      { crds: false },
    );
    expect(envoyGatewayFacts(perGateway.docs).join('\n')).toMatch(/deployed by GatewayNamespace/);
    const noRoutes = docs.filter(
      (d) => !(d.kind === 'CustomResourceDefinition' && d.spec.names.kind === 'HTTPRoute'),
    );
    expect(envoyGatewayFacts(noRoutes).join('\n')).toMatch(/HTTPRoute \(concert-api\) is not served/);
  });

  it('External Secrets: installs its CRDs and may mint the service-account tokens the SecretStores sign in with', (ctx) => {
    const { release } = chartOf('external-secrets', ctx);
    const { docs } = template('external-secrets', release.values);
    expect(externalSecretsFacts(docs, release)).toEqual([]);
    const noCrds = { ...release, values: { ...release.values, installCRDs: false } };
    expect(externalSecretsFacts(template('external-secrets', noCrds.values).docs, noCrds).join('\n')).toMatch(
      /installCRDs is not true/,
    );
    const noTokens = template('external-secrets', { ...release.values, rbac: { create: false } });
    expect(externalSecretsFacts(noTokens.docs, release).join('\n')).toMatch(/serviceaccounts\/token/);
  });

  it('Knative Operator: its CRDs serve and accept the KnativeServing and KnativeEventing Terraform applies', (ctx) => {
    const { release } = chartOf('knative-operator', ctx);
    const { docs } = template('knative-operator', release.values);
    const applied = knativeApplied();
    expect(applied.map((d) => d.kind).sort()).toEqual(['KnativeEventing', 'KnativeServing']);
    expect(knativeOperatorFacts(docs, applied)).toEqual([]);
    const broken = structuredClone(applied);
    broken[0]!.spec.highAvailability = { replicas: 2 };
    broken[1]!.apiVersion = 'operator.knative.dev/v1alpha9';
    const problems = knativeOperatorFacts(docs, broken).join('\n');
    expect(problems).toMatch(/unknown field "highAvailability"/);
    expect(problems).toMatch(/v1alpha9\/.* is not served/);
  });

  it('Knative Operator: its Kafka source dispatcher runs as the account Terraform annotates and the IRSA role trusts', (ctx) => {
    const { dir } = chartOf('knative-operator', ctx);
    const eventing = knativeApplied().find((d) => d.kind === 'KnativeEventing');
    const version: string | undefined = eventing?.spec?.version;
    const { annotated, trusted } = kafkaSourceAccounts();
    expect(annotated).toHaveLength(1);
    expect(kafkaSourceAccountFacts(moduleFilesDir(dir), version, annotated[0]!, trusted)).toEqual([]);
    const renamed = { ...annotated[0]!, name: 'kafka-source' };
    expect(kafkaSourceAccountFacts(moduleFilesDir(dir), version, renamed, trusted).join('\n')).toMatch(
      /Terraform annotates knative-eventing\/kafka-source/,
    );
    expect(
      kafkaSourceAccountFacts(moduleFilesDir(dir), version, annotated[0]!, {
        ...trusted,
        namespace: 'knative-sources',
      }).join('\n'),
    ).toMatch(/the IRSA role trusts knative-sources\//);
    expect(kafkaSourceAccountFacts(moduleFilesDir(dir), 'v1.9.0', annotated[0]!, trusted).join('\n')).toMatch(
      /no Kafka source for Eventing 1\.9/,
    );
  });
});
