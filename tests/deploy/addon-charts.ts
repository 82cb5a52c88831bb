import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml, stringify } from 'yaml';
import { toolsDir } from './knative-tools.ts';

/**
 * The upstream Helm charts Terraform installs, taken from the Go module proxy (the chart repositories are
 * not reachable here; the proxy serves a module's zip at a release tag, and these charts live inside their
 * project's Go module). Each chart is extracted once into `.tools/charts/<chart>-<version>/` and stamped as
 * the project's release process stamps it (version, and the placeholders its source carries), since the
 * source at a tag is the chart before packaging.
 */

const proxy = 'https://proxy.golang.org';
export const chartCacheDir = join(toolsDir, 'charts');

export interface ChartSource {
  /** `chart` of the helm_release. */
  chart: string;
  /** `repository` of the helm_release, so a renamed or moved release is not matched by name alone. */
  repository: string;
  module: string;
  /** The module version whose tag is the chart's release; null when no such module version can exist. */
  moduleVersion: (chartVersion: string) => string | null;
  /** Folder of the chart inside the module. */
  path: string;
  /** What the upstream release does to the source before `helm package`. */
  stamp: (dir: string, chartVersion: string) => void;
  /**
   * Subcharts no Go module serves, left out of Chart.yaml: Helm refuses to render without them even when
   * their condition is off. Rendering stays faithful only while `<name>.enabled` is false, which the test checks.
   */
  absentDependencies?: string[];
  /** Other files of the module a check reads, by unzip wildcard; kept beside the chart in `<dir>.module/`. */
  moduleFiles?: string[];
}

/** Sets `key: value` on the top-level line of Chart.yaml (the release tools overwrite it the same way). */
function setChartField(dir: string, key: 'version' | 'appVersion', value: string): void {
  const file = join(dir, 'Chart.yaml');
  const text = readFileSync(file, 'utf8');
  const line = new RegExp(`^${key}:.*$`, 'm');
  writeFileSync(
    file,
    line.test(text) ? text.replace(line, `${key}: "${value}"`) : `${text}${key}: "${value}"\n`,
  );
}

function dropDependencies(dir: string, names: string[]): void {
  if (names.length === 0) return;
  const file = join(dir, 'Chart.yaml');
  const chart = parseYaml(readFileSync(file, 'utf8')) as { dependencies?: { name: string }[] };
  chart.dependencies = (chart.dependencies ?? []).filter((d) => !names.includes(d.name));
  writeFileSync(file, stringify(chart));
  // The lock lists the dropped subchart too; Helm only warns about a stale one, but it no longer applies.
  rmSync(join(dir, 'Chart.lock'), { force: true });
}

/** `${name}` as envsubst reads it. */
const envsubst = (name: string) => `$${'{'}${name}}`;

const vPrefixed = (v: string) => (v.startsWith('v') ? v : `v${v}`);

export const chartSources: ChartSource[] = [
  {
    chart: 'karpenter',
    repository: 'oci://public.ecr.aws/karpenter',
    module: 'github.com/aws/karpenter-provider-aws',
    moduleVersion: vPrefixed,
    path: 'charts/karpenter',
    // The release sets the chart and image versions (the tag's values.yaml still names the minor's first image).
    stamp: (dir, v) => {
      setChartField(dir, 'version', v);
      setChartField(dir, 'appVersion', v);
    },
  },
  {
    chart: 'gateway-helm',
    repository: 'oci://docker.io/envoyproxy',
    module: 'github.com/envoyproxy/gateway',
    moduleVersion: vPrefixed,
    path: 'charts/gateway-helm',
    // tools/make/helm.mk: `envsubst < values.tmpl.yaml > values.yaml` with the release's image and policy.
    stamp: (dir, v) => {
      const template = readFileSync(join(dir, 'values.tmpl.yaml'), 'utf8');
      const values = template
        .replaceAll(envsubst('GatewayImage'), `docker.io/envoyproxy/gateway:${v}`)
        .replaceAll(envsubst('GatewayImagePullPolicy'), 'IfNotPresent');
      const left = /\$\{\w+\}/.exec(values);
      if (left)
        throw new Error(`gateway-helm ${v}: values.tmpl.yaml has a placeholder not filled: ${left[0]}`);
      writeFileSync(join(dir, 'values.yaml'), values);
      rmSync(join(dir, 'values.tmpl.yaml'));
      setChartField(dir, 'version', v);
      setChartField(dir, 'appVersion', v);
    },
  },
  {
    chart: 'external-secrets',
    repository: 'https://charts.external-secrets.io',
    module: 'github.com/external-secrets/external-secrets',
    moduleVersion: vPrefixed,
    path: 'deploy/charts/external-secrets',
    // The release also generates templates/crds/ from config/crds (hack/helm.generate.sh): not done here.
    stamp: (dir, v) => {
      setChartField(dir, 'version', v);
      setChartField(dir, 'appVersion', vPrefixed(v));
    },
    absentDependencies: ['bitwarden-sdk-server'],
  },
  {
    chart: 'knative-operator',
    repository: 'https://knative.github.io/operator',
    module: 'knative.dev/operator',
    // Knative tags each release twice: knative-v1.<m>.<p> and the Go module's v0.<m + 27>.<p>.
    moduleVersion: (v) => {
      const m = /^v?1\.(\d+)\.(\d+)$/.exec(v);
      return m ? `v0.${Number(m[1]) + 27}.${m[2]}` : null;
    },
    path: 'config/charts/knative-operator',
    // The manifests the operator applies for the Kafka source, per Eventing minor.
    moduleFiles: ['cmd/operator/kodata/eventing-source/*/kafka/*.yaml'],
    // hack/generate-helm.sh: `{{ version }}` without the v, `{{ tag }}` with it.
    stamp: (dir, v) => {
      const tag = vPrefixed(v);
      for (const [file, from, to] of [
        ['Chart.yaml', '{{ version }}', tag.slice(1)],
        ['values.yaml', '{{ tag }}', tag],
      ] as const)
        writeFileSync(join(dir, file), readFileSync(join(dir, file), 'utf8').replaceAll(from, to));
    },
  },
  {
    chart: 'aws-load-balancer-controller',
    repository: 'https://aws.github.io/eks-charts',
    module: 'sigs.k8s.io/aws-load-balancer-controller',
    // Chart 1.<m>.<p> is controller v2.<m>.<p>; the module path has no /v2 suffix, so a v2 tag is not a
    // module version the proxy can serve (only pseudo-versions of commits it already holds).
    moduleVersion: () => null,
    path: 'helm/aws-load-balancer-controller',
    stamp: () => {},
  },
];

export function chartSourceFor(chart: string, repository: string): ChartSource | undefined {
  return chartSources.find((s) => s.chart === chart && s.repository === repository);
}

/** Why a chart cannot be had offline at this version, or null when it can. */
export function unavailableReason(source: ChartSource | undefined, chartVersion: string): string | null {
  if (!source) return 'not inside any Go module this project knows';
  if (!source.moduleVersion(chartVersion))
    return `${source.module} has no module version for chart ${chartVersion}`;
  return null;
}

/** The proxy could not be reached or does not serve the version; anything else is a bug here. */
export class ChartUnavailable extends Error {
  override name = 'ChartUnavailable';
}

/**
 * The chart's folder, extracted and stamped on first use. A version the proxy does not serve throws with the
 * HTTP status, so the caller can tell "not published" from "not reachable".
 */
export async function ensureChart(source: ChartSource, chartVersion: string): Promise<string> {
  const version = source.moduleVersion(chartVersion);
  if (!version)
    throw new Error(`${source.chart} ${chartVersion}: ${unavailableReason(source, chartVersion)}`);
  const dir = join(chartCacheDir, `${source.chart}-${chartVersion}`);
  const complete =
    existsSync(join(dir, 'Chart.yaml')) && (!source.moduleFiles?.length || existsSync(moduleFilesDir(dir)));
  if (complete) return dir;
  mkdirSync(chartCacheDir, { recursive: true });
  const zip = join(chartCacheDir, `${source.module.replaceAll('/', '_')}@${version}.zip`);
  const url = `${proxy}/${source.module.toLowerCase()}/@v/${version}.zip`;
  const res = await fetch(url, { signal: AbortSignal.timeout(120_000) }).catch((err: Error) => {
    throw new ChartUnavailable(`${url}: ${err.message}`);
  });
  if (!res.ok) throw new ChartUnavailable(`${url}: HTTP ${res.status}`);
  writeFileSync(zip, Buffer.from(await res.arrayBuffer()));
  const staging = `${dir}.part-${process.pid}`;
  try {
    rmSync(staging, { recursive: true, force: true });
    mkdirSync(staging);
    const prefix = `${source.module}@${version}/${source.path}`;
    execFileSync('unzip', ['-q', zip, `${prefix}/*`, '-d', join(staging, 'chart')]);
    const extracted = join(staging, 'chart', prefix);
    source.stamp(extracted, chartVersion);
    dropDependencies(extracted, source.absentDependencies ?? []);
    const root = `${source.module}@${version}`;
    if (source.moduleFiles?.length) {
      const files = source.moduleFiles.map((f) => `${root}/${f}`);
      execFileSync('unzip', ['-q', zip, ...files, '-d', join(staging, 'files')]);
      rmSync(moduleFilesDir(dir), { recursive: true, force: true });
      renameSync(join(staging, 'files', root), moduleFilesDir(dir));
    }
    rmSync(dir, { recursive: true, force: true });
    // Last: a Chart.yaml in place means the whole entry is.
    renameSync(extracted, dir);
  } finally {
    rmSync(staging, { recursive: true, force: true });
    rmSync(zip, { force: true });
  }
  return dir;
}

/** Where `moduleFiles` of the chart in `dir` are, under their paths in the module. */
export const moduleFilesDir = (dir: string) => `${dir}.module`;

type Values = unknown;
const isMap = (v: Values): v is Record<string, Values> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Every leaf key path of a values object (a map's key path ends at a list or a scalar). */
export function leafPaths(values: Values, prefix: string[] = []): string[][] {
  if (!isMap(values) || (Object.keys(values).length === 0 && prefix.length > 0)) return [prefix];
  return Object.entries(values).flatMap(([k, v]) => leafPaths(v, [...prefix, k]));
}

interface ChartKeys {
  defaults: Values;
  schema: Record<string, unknown> | null;
  /** `.Values.a.b` paths the templates read, as `a.b`. */
  read: Set<string>;
}

function templateFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? e.name === 'charts' || e.name === 'crds'
        ? []
        : templateFiles(join(dir, e.name))
      : /\.(yaml|yml|tpl|txt)$/.test(e.name)
        ? [join(dir, e.name)]
        : [],
  );
}

export function chartKeys(dir: string): ChartKeys {
  const schemaFile = join(dir, 'values.schema.json');
  const read = new Set<string>();
  for (const file of existsSync(join(dir, 'templates')) ? templateFiles(join(dir, 'templates')) : [])
    for (const m of readFileSync(file, 'utf8').matchAll(/\.Values((?:\.\w+)+)/g)) read.add(m[1]!.slice(1));
  return {
    defaults: parseYaml(readFileSync(join(dir, 'values.yaml'), 'utf8')) ?? {},
    schema: existsSync(schemaFile) ? JSON.parse(readFileSync(schemaFile, 'utf8')) : null,
    read,
  };
}

/** Whether the schema names `path` (a property at each step, or a map whose values it describes). */
function schemaAllows(schema: Record<string, unknown> | null, path: string[]): boolean {
  let node: Record<string, unknown> | undefined = schema ?? undefined;
  for (const key of path) {
    if (!node) return false;
    const props = node.properties as Record<string, Record<string, unknown>> | undefined;
    const extra = node.additionalProperties;
    if (props?.[key]) node = props[key];
    else if (isMap(extra)) node = extra as Record<string, unknown>;
    else return false;
  }
  return true;
}

/**
 * Key paths Terraform sets that the chart does not know. A path is known when values.yaml has it (an empty
 * map there, like `annotations: {}`, takes any key below it), the schema names it, or a template reads it.
 * A typo in any key is none of these, whereas Helm would ignore it without a word.
 */
export function unknownValuePaths(values: Values, keys: ChartKeys): string[] {
  const problems: string[] = [];
  for (const path of leafPaths(values)) {
    let node: Values = keys.defaults;
    let known = true;
    for (const key of path) {
      if (isMap(node) && key in node) node = node[key];
      else if (isMap(node) && Object.keys(node).length === 0) break;
      else {
        known = false;
        break;
      }
    }
    const dotted = path.join('.');
    // Only the exact path: a template that reads a whole map (`toYaml .Values.x`) says nothing of its keys.
    if (!known && !keys.read.has(dotted) && !schemaAllows(keys.schema, path)) problems.push(dotted);
  }
  return problems;
}
