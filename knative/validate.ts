import { readFileSync } from 'node:fs';
import { Service } from '@kubernetes-models/knative/serving.knative.dev/v1';
import { PingSource } from '@kubernetes-models/knative/sources.knative.dev/v1';
import { PingSource as PingSourceV1beta2 } from '@kubernetes-models/knative/sources.knative.dev/v1beta2';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { parseAllDocuments } from 'yaml';
import { coreKindSchemas } from './core-schemas.ts';
import {
  type CrdSource,
  coreOpenApiSources,
  crdSearchDirs,
  crdSources,
  fetchCommand,
  findCrdFile,
  type GoModuleCrd,
  goModuleCrds,
  missingCrdMessage,
} from './crd-sources.ts';

/**
 * Offline admission for the rendered manifests, since no cluster is reachable from here:
 *
 *  1. Schema: each object against the openAPIV3Schema of its CRD version (the upstream CRD files, found
 *     by knative/crd-sources.ts), made STRICT: every object node rejects fields its schema does not list,
 *     except where the CRD says `x-kubernetes-preserve-unknown-fields`. `metadata` is checked against
 *     ObjectMeta, as the API server does. Core kinds (Job, Secret, ConfigMap) are checked the same way
 *     against the OpenAPI v3 documents of the Kubernetes release (knative/core-schemas.ts). Without a CRD
 *     file, Service and PingSource fall back to the models of `@kubernetes-models/knative`, which check
 *     types and required fields but let unknown fields through; a kind with neither is refused with the
 *     command that fetches its schema.
 *  2. Admission: the rules Knative's webhooks enforce that the schemas cannot express (annotation ranges
 *     and enums, containerConcurrency, reserved env and ports, traffic, KafkaSource enums, ISO-8601
 *     durations, PingSource cron).
 *  3. Policy: this project's own rules (probes on /readyz and /healthz, pinned images, resources set),
 *     reported with a `policy:` prefix.
 *
 * `npx tsx knative/validate.ts <file|->...` prints every problem and exits 1 if there is one; the deploy
 * workflow runs it on `kustomize build` output before `kubectl apply`.
 */

type Schema = Record<string, unknown>;
// biome-ignore lint/suspicious/noExplicitAny: manifests are untyped YAML
export type Manifest = Record<string, any>;

const nameRe = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** ObjectMeta as a client may send it; the API server validates metadata itself, not through the CRD. */
const objectMeta: Schema = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    name: { type: 'string', maxLength: 253, pattern: nameRe.source },
    generateName: { type: 'string' },
    namespace: { type: 'string', maxLength: 63, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' },
    labels: { type: 'object', additionalProperties: { type: 'string', maxLength: 63 } },
    annotations: { type: 'object', additionalProperties: { type: 'string' } },
    finalizers: { type: 'array', items: { type: 'string' } },
    ownerReferences: { type: 'array', items: { type: 'object' } },
  },
};

export interface StrictSchema {
  schema: Schema;
  /** JSON paths (in the schema) where unknown fields stay allowed, as the CRD says. */
  openPaths: string[];
}

/**
 * Closes every object node that the CRD does not explicitly leave open. `x-kubernetes-int-or-string`
 * becomes integer-or-string; formats other than int32/int64 are dropped (Kubernetes treats them as hints).
 */
export function strictify(crdSchema: Schema, options: { requireSpec?: boolean } = {}): StrictSchema {
  const openPaths: string[] = [];
  const walk = (node: unknown, path: string): unknown => {
    if (Array.isArray(node)) return node.map((n, i) => walk(n, `${path}[${i}]`));
    if (!node || typeof node !== 'object') return node;
    const src = node as Schema;
    const out: Schema = {};
    for (const [k, v] of Object.entries(src)) {
      if (k === 'description') continue;
      if (k === 'properties') {
        out.properties = Object.fromEntries(
          Object.entries(v as Schema).map(([p, s]) => [p, walk(s, `${path}.${p}`)]),
        );
      } else if (k === 'items') out.items = walk(v, `${path}[]`);
      else if (k === 'additionalProperties' && typeof v === 'object')
        out.additionalProperties = walk(v, `${path}.*`);
      else if (k === 'allOf' || k === 'anyOf' || k === 'oneOf') out[k] = walk(v, path);
      else if (k === 'format' && v !== 'int32' && v !== 'int64') continue;
      else out[k] = v;
    }
    if (src['x-kubernetes-int-or-string']) {
      delete out.type;
      out.anyOf = [{ type: 'integer' }, { type: 'string' }];
    }
    const isObject = out.type === 'object' || out.properties !== undefined;
    if (isObject && src['x-kubernetes-preserve-unknown-fields'] === true) openPaths.push(path || '.');
    else if (isObject && out.additionalProperties === undefined) out.additionalProperties = false;
    return out;
  };
  const schema = walk(crdSchema, '') as Schema;
  const properties = (schema.properties ?? {}) as Schema;
  schema.properties = {
    ...properties,
    apiVersion: { type: 'string' },
    kind: { type: 'string' },
    metadata: objectMeta,
  };
  schema.required = [
    ...new Set([
      ...((schema.required as string[]) ?? []),
      'apiVersion',
      'kind',
      'metadata',
      ...((options.requireSpec ?? true) ? ['spec'] : []),
    ]),
  ];
  return { schema, openPaths };
}

/** Where a kind's schema came from: a CRD or OpenAPI file (strict), the npm models (loose), or nowhere. */
export type SchemaSource =
  | { kind: 'crd'; path: string }
  | { kind: 'openapi'; path: string }
  | { kind: 'package'; name: string }
  | { kind: 'missing'; message: string };

export interface Validator {
  /** `group/version/Kind` keys that have a schema. */
  kinds: string[];
  sources: Record<string, SchemaSource>;
  openPaths: Record<string, string[]>;
  validate(doc: Manifest): string[];
}

export interface ValidatorOptions {
  /** Folders searched for the CRD files; default `$KNATIVE_CRDS_DIR`, then the fetch cache. */
  crdDirs?: string[];
  /** More CRD files to check against (kinds applied by Terraform rather than kustomize). */
  extraCrdFiles?: string[];
}

const modelsPackage = '@kubernetes-models/knative';

interface KubernetesModel {
  validate(): void;
}

/** The models' own check, read back as ajv errors (it throws ajv's ValidationError). */
function modelCheck(make: (doc: Manifest) => KubernetesModel): (doc: Manifest) => ErrorObject[] {
  return (doc) => {
    try {
      make(doc).validate();
      return [];
    } catch (error) {
      const errors = (error as { errors?: unknown }).errors;
      if (Array.isArray(errors)) return errors as ErrorObject[];
      throw error;
    }
  };
}

/**
 * The models reuse Kubernetes' core Container, whose probes need a port and whose containers need a name;
 * Knative's CRD and webhook leave both out and fill them in (the serving port, a generated name).
 */
function knativeDefaultsFilled(e: ErrorObject): boolean {
  if (e.keyword !== 'required') return false;
  const missing = (e.params as { missingProperty?: string }).missingProperty;
  const probe = /\/containers\/\d+\/(liveness|readiness|startup)Probe\/(httpGet|tcpSocket|grpc)$/;
  return (
    (missing === 'port' && probe.test(e.instancePath)) ||
    (missing === 'name' && /\/containers\/\d+$/.test(e.instancePath))
  );
}

const servingModel = modelCheck((doc) => new Service(doc));

const modelChecks: Record<string, (doc: Manifest) => ErrorObject[]> = {
  'serving.knative.dev/v1/Service': (doc) => servingModel(doc).filter((e) => !knativeDefaultsFilled(e)),
  'sources.knative.dev/v1/PingSource': modelCheck((doc) => new PingSource(doc)),
  'sources.knative.dev/v1beta2/PingSource': modelCheck((doc) => new PingSourceV1beta2(doc)),
};

/** What the models leave open at the top: the envelope and ObjectMeta, closed as the API server has them. */
const envelope: Schema = {
  type: 'object',
  required: ['apiVersion', 'kind', 'metadata', 'spec'],
  properties: { apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: objectMeta },
};

export function createValidator(options: ValidatorOptions = {}): Validator {
  const dirs = options.crdDirs ?? crdSearchDirs();
  const ajv = new Ajv({ allErrors: true, strictTypes: false, strictRequired: false });
  ajv.addVocabulary([
    'x-kubernetes-preserve-unknown-fields',
    'x-kubernetes-int-or-string',
    'x-kubernetes-embedded-resource',
    'x-kubernetes-list-type',
    'x-kubernetes-list-map-keys',
    'x-kubernetes-map-type',
    'x-kubernetes-validations',
    // Documentation only, in External Secrets' CRDs.
    'example',
  ]);
  ajv.addFormat('int32', { type: 'number', validate: (n: number) => n >= -(2 ** 31) && n < 2 ** 31 });
  ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isSafeInteger(n) });
  const checks = new Map<string, (doc: Manifest) => ErrorObject[]>();
  const sources: Record<string, SchemaSource> = {};
  const openPaths: Record<string, string[]> = {};
  const compiled = (fn: ValidateFunction) => (doc: Manifest) => (fn(doc) ? [] : (fn.errors ?? []));
  const checkEnvelope = compiled(ajv.compile(envelope));

  const addCrd = (path: string, only?: string[]) => {
    const crd = parseAllDocuments(readFileSync(path, 'utf8'))
      .map((d) => d.toJS() as Manifest)
      .find((d) => d?.kind === 'CustomResourceDefinition');
    if (!crd) throw new Error(`${path}: no CustomResourceDefinition`);
    for (const version of crd.spec.versions as Manifest[]) {
      if (!version.served) continue;
      const key = `${crd.spec.group}/${version.name}/${crd.spec.names.kind}`;
      if (only && !only.includes(key)) continue;
      const strict = strictify(version.schema.openAPIV3Schema);
      checks.set(key, compiled(ajv.compile(strict.schema)));
      sources[key] = { kind: 'crd', path };
      openPaths[key] = strict.openPaths;
    }
  };

  for (const source of coreOpenApiSources) {
    const path = findCrdFile(source.file, dirs);
    const found = path ? coreKindSchemas(JSON.parse(readFileSync(path, 'utf8')), source.kinds) : {};
    for (const key of source.kinds) {
      const schema = found[key];
      if (!path || !schema) {
        const why = path ? `${path} has no schema for ${key}` : undefined;
        sources[key] = { kind: 'missing', message: why ?? missingCrdMessage(goSource(source), dirs) };
        continue;
      }
      const strict = strictify(schema, {
        requireSpec: (schema.properties as Schema | undefined)?.spec !== undefined,
      });
      checks.set(key, compiled(ajv.compile(strict.schema)));
      sources[key] = { kind: 'openapi', path };
      openPaths[key] = strict.openPaths;
    }
  }

  for (const source of [...crdSources, ...goModuleCrds.map(goSource)]) {
    const path = findCrdFile(source.file, dirs);
    if (path) {
      addCrd(path);
      continue;
    }
    for (const key of source.kinds) {
      const model = modelChecks[key];
      if (model) {
        checks.set(key, (doc) => [...checkEnvelope(doc), ...model(doc)]);
        sources[key] = { kind: 'package', name: modelsPackage };
      } else {
        sources[key] = { kind: 'missing', message: missingCrdMessage(source, dirs) };
      }
    }
  }
  for (const path of options.extraCrdFiles ?? []) addCrd(path);

  return {
    kinds: [...checks.keys()],
    sources,
    openPaths,
    validate(doc) {
      const key = kindKey(doc);
      const check = checks.get(key);
      if (!check) {
        const source = sources[key];
        if (source?.kind === 'missing') return [`schema: ${source.message}`, ...admission(doc)];
        return [`no schema for ${key}: not a kind this project deploys`];
      }
      return [...check(doc).map(formatError), ...admission(doc)];
    },
  };
}

/** One line per kind: where its schema comes from. */
export function describeSources(validator: Validator): string {
  return Object.entries(validator.sources)
    .map(([key, s]) =>
      s.kind === 'crd'
        ? `${key}: CRD ${s.path}`
        : s.kind === 'openapi'
          ? `${key}: Kubernetes OpenAPI ${s.path}`
          : s.kind === 'package'
            ? `${key}: ${s.name} (types and required fields; unknown fields not rejected)`
            : `${key}: MISSING`,
    )
    .join('\n');
}

function goSource(crd: GoModuleCrd): CrdSource {
  return {
    file: crd.file,
    kinds: crd.kinds,
    url: `${crd.module}@${crd.version}/${crd.path} (Go module proxy)`,
  };
}

export function kindKey(doc: Manifest): string {
  return `${doc?.apiVersion ?? '?'}/${doc?.kind ?? '?'}`;
}

function formatError(e: ErrorObject): string {
  const where = e.instancePath || '/';
  if (e.keyword === 'additionalProperties') {
    return `schema: ${where}: unknown field "${(e.params as { additionalProperty: string }).additionalProperty}"`;
  }
  return `schema: ${where}: ${e.message ?? `${e.keyword} ${JSON.stringify(e.params)}`}`;
}

// ---------------------------------------------------------------------------------------------------
// Admission rules (Knative webhooks) and project policy

const A = 'autoscaling.knative.dev/';
const knownAutoscalingKeys = new Set(
  [
    'class',
    'metric',
    'target',
    'target-utilization-percentage',
    'min-scale',
    'max-scale',
    'initial-scale',
    'scale-to-zero-pod-retention-period',
    'window',
    'panic-window-percentage',
    'panic-threshold-percentage',
    'target-burst-capacity',
    'activation-scale',
    'scale-down-delay',
  ].map((k) => A + k),
);
const reservedEnv = new Set(['PORT', 'K_SERVICE', 'K_CONFIGURATION', 'K_REVISION']);
const reservedPorts = new Set([8012, 8013, 8022, 9090, 9091]);
const dnsLabel = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Go's time.ParseDuration grammar (Knative parses retention and window with it). */
export function parseGoDuration(value: string): number | undefined {
  if (value === '0') return 0;
  const re = /(\d+(?:\.\d+)?|\.\d+)(ns|us|µs|ms|s|m|h)/y;
  const unit: Record<string, number> = {
    ns: 1e-6,
    us: 1e-3,
    µs: 1e-3,
    ms: 1,
    s: 1000,
    m: 60_000,
    h: 3_600_000,
  };
  let i = value.startsWith('-') || value.startsWith('+') ? 1 : 0;
  if (i >= value.length) return undefined;
  let total = 0;
  while (i < value.length) {
    re.lastIndex = i;
    const m = re.exec(value);
    if (!m) return undefined;
    total += Number(m[1]) * unit[m[2]!]!;
    i = re.lastIndex;
  }
  return value.startsWith('-') ? -total : total;
}

/** ISO-8601 durations as Knative's delivery spec accepts them (PnYnMnDTnHnMnS, PnW). */
export function isIsoDuration(value: string): boolean {
  return (
    /^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$/.test(value) &&
    !value.endsWith('T')
  );
}

const cronFields: { name: string; min: number; max: number; names?: string[] }[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: 'jan feb mar apr may jun jul aug sep oct nov dec'.split(' ') },
  { name: 'day of week', min: 0, max: 6, names: 'sun mon tue wed thu fri sat'.split(' ') },
];

/**
 * The schedule grammar PingSource accepts: robfig/cron's standard parser (five fields or a descriptor,
 * optional CRON_TZ=/TZ= prefix), minus `@every`, which Knative refuses. Returns the problems.
 */
export function checkCron(schedule: string): string[] {
  let s = schedule.trim();
  const tz = /^(CRON_TZ|TZ)=(\S+)\s+/.exec(s);
  if (tz) s = s.slice(tz[0].length);
  if (s.includes('@every')) return ['@every is not supported by PingSource'];
  if (s.startsWith('@')) {
    return ['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'].includes(s)
      ? []
      : [`unknown descriptor ${s}`];
  }
  const fields = s.split(/\s+/);
  if (fields.length !== 5) return [`expected 5 fields, got ${fields.length}`];
  const problems: string[] = [];
  fields.forEach((field, i) => {
    const spec = cronFields[i]!;
    const value = (v: string): number => {
      const named = spec.names?.indexOf(v.toLowerCase()) ?? -1;
      if (named >= 0) return named + spec.min;
      return /^\d+$/.test(v) ? Number(v) : Number.NaN;
    };
    for (const part of field.split(',')) {
      const m = /^([^/]+)(?:\/(\d+))?$/.exec(part);
      if (!m) {
        problems.push(`${spec.name}: bad term "${part}"`);
        continue;
      }
      const [, range, step] = m;
      if (step !== undefined && Number(step) < 1) problems.push(`${spec.name}: step must be >= 1`);
      if (range === '*' || range === '?') continue;
      const [lo, hi, extra] = range!.split('-');
      const a = value(lo!);
      const b = hi === undefined ? a : value(hi);
      if (extra !== undefined || Number.isNaN(a) || Number.isNaN(b)) {
        problems.push(`${spec.name}: bad term "${part}"`);
      } else if (a < spec.min || b > spec.max || a > b) {
        problems.push(`${spec.name}: ${part} outside ${spec.min}-${spec.max}`);
      }
    }
  });
  return problems;
}

/** Knative's checks on the autoscaling annotations of a revision template. */
export function checkAutoscalingAnnotations(annotations: Record<string, string>): string[] {
  const p: string[] = [];
  const get = (k: string) => annotations[A + k];
  for (const key of Object.keys(annotations)) {
    if (key.startsWith(A) && !knownAutoscalingKeys.has(key))
      p.push(`policy: unknown annotation ${key} (typo?)`);
  }
  const cls = get('class');
  const shortClass = cls?.replace('.autoscaling.knative.dev', '');
  if (cls !== undefined && !['kpa.autoscaling.knative.dev', 'hpa.autoscaling.knative.dev'].includes(cls)) {
    p.push(`${A}class: ${cls} is not kpa.autoscaling.knative.dev or hpa.autoscaling.knative.dev`);
  }
  const metric = get('metric');
  if (metric !== undefined) {
    const allowed = (shortClass ?? 'kpa') === 'hpa' ? ['cpu', 'memory'] : ['concurrency', 'rps'];
    if (!allowed.includes(metric))
      p.push(`${A}metric: ${metric} is not one of ${allowed.join('|')} for ${shortClass ?? 'kpa'}`);
  }
  const num = (k: string) => {
    const v = get(k);
    return v === undefined ? undefined : /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : Number.NaN;
  };
  const target = num('target');
  if (target !== undefined && !(target >= 0.01))
    p.push(`${A}target: ${get('target')} should be at least 0.01`);
  const util = num('target-utilization-percentage');
  if (util !== undefined && !(util >= 1 && util <= 100)) {
    p.push(`${A}target-utilization-percentage: ${get('target-utilization-percentage')} outside 1..100`);
  }
  const int = (k: string) => {
    const v = get(k);
    if (v === undefined) return undefined;
    if (!/^\d+$/.test(v) || Number(v) > 2 ** 31 - 1) {
      p.push(`${A}${k}: ${v} is not an integer in 0..2147483647`);
      return undefined;
    }
    return Number(v);
  };
  const min = int('min-scale');
  const max = int('max-scale');
  const initial = int('initial-scale');
  if (max !== undefined && max !== 0 && min !== undefined && max < min)
    p.push(`max-scale ${max} is less than min-scale ${min}`);
  if (initial === 0) p.push(`${A}initial-scale: 0 needs allow-zero-initial-scale in config-autoscaler`);
  if (shortClass === 'hpa' && (min ?? 0) < 1) p.push('class hpa cannot scale to zero: set min-scale >= 1');
  for (const k of ['scale-to-zero-pod-retention-period', 'window', 'scale-down-delay']) {
    const v = get(k);
    if (v === undefined) continue;
    const ms = parseGoDuration(v);
    const lo = k === 'window' ? 6_000 : 0;
    if (ms === undefined) p.push(`${A}${k}: ${v} is not a duration (e.g. 0s, 90s, 10m)`);
    else if (ms < lo || ms > 3_600_000) p.push(`${A}${k}: ${v} outside ${lo / 1000}s..1h`);
  }
  return p;
}

function checkSink(sink: Manifest | undefined, where: string): string[] {
  if (!sink) return [`${where}: required`];
  const hasRef = sink.ref !== undefined;
  const hasUri = sink.uri !== undefined;
  if (!hasRef && !hasUri) return [`${where}: needs ref or uri`];
  if (hasRef && (!sink.ref.kind || !sink.ref.name || !(sink.ref.apiVersion || sink.ref.group))) {
    return [`${where}.ref: needs apiVersion, kind and name`];
  }
  return [];
}

function checkProbe(probe: Manifest | undefined, where: string, path: string): string[] {
  if (!probe) return [`policy: ${where}: missing (must GET ${path})`];
  const p: string[] = [];
  const handlers = ['httpGet', 'tcpSocket', 'grpc', 'exec'].filter((h) => probe[h] !== undefined);
  if (handlers.length !== 1) p.push(`${where}: exactly one handler, got ${handlers.join(', ') || 'none'}`);
  if (probe.httpGet?.path !== path) p.push(`policy: ${where}: must GET ${path}, not ${probe.httpGet?.path}`);
  for (const k of ['periodSeconds', 'timeoutSeconds', 'failureThreshold', 'initialDelaySeconds']) {
    if (probe[k] !== undefined && probe[k] < 0) p.push(`${where}.${k}: must be >= 0`);
  }
  return p;
}

function checkService(doc: Manifest): string[] {
  const p: string[] = [];
  const name: string = doc.metadata?.name ?? '';
  const template = doc.spec?.template ?? {};
  const spec = template.spec ?? {};
  p.push(...checkAutoscalingAnnotations(template.metadata?.annotations ?? {}));
  for (const key of Object.keys(doc.metadata?.annotations ?? {})) {
    if (key.startsWith(A)) p.push(`metadata.annotations: ${key} belongs on spec.template.metadata`);
  }
  if (template.metadata?.name !== undefined && !String(template.metadata.name).startsWith(`${name}-`)) {
    p.push(`spec.template.metadata.name: ${template.metadata.name} must start with "${name}-"`);
  }
  const cc = spec.containerConcurrency;
  if (cc !== undefined && !(Number.isInteger(cc) && cc >= 0 && cc <= 1000)) {
    p.push(`spec.template.spec.containerConcurrency: ${cc} outside 0..1000`);
  }
  if (spec.timeoutSeconds !== undefined && !(spec.timeoutSeconds >= 0 && spec.timeoutSeconds <= 600)) {
    p.push(
      `spec.template.spec.timeoutSeconds: ${spec.timeoutSeconds} above max-revision-timeout-seconds (600)`,
    );
  }
  const containers: Manifest[] = spec.containers ?? [];
  const withPorts = containers.filter((c) => (c.ports ?? []).length > 0);
  if (containers.length > 1 && withPorts.length !== 1) p.push('containers: exactly one must declare a port');
  containers.forEach((c, i) => {
    const where = `containers[${i}]`;
    if (!c.image) p.push(`${where}.image: required`);
    else {
      const image = String(c.image);
      const tag = image.includes('@') ? undefined : image.split('/').pop()!.split(':')[1];
      if (!image.includes('@') && (tag === undefined || tag === 'latest')) {
        p.push(`policy: ${where}.image: ${image} must be pinned by tag (not latest) or digest`);
      }
    }
    if ((c.ports ?? []).length > 1) p.push(`${where}.ports: at most one port`);
    for (const port of c.ports ?? []) {
      if (port.name !== undefined && !['http1', 'h2c'].includes(port.name))
        p.push(`${where}.ports: name ${port.name} not http1|h2c`);
      if (reservedPorts.has(port.containerPort))
        p.push(`${where}.ports: ${port.containerPort} is reserved by Knative`);
    }
    for (const env of c.env ?? []) {
      if (reservedEnv.has(env.name)) p.push(`${where}.env: ${env.name} is reserved by Knative`);
      if ((env.value !== undefined) === (env.valueFrom !== undefined))
        p.push(`${where}.env ${env.name}: value xor valueFrom`);
    }
    if (withPorts.length === 0 || c === withPorts[0]) {
      p.push(...checkProbe(c.readinessProbe, `${where}.readinessProbe`, '/readyz'));
      p.push(...checkProbe(c.livenessProbe, `${where}.livenessProbe`, '/healthz'));
      for (const kind of ['requests', 'limits']) {
        for (const r of ['cpu', 'memory']) {
          if (c.resources?.[kind]?.[r] === undefined)
            p.push(`policy: ${where}.resources.${kind}.${r}: required`);
        }
      }
    }
  });
  const traffic: Manifest[] | undefined = doc.spec?.traffic;
  if (traffic) {
    const sum = traffic.reduce((s, t) => s + (t.percent ?? 0), 0);
    if (sum !== 100) p.push(`spec.traffic: percents add up to ${sum}, not 100`);
    const tags = traffic.map((t) => t.tag).filter(Boolean);
    if (new Set(tags).size !== tags.length) p.push('spec.traffic: duplicate tag');
    traffic.forEach((t, i) => {
      if (t.percent !== undefined && !(Number.isInteger(t.percent) && t.percent >= 0 && t.percent <= 100)) {
        p.push(`spec.traffic[${i}].percent: ${t.percent} outside 0..100`);
      }
      if ((t.latestRevision === true) === (t.revisionName !== undefined)) {
        p.push(`spec.traffic[${i}]: exactly one of revisionName or latestRevision: true`);
      }
      if (t.revisionName !== undefined && !String(t.revisionName).startsWith(`${name}-`)) {
        p.push(`spec.traffic[${i}].revisionName: ${t.revisionName} is not a revision of ${name}`);
      }
      if (t.tag !== undefined && !dnsLabel.test(t.tag))
        p.push(`spec.traffic[${i}].tag: ${t.tag} is not a DNS label`);
    });
  }
  return p;
}

function checkDelivery(delivery: Manifest | undefined): string[] {
  if (!delivery) return [];
  const p: string[] = [];
  if (delivery.retry !== undefined && !(Number.isInteger(delivery.retry) && delivery.retry >= 0)) {
    p.push(`spec.delivery.retry: ${delivery.retry} must be >= 0`);
  }
  if (delivery.backoffPolicy !== undefined && !['exponential', 'linear'].includes(delivery.backoffPolicy)) {
    p.push(`spec.delivery.backoffPolicy: ${delivery.backoffPolicy} is not exponential|linear`);
  }
  for (const k of ['backoffDelay', 'timeout', 'retryAfterMax']) {
    if (delivery[k] !== undefined && !isIsoDuration(String(delivery[k]))) {
      p.push(`spec.delivery.${k}: ${delivery[k]} is not an ISO-8601 duration (e.g. PT0.5S)`);
    }
  }
  if (delivery.deadLetterSink !== undefined)
    p.push(...checkSink(delivery.deadLetterSink, 'spec.delivery.deadLetterSink'));
  return p;
}

function checkKafkaSource(doc: Manifest): string[] {
  const s = doc.spec ?? {};
  const p: string[] = [];
  if (!(s.bootstrapServers?.length > 0)) p.push('spec.bootstrapServers: at least one');
  if (!(s.topics?.length > 0)) p.push('spec.topics: at least one');
  if (s.initialOffset !== undefined && !['earliest', 'latest'].includes(s.initialOffset)) {
    p.push(`spec.initialOffset: ${s.initialOffset} is not earliest|latest`);
  }
  if (s.ordering !== undefined && !['ordered', 'unordered'].includes(s.ordering)) {
    p.push(`spec.ordering: ${s.ordering} is not ordered|unordered`);
  }
  if (s.consumers !== undefined && !(s.consumers >= 1)) p.push('spec.consumers: must be >= 1');
  p.push(...checkDelivery(s.delivery), ...checkSink(s.sink, 'spec.sink'));
  return p;
}

function checkPingSource(doc: Manifest): string[] {
  const s = doc.spec ?? {};
  const p = checkCron(String(s.schedule ?? '')).map((m) => `spec.schedule: ${m}`);
  if (s.data !== undefined && s.dataBase64 !== undefined) p.push('spec: data and dataBase64 are exclusive');
  if (s.contentType === 'application/json' && s.data !== undefined) {
    try {
      const parsed: unknown = JSON.parse(s.data);
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
    } catch {
      p.push('spec.data: not a JSON object although contentType is application/json');
    }
  }
  p.push(...checkSink(s.sink, 'spec.sink'));
  return p;
}

export function admission(doc: Manifest): string[] {
  const p: string[] = [];
  const meta = doc.metadata ?? {};
  for (const key of [...Object.keys(meta.labels ?? {}), ...Object.keys(meta.annotations ?? {})]) {
    if (!/^([a-z0-9.-]+\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/.test(key))
      p.push(`metadata: bad key ${key}`);
  }
  switch (kindKey(doc)) {
    case 'serving.knative.dev/v1/Service':
      if (!dnsLabel.test(meta.name ?? '') || String(meta.name).length > 63)
        p.push('metadata.name: a DNS label');
      p.push(...checkService(doc));
      break;
    case 'sources.knative.dev/v1beta1/KafkaSource':
    case 'sources.knative.dev/v1/KafkaSource':
      p.push(...checkKafkaSource(doc));
      break;
    case 'sources.knative.dev/v1/PingSource':
    case 'sources.knative.dev/v1beta2/PingSource':
      p.push(...checkPingSource(doc));
      break;
  }
  return p.map((m) => (m.startsWith('policy:') || m.startsWith('schema:') ? m : `admission: ${m}`));
}

export function describe(doc: Manifest): string {
  return `${doc?.kind ?? '?'}/${doc?.metadata?.name ?? '?'}`;
}

export function parseManifests(text: string): Manifest[] {
  return parseAllDocuments(text)
    .map((d) => {
      if (d.errors.length > 0) throw new Error(`YAML: ${d.errors.map((e) => e.message).join('; ')}`);
      return d.toJS() as Manifest;
    })
    .filter((d) => d !== null && d !== undefined);
}

/** Problems of every document, each prefixed with Kind/name. */
export function validateAll(docs: Manifest[], validator = createValidator()): string[] {
  return docs.flatMap((doc) => validator.validate(doc).map((m) => `${describe(doc)}: ${m}`));
}

function main(argv: string[]): void {
  const validator = createValidator();
  let problems = 0;
  let count = 0;
  for (const file of argv.length > 0 ? argv : ['-']) {
    const docs = parseManifests(readFileSync(file === '-' ? 0 : file, 'utf8'));
    count += docs.length;
    for (const line of validateAll(docs, validator)) {
      console.error(`${file}: ${line}`);
      problems++;
    }
  }
  if (problems > 0) process.exit(1);
  const loose = Object.entries(validator.sources).filter(([, s]) => s.kind === 'package');
  const how =
    loose.length === 0
      ? 'strict CRD schemas'
      : `strict CRD schemas, except ${loose.map(([k]) => k).join(', ')} from ${modelsPackage} ` +
        `(unknown fields not rejected: \`${fetchCommand}\` for the CRDs)`;
  console.log(`knative/validate: ${count} manifests valid (${how}, admission rules, policy)`);
}

if (process.argv[1] && new URL(import.meta.url).pathname === process.argv[1]) main(process.argv.slice(2));
