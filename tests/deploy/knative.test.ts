import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { splitTraffic } from '../../knative/canary.ts';
import { crdSearchDirs, fetchCommand, findCrdFile } from '../../knative/crd-sources.ts';
import { ensureGoModuleCrds } from '../../knative/fetch-go-crds.ts';
import { annotation, knativeService, renderAll, staleFiles } from '../../knative/generate.ts';
import { environmentNames, loadSpec, parseSpec, resolve, SpecError } from '../../knative/spec.ts';
import {
  checkAutoscalingAnnotations,
  checkCron,
  createValidator,
  describeSources,
  isIsoDuration,
  type Manifest,
  parseGoDuration,
  parseManifests,
  type Validator,
  validateAll,
} from '../../knative/validate.ts';
import { composeRules } from '../../observability/prometheus/sync-rules.ts';
import { configSchema } from '../../shared/config.ts';
import {
  ensureGoTool,
  ensureNpmTool,
  goTools,
  npmTools,
  repoRoot,
  run,
  toolLog,
  tryTool,
} from './knative-tools.ts';

/**
 * Knative manifests: the generated files are what knative/autoscaling.yaml produces; every overlay renders
 * with real kustomize; every rendered object passes the upstream CRD schema made strict plus the admission
 * rules Knative enforces; and each check is shown to reject a deliberately broken input.
 */

const spec = loadSpec();
const functions = ['enter-queue', 'queue-stream', 'list-seats', 'hold-seat', 'pay', 'charge-points', 'web'];
const triggers = ['expire-holds', 'admit-queue', 'outbox-relay', 'release-seat', 'notify'];
let validator: Validator;
const started = Date.now();

beforeAll(async () => {
  // External Secrets' CRDs come from its Go module's zip (the proxy is a registry); cached under .tools/.
  await ensureGoModuleCrds();
  validator = createValidator();
  console.log(`[knative] schemas:\n  ${describeSources(validator).replaceAll('\n', '\n  ')}`);
});

afterAll(() => {
  console.log(`[knative] tools and commands:\n  ${toolLog.join('\n  ')}\n  (${Date.now() - started} ms)`);
});

const kustomize = tryTool(() => ensureGoTool(goTools.kustomize));

function build(dir: string): string {
  if (!('tool' in kustomize)) throw new Error('kustomize unavailable');
  const result = run(kustomize.tool, ['build', dir]);
  if (result.status !== 0) throw new Error(`kustomize build ${dir} failed:\n${result.stderr}`);
  return result.stdout;
}

describe('source of truth → generated files', () => {
  it('the checked-in base, overlays and canary example are exactly what knative/generate.ts writes', () => {
    const stale = staleFiles();
    expect(stale, 'run `npx tsx knative/generate.ts` and commit the result').toEqual([]);
  });

  it('notices a hand edit to a generated file (the up-to-date check can fail)', () => {
    const files = renderAll(spec);
    const edited = new Map(files);
    const path = 'base/services/hold-seat.yaml';
    edited.set(path, files.get(path)!.replace('max-scale: "40"', 'max-scale: "41"'));
    // staleFiles compares the given rendering with disk; an edited rendering must differ from disk.
    expect(staleFiles(edited)).toContain(path);
  });

  it('has a Service for every function and trigger, and a source for every trigger', () => {
    expect(Object.keys(spec.services).sort()).toEqual([...functions, ...triggers].sort());
    for (const t of triggers) expect(spec.services[t]!.ping ?? spec.services[t]!.kafka, t).toBeDefined();
    expect(spec.services['release-seat']!.kafka!.topics).toEqual([
      'reservation.expired',
      'reservation.cancelled',
    ]);
    expect(spec.services.notify!.kafka!.topics.sort()).toEqual(
      ['reservation.created', 'payment.completed', 'queue.activated', 'reservation.expired'].sort(),
    );
  });

  it('every autoscaling annotation and containerConcurrency comes from autoscaling.yaml', () => {
    for (const env of [undefined, ...environmentNames]) {
      for (const name of Object.keys(spec.services)) {
        const r = resolve(spec, name, env);
        const svc = knativeService(r);
        const a = svc.spec.template.metadata.annotations;
        expect(a[annotation.maxScale]).toBe(String(r.autoscaling.maxScale));
        expect(a[annotation.minScale]).toBe(String(r.autoscaling.minScale));
        expect(a[annotation.target]).toBe(String(r.autoscaling.target));
        expect(svc.spec.template.spec.containerConcurrency).toBe(r.autoscaling.containerConcurrency);
        expect(Object.keys(a).sort()).toEqual(Object.values(annotation).sort());
      }
    }
  });

  it('refuses a source of truth that breaks the rules, listing every problem', () => {
    const text = readFileSync(join(repoRoot, 'knative/autoscaling.yaml'), 'utf8');
    const broken = parse(text);
    broken.services['hold-seat'].autoscaling.maxScale = 1;
    broken.services['hold-seat'].autoscaling.minScale = 3;
    broken.services.pay.autoscaling.metric = 'cpu';
    broken.services.notify.kafka.ordering = 'sorted';
    broken.environments.prod.imageTag = 'latest';
    let error: unknown;
    try {
      parseSpec(stringify(broken));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SpecError);
    const problems = (error as SpecError).problems.join('\n');
    expect(problems).toMatch(/ordering/);
    expect(problems).toMatch(/latest/);
    broken.services.notify.kafka.ordering = 'ordered';
    broken.environments.prod.imageTag = 'main';
    expect(() => parseSpec(stringify(broken))).toThrow(/maxScale 1 < minScale 3[\s\S]*metric cpu/);
  });
});

describe.skipIf(!('tool' in kustomize))('kustomize overlays', () => {
  const rendered = new Map<string, Manifest[]>();

  beforeAll(() => {
    for (const env of environmentNames) rendered.set(env, parseManifests(build(`knative/overlays/${env}`)));
  });

  it.each(environmentNames)(
    '%s renders every Service, source and config, all valid (strict schema + admission)',
    (env) => {
      const docs = rendered.get(env)!;
      const count = (kind: string) => docs.filter((d) => d.kind === kind).length;
      expect(count('Service')).toBe(12);
      expect(count('HTTPRoute')).toBe(1);
      expect(count('PingSource')).toBe(3);
      expect(count('KafkaSource')).toBe(2);
      expect(count('KafkaSink')).toBe(0);
      expect(count('ConfigMap')).toBe(1);
      // One SecretStore and ExternalSecret per function, one pair for the pre-rollout Jobs.
      expect(count('ExternalSecret')).toBe(12);
      expect(count('SecretStore')).toBe(12);
      expect(count('Job')).toBe(2);
      expect(count('Secret')).toBe(1);
      expect(validateAll(docs, validator)).toEqual([]);
      console.log(`[knative] ${env}: ${docs.length} manifests valid`);
    },
  );

  it.each(environmentNames)('%s: namespace, pinned registry images, values of that environment', (env) => {
    const e = spec.environments[env]!;
    for (const doc of rendered.get(env)!) {
      expect(doc.metadata.namespace, `${doc.kind}/${doc.metadata.name}`).toBe(e.namespace);
      if (doc.kind !== 'Service') continue;
      const name = doc.metadata.name as string;
      const r = resolve(spec, name, env);
      const template = doc.spec.template;
      expect(template.spec.containers[0].image).toBe(`${e.registry}/${r.image}:${e.imageTag}`);
      expect(template.metadata.annotations[annotation.maxScale]).toBe(String(r.autoscaling.maxScale));
      expect(template.metadata.annotations[annotation.minScale]).toBe(String(r.autoscaling.minScale));
      expect(template.spec.containerConcurrency).toBe(r.autoscaling.containerConcurrency);
      expect(template.spec.containers[0].resources).toEqual(r.resources);
      // The hashed ConfigMap name was rewritten into the Service (kustomizeconfig.yaml).
      expect(template.spec.containers[0].envFrom[0].configMapRef.name).toMatch(
        /^concert-config-[a-z0-9]{10}$/,
      );
    }
  });

  it('the environments differ where autoscaling.yaml says (dev small, prod warm on the hot path)', () => {
    const scale = (env: string, name: string) =>
      rendered.get(env)!.find((d) => d.kind === 'Service' && d.metadata.name === name)!.spec.template.metadata
        .annotations as Record<string, string>;
    expect(scale('dev', 'enter-queue')[annotation.maxScale]).toBe('2');
    expect(scale('prod', 'enter-queue')[annotation.maxScale]).toBe('50');
    expect(Number(scale('prod', 'enter-queue')[annotation.minScale])).toBeGreaterThan(0);
    expect(scale('dev', 'hold-seat')[annotation.minScale]).toBe('0');
  });

  it('every env var a Service sets is a setting shared/config.ts knows, and none is reserved', () => {
    const known = new Set(Object.keys(configSchema.shape));
    for (const doc of rendered.get('prod')!) {
      if (doc.kind === 'ConfigMap') for (const k of Object.keys(doc.data)) expect(known, k).toContain(k);
      if (doc.kind !== 'Service') continue;
      for (const env of doc.spec.template.spec.containers[0].env) expect(known, env.name).toContain(env.name);
    }
  });

  it('sources point at their trigger Service, KafkaSources at the environment brokers', () => {
    for (const env of environmentNames) {
      const docs = rendered.get(env)!;
      const services = new Set(docs.filter((d) => d.kind === 'Service').map((d) => d.metadata.name));
      for (const doc of docs.filter((d) => d.kind === 'PingSource' || d.kind === 'KafkaSource')) {
        expect(services).toContain(doc.spec.sink.ref.name);
        if (doc.kind === 'KafkaSource') {
          expect(doc.spec.bootstrapServers).toEqual(spec.environments[env]!.kafkaBootstrapServers);
          expect(doc.spec.delivery.deadLetterSink.ref.kind).toBe('Service');
          expect(services).toContain(doc.spec.delivery.deadLetterSink.ref.name);
        }
      }
    }
  });

  it('the deploy workflow path works: kustomize edit set image pins a digest, canary.ts splits traffic', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'knative-'));
    try {
      cpSync(join(repoRoot, 'knative'), join(tmp, 'knative'), { recursive: true });
      const digest = `sha256:${'a'.repeat(64)}`;
      const image = `${spec.environments.prod!.registry}/hold-seat@${digest}`;
      const edit = run(
        'tool' in kustomize ? kustomize.tool : 'kustomize',
        ['edit', 'set', 'image', `concert/hold-seat=${image}`],
        {
          cwd: join(tmp, 'knative/overlays/prod'),
        },
      );
      expect(edit.status, edit.stderr).toBe(0);
      const docs = parseManifests(build(join(tmp, 'knative/overlays/prod')));
      const svc = docs.find((d) => d.kind === 'Service' && d.metadata.name === 'hold-seat')!;
      expect(svc.spec.template.spec.containers[0].image).toBe(image);
      const canary = run(
        'npx',
        [
          'tsx',
          'knative/canary.ts',
          '--service',
          'hold-seat',
          '--candidate',
          'abc1234',
          '--stable',
          'hold-seat-0000001',
          '--percent',
          '10',
        ],
        { input: stringify(svc) },
      );
      expect(canary.status, canary.stderr).toBe(0);
      const split = parseManifests(canary.stdout);
      expect(validateAll(split, validator)).toEqual([]);
      expect(split[0]!.spec.traffic).toEqual([
        { revisionName: 'hold-seat-0000001', percent: 90, tag: 'stable' },
        { revisionName: 'hold-seat-abc1234', percent: 10, tag: 'canary' },
      ]);
      expect(split[0]!.spec.template.metadata.name).toBe('hold-seat-abc1234');
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});

describe('canary example', () => {
  it('splits 90/10 between the serving revision (stable) and the new one (canary), and is valid', () => {
    const docs = parseManifests(
      readFileSync(join(repoRoot, 'knative/examples/canary-hold-seat.yaml'), 'utf8'),
    );
    expect(docs).toHaveLength(1);
    expect(validateAll(docs, validator)).toEqual([]);
    const traffic = docs[0]!.spec.traffic as { percent: number; tag: string }[];
    expect(traffic.map((t) => [t.tag, t.percent])).toEqual([
      ['stable', 90],
      ['canary', 10],
    ]);
  });

  it('promote and rollback produce valid traffic; bad plans are refused', () => {
    const svc = knativeService(resolve(spec, 'pay', 'prod'));
    svc.spec.template.spec.containers[0]!.image = 'registry.example/pay:1.0.0';
    const promoted = splitTraffic(svc, { candidate: 'abc1234', promote: true });
    const rolledBack = splitTraffic(svc, { rollback: 'pay-0000001' });
    expect(validateAll([promoted, rolledBack], validator)).toEqual([]);
    expect(() => splitTraffic(svc, { candidate: 'abc', stable: 'pay-1', percent: 100 })).toThrow(/1\.\.99/);
    expect(() => splitTraffic(svc, { rollback: 'hold-seat-1' })).toThrow(/not a revision/);
  });
});

// ---------------------------------------------------------------------------------------------------
// The validator must fail on broken input: one mutation per rule, each must be reported.

function prodService(name = 'hold-seat'): Manifest {
  const svc = knativeService(resolve(spec, name, 'prod')) as Manifest;
  svc.metadata.namespace = 'concert';
  svc.spec.template.spec.containers[0].image = `registry.example/${name}:1.2.3`;
  return svc;
}

function source(kind: 'KafkaSource' | 'PingSource'): Manifest {
  const files = renderAll(spec);
  const path = kind === 'KafkaSource' ? 'base/sources/release-seat.yaml' : 'base/sources/expire-holds.yaml';
  return parseManifests(files.get(path)!)[0]!;
}

/** Fails (never skips) where a check needs the strict CRD schema and only the models package is here. */
function requireCrdSchema(doc: Manifest): void {
  const key = `${doc.apiVersion}/${doc.kind}`;
  const source = validator.sources[key];
  const why = source?.kind === 'missing' ? source.message : `run \`${fetchCommand}\` for its CRD file`;
  expect(source?.kind, `${key} has no strict CRD schema here: ${why}`).toBe('crd');
}

type Mutation = [string, () => Manifest, RegExp];
const ann = (doc: Manifest) => doc.spec.template.metadata.annotations as Record<string, string>;

const mutations: Mutation[] = [
  [
    'unknown top-level spec field',
    () => Object.assign(prodService(), { spec: { ...prodService().spec, replicas: 3 } }),
    /unknown field "replicas"/,
  ],
  [
    'unknown container field',
    () => {
      const d = prodService();
      d.spec.template.spec.containers[0].imagePullPolcy = 'Always';
      return d;
    },
    /unknown field "imagePullPolcy"/,
  ],
  [
    'unknown probe field',
    () => {
      const d = prodService();
      d.spec.template.spec.containers[0].readinessProbe.httpGet.paht = '/x';
      return d;
    },
    /unknown field "paht"/,
  ],
  [
    'unknown metadata field',
    () => {
      const d = prodService();
      d.metadata.lables = {};
      return d;
    },
    /unknown field "lables"/,
  ],
  [
    'wrong type',
    () => {
      const d = prodService();
      d.spec.template.spec.containerConcurrency = '40';
      return d;
    },
    /containerConcurrency: must be integer/,
  ],
  [
    'containerConcurrency above 1000',
    () => {
      const d = prodService();
      d.spec.template.spec.containerConcurrency = 1001;
      return d;
    },
    /containerConcurrency: 1001 outside 0..1000/,
  ],
  [
    'class not kpa/hpa',
    () => {
      const d = prodService();
      ann(d)[annotation.class] = 'xpa.autoscaling.knative.dev';
      return d;
    },
    /class: xpa/,
  ],
  [
    'metric not allowed for kpa',
    () => {
      const d = prodService();
      ann(d)[annotation.metric] = 'cpu';
      return d;
    },
    /metric: cpu is not one of concurrency\|rps/,
  ],
  [
    'metric not allowed for hpa',
    () => {
      const d = prodService();
      ann(d)[annotation.class] = 'hpa.autoscaling.knative.dev';
      ann(d)[annotation.metric] = 'rps';
      return d;
    },
    /metric: rps is not one of cpu\|memory/,
  ],
  [
    'target zero',
    () => {
      const d = prodService();
      ann(d)[annotation.target] = '0';
      return d;
    },
    /target: 0 should be at least 0.01/,
  ],
  [
    'utilization above 100',
    () => {
      const d = prodService();
      ann(d)[annotation.targetUtilizationPercentage] = '120';
      return d;
    },
    /outside 1..100/,
  ],
  [
    'min above max',
    () => {
      const d = prodService();
      ann(d)[annotation.minScale] = '50';
      return d;
    },
    /max-scale 40 is less than min-scale 50/,
  ],
  [
    'negative initial scale',
    () => {
      const d = prodService();
      ann(d)[annotation.initialScale] = '-1';
      return d;
    },
    /initial-scale: -1 is not an integer/,
  ],
  [
    'retention not a duration',
    () => {
      const d = prodService();
      ann(d)[annotation.scaleToZeroPodRetentionPeriod] = 'PT10M';
      return d;
    },
    /not a duration/,
  ],
  [
    'typo in an autoscaling key',
    () => {
      const d = prodService();
      ann(d)['autoscaling.knative.dev/max-scael'] = '3';
      return d;
    },
    /unknown annotation/,
  ],
  [
    'reserved env PORT',
    () => {
      const d = prodService();
      d.spec.template.spec.containers[0].env.push({ name: 'PORT', value: '9000' });
      return d;
    },
    /PORT is reserved/,
  ],
  [
    'reserved port',
    () => {
      const d = prodService();
      d.spec.template.spec.containers[0].ports[0].containerPort = 8012;
      return d;
    },
    /8012 is reserved/,
  ],
  [
    'readiness on the wrong path',
    () => {
      const d = prodService();
      d.spec.template.spec.containers[0].readinessProbe.httpGet.path = '/healthz';
      return d;
    },
    /must GET \/readyz/,
  ],
  [
    'no liveness probe',
    () => {
      const d = prodService();
      delete d.spec.template.spec.containers[0].livenessProbe;
      return d;
    },
    /livenessProbe: missing/,
  ],
  [
    'image :latest',
    () => {
      const d = prodService();
      d.spec.template.spec.containers[0].image = 'registry.example/x:latest';
      return d;
    },
    /pinned/,
  ],
  [
    'no memory limit',
    () => {
      const d = prodService();
      delete d.spec.template.spec.containers[0].resources.limits.memory;
      return d;
    },
    /limits.memory: required/,
  ],
  [
    'traffic not adding to 100',
    () => {
      const d = splitTraffic(prodService(), { candidate: 'b', stable: 'hold-seat-a', percent: 10 });
      d.spec.traffic![0].percent = 80;
      return d;
    },
    /add up to 90/,
  ],
  [
    'traffic to another service',
    () => splitTraffic(prodService(), { candidate: 'b', stable: 'pay-a', percent: 10 }),
    /not a revision of hold-seat/,
  ],
  [
    'duplicate traffic tag',
    () => {
      const d = splitTraffic(prodService(), { candidate: 'b', stable: 'hold-seat-a', percent: 10 });
      d.spec.traffic![1].tag = 'stable';
      return d;
    },
    /duplicate tag/,
  ],
  [
    'KafkaSource ordering',
    () => {
      const d = source('KafkaSource');
      d.spec.ordering = 'fifo';
      return d;
    },
    /ordering: fifo/,
  ],
  [
    'KafkaSource initialOffset',
    () => {
      const d = source('KafkaSource');
      d.spec.initialOffset = 'newest';
      return d;
    },
    /initialOffset: newest/,
  ],
  [
    'KafkaSource backoffPolicy',
    () => {
      const d = source('KafkaSource');
      d.spec.delivery.backoffPolicy = 'fibonacci';
      return d;
    },
    /backoffPolicy: fibonacci/,
  ],
  [
    'KafkaSource backoffDelay not ISO-8601',
    () => {
      const d = source('KafkaSource');
      d.spec.delivery.backoffDelay = '500ms';
      return d;
    },
    /backoffDelay: 500ms is not an ISO-8601/,
  ],
  [
    'KafkaSource unknown field',
    () => {
      const d = source('KafkaSource');
      d.spec.orderingMode = 'ordered';
      return d;
    },
    /unknown field "orderingMode"/,
  ],
  [
    'KafkaSource without topics',
    () => {
      const d = source('KafkaSource');
      delete d.spec.topics;
      return d;
    },
    /must have required property 'topics'/,
  ],
  [
    'PingSource 6-field cron',
    () => {
      const d = source('PingSource');
      d.spec.schedule = '*/10 * * * * *';
      return d;
    },
    /expected 5 fields/,
  ],
  [
    'PingSource @every',
    () => {
      const d = source('PingSource');
      d.spec.schedule = '@every 10s';
      return d;
    },
    /@every/,
  ],
  [
    'PingSource minute 60',
    () => {
      const d = source('PingSource');
      d.spec.schedule = '60 * * * *';
      return d;
    },
    /minute: 60 outside 0-59/,
  ],
  [
    'PingSource data not JSON',
    () => {
      const d = source('PingSource');
      d.spec.data = '{job:';
      return d;
    },
    /not a JSON object/,
  ],
  [
    'PingSource without sink',
    () => {
      const d = source('PingSource');
      delete d.spec.sink;
      return d;
    },
    /sink: required/,
  ],
  [
    'unknown kind',
    () => ({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' }, spec: {} }),
    /no schema for apps\/v1\/Deployment/,
  ],
];

describe('the validator rejects broken manifests', () => {
  it('the unmodified inputs are valid (so each failure below is the mutation)', () => {
    expect(validateAll([prodService(), source('KafkaSource'), source('PingSource')], validator)).toEqual([]);
  });

  it.each(mutations)('%s', (_, make, expected) => {
    const doc = make();
    const problems = validateAll([doc], validator).join('\n');
    // The models package lets unknown fields through: say what is missing rather than a bare mismatch.
    if (!expected.test(problems)) requireCrdSchema(doc);
    expect(problems).toMatch(expected);
  });

  it('the CLI exits non-zero on a broken file and zero on a good one', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'knative-validate-'));
    try {
      const bad = prodService();
      ann(bad)[annotation.minScale] = '99';
      writeFileSync(join(tmp, 'bad.yaml'), stringify(bad));
      writeFileSync(join(tmp, 'good.yaml'), stringify(prodService()));
      const failing = run('npx', ['tsx', 'knative/validate.ts', join(tmp, 'bad.yaml')]);
      expect(failing.status).toBe(1);
      expect(failing.stderr).toMatch(/min-scale 99/);
      expect(run('npx', ['tsx', 'knative/validate.ts', join(tmp, 'good.yaml')]).status).toBe(0);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('strict mode is open only where the CRDs say x-kubernetes-preserve-unknown-fields', () => {
    requireCrdSchema(prodService());
    const open = validator.openPaths['serving.knative.dev/v1/Service']!;
    expect(open).toContain('.spec.template.metadata');
    expect(open).not.toContain('.spec.template.spec.containers[]');
    const svc = prodService();
    svc.spec.template.metadata.somethingNew = 'kept';
    expect(validateAll([svc], validator)).toEqual([]);
  });

  it('cron, Go and ISO-8601 duration parsers accept and refuse what Knative does', () => {
    for (const ok of [
      '* * * * *',
      '*/5 0-23/2 1,15 JAN-jun mon-fri',
      '@hourly',
      'CRON_TZ=Asia/Seoul 0 9 * * *',
    ]) {
      expect(checkCron(ok), ok).toEqual([]);
    }
    for (const bad of [
      '* * * *',
      '0 24 * * *',
      '0 0 0 * *',
      '0 0 * 13 *',
      '0 0 * * 7',
      '5-1 * * * *',
      '*/0 * * * *',
      '@every 1m',
    ]) {
      expect(checkCron(bad), bad).not.toEqual([]);
    }
    expect(parseGoDuration('1m30s')).toBe(90_000);
    expect(parseGoDuration('0s')).toBe(0);
    expect(parseGoDuration('10')).toBeUndefined();
    expect(parseGoDuration('PT1M')).toBeUndefined();
    for (const ok of ['PT0.5S', 'PT2S', 'P1D', 'PT1H30M']) expect(isIsoDuration(ok), ok).toBe(true);
    for (const bad of ['P', 'PT', '2s', 'PT-1S', 'P1H']) expect(isIsoDuration(bad), bad).toBe(false);
    expect(checkAutoscalingAnnotations({ [annotation.maxScale]: '0', [annotation.minScale]: '5' })).toEqual(
      [],
    );
  });
});

describe('where the schemas come from', () => {
  it('without CRD files, Service and PingSource use @kubernetes-models/knative and KafkaSource names the fetch command', () => {
    const empty = mkdtempSync(join(tmpdir(), 'knative-no-crds-'));
    try {
      const loose = createValidator({ crdDirs: [empty] });
      expect(loose.sources['serving.knative.dev/v1/Service']).toEqual({
        kind: 'package',
        name: '@kubernetes-models/knative',
      });
      expect(loose.sources['sources.knative.dev/v1/PingSource']?.kind).toBe('package');
      expect(validateAll([prodService(), source('PingSource')], loose)).toEqual([]);
      const wrongType = prodService();
      wrongType.spec.template.spec.containerConcurrency = '40';
      wrongType.metadata.lables = {};
      const problems = validateAll([wrongType], loose).join('\n');
      expect(problems).toMatch(/containerConcurrency: must be integer/);
      expect(problems).toMatch(/unknown field "lables"/);
      const kafka = validateAll([source('KafkaSource')], loose).join('\n');
      expect(kafka).toContain(`run \`${fetchCommand}\``);
      expect(kafka).toContain(empty);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('Jobs, Secrets and ConfigMaps are checked strictly against the OpenAPI of the Kubernetes minor EKS runs', () => {
    const eksMinor = /variable "kubernetes_version"[^}]*default\s*=\s*"([\d.]+)"/.exec(
      readFileSync(join(repoRoot, 'terraform/modules/eks/variables.tf'), 'utf8'),
    )?.[1];
    for (const key of ['batch/v1/Job', 'v1/Secret', 'v1/ConfigMap']) {
      const source = validator.sources[key];
      expect(source?.kind, `${key}: ${JSON.stringify(source)}`).toBe('openapi');
      expect(source?.kind === 'openapi' && source.path).toContain(`kubernetes-v${eksMinor}.`);
    }
    const files = renderAll(spec);
    const core = ['base/jobs/jobs.yaml', 'base/jobs/secrets.yaml', 'base/sources/kafka-auth.yaml'].flatMap(
      (path) => parseManifests(files.get(path) ?? ''),
    );
    const job = core.find((d) => d.kind === 'Job')!;
    const secret = core.find((d) => d.kind === 'Secret')!;
    expect(job && secret).toBeTruthy();
    expect(validateAll(core, validator)).toEqual([]);
    const configMap = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'concert-config' },
      data: { A: '1' },
    };
    expect(validateAll([configMap], validator)).toEqual([]);

    const broken: [Manifest, RegExp][] = [];
    const typoSpec = structuredClone(job);
    typoSpec.spec.bakoffLimit = 3;
    broken.push([typoSpec, /unknown field "bakoffLimit"/]);
    const typoContainer = structuredClone(job);
    typoContainer.spec.template.spec.containers[0].imagePullPolcy = 'Always';
    broken.push([typoContainer, /unknown field "imagePullPolcy"/]);
    const wrongType = structuredClone(job);
    wrongType.spec.backoffLimit = 'three';
    broken.push([wrongType, /backoffLimit: must be integer/]);
    broken.push([{ ...structuredClone(secret), stringdata: {} }, /unknown field "stringdata"/]);
    broken.push([{ ...configMap, data: { A: 1 } }, /data\/A: must be string/]);
    for (const [doc, problem] of broken) expect(validateAll([doc], validator).join('\n')).toMatch(problem);
  });

  it('a CRD file found in the search folders wins over the models package', () => {
    const dirs = crdSearchDirs();
    const served = validator.sources['serving.knative.dev/v1/Service'];
    if (findCrdFile('serving-service.yaml', dirs)) expect(served?.kind).toBe('crd');
    else expect(served?.kind).toBe('package');
  });
});

describe('generated file listing', () => {
  it('knative/base has one Service file per function and trigger', () => {
    const files = readdirSync(join(repoRoot, 'knative/base/services')).sort();
    expect(files).toEqual([...functions, ...triggers].map((n) => `${n}.yaml`).sort());
  });
});

// ---------------------------------------------------------------------------------------------------
// Observability: the PrometheusRule deployed beside the Services, and the Grafana dashboard. PromQL is
// parsed with Prometheus' own grammar (@prometheus-io/lezer-promql); metric names must exist.

interface PromqlParser {
  parse(text: string): {
    iterate(spec: {
      enter(node: {
        type: { isError: boolean };
        name: string;
        from: number;
        to: number;
        node: { parent: { name: string } | null };
      }): void;
    }): void;
  };
}
let promql: PromqlParser;

/** Metric names an expression uses, and whether it parses. */
function promqlNames(expr: string): { names: string[]; error: boolean } {
  const text = expr.replaceAll('$__rate_interval', '5m').replaceAll('$function', '.*');
  const names: string[] = [];
  let error = false;
  promql.parse(text).iterate({
    enter(n) {
      if (n.type.isError) error = true;
      if (n.name === 'Identifier' && n.node.parent?.name === 'VectorSelector')
        names.push(text.slice(n.from, n.to));
    },
  });
  return { names, error };
}

/** Every metric name the code registers (prom-client `name: '...'`), with histogram series names. */
function codeMetrics(): Set<string> {
  const names = new Set<string>();
  const walk = (dir: string) => {
    for (const e of readdirSync(join(repoRoot, dir), { withFileTypes: true })) {
      const rel = `${dir}/${e.name}`;
      if (e.isDirectory()) walk(rel);
      else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')) {
        const text = readFileSync(join(repoRoot, rel), 'utf8');
        if (!/new (Counter|Gauge|Histogram|Summary)\b/.test(text)) continue;
        for (const m of text.matchAll(/name: '([a-zA-Z_:][a-zA-Z0-9_:]*)'/g)) {
          for (const suffix of ['', '_bucket', '_sum', '_count']) names.add(m[1] + suffix);
        }
      }
    }
  };
  for (const dir of ['shared', 'functions', 'triggers']) walk(dir);
  return names;
}

const catalog = parse(readFileSync(join(repoRoot, 'observability/metrics-catalog.yaml'), 'utf8')) as {
  external: Record<string, { source: string; scrape_job?: string }>;
  pending: Record<string, unknown>;
};

function metricProblems(where: string, expr: string, known: Set<string>): string[] {
  if (!expr?.trim()) return [`${where}: empty expression`];
  const { names, error } = promqlNames(expr);
  const p = error ? [`${where}: PromQL does not parse: ${expr}`] : [];
  for (const name of names) if (!known.has(name)) p.push(`${where}: unknown metric ${name}`);
  return p;
}

// biome-ignore lint/suspicious/noExplicitAny: parsed YAML/JSON
type Doc = any;

function ruleProblems(doc: Doc, known: Set<string>): string[] {
  const p: string[] = [];
  if (doc.apiVersion !== 'monitoring.coreos.com/v1' || doc.kind !== 'PrometheusRule')
    p.push('not a monitoring.coreos.com/v1 PrometheusRule');
  for (const group of doc.spec?.groups ?? []) {
    for (const rule of group.rules ?? []) {
      const where = `${group.name}/${rule.alert ?? rule.record}`;
      p.push(...metricProblems(where, rule.expr, known));
      if (rule.alert) {
        if (!/^\d+[smh]$/.test(rule.for ?? '')) p.push(`${where}: needs for: (e.g. 5m)`);
        if (!['critical', 'warning'].includes(rule.labels?.severity))
          p.push(`${where}: severity label critical|warning`);
        if (!rule.annotations?.summary) p.push(`${where}: summary annotation`);
      }
    }
  }
  return p;
}

function dashboardProblems(dash: Doc, known: Set<string>): string[] {
  const p: string[] = [];
  const ids = new Set<number>();
  for (const panel of dash.panels ?? []) {
    if (ids.has(panel.id)) p.push(`panel id ${panel.id} repeated`);
    ids.add(panel.id);
    if (!panel.gridPos || panel.gridPos.x + panel.gridPos.w > 24) p.push(`${panel.title}: bad gridPos`);
    if (panel.type === 'row') continue;
    if (!(panel.targets?.length > 0)) p.push(`${panel.title}: no query`);
    for (const t of panel.targets ?? []) p.push(...metricProblems(panel.title, t.expr, known));
  }
  return p;
}

describe('observability', () => {
  let known: Set<string>;
  const rules = parse(readFileSync(join(repoRoot, 'observability/prometheus/rules.yaml'), 'utf8'));
  const dashboard = JSON.parse(
    readFileSync(join(repoRoot, 'observability/grafana/dashboards/concert.json'), 'utf8'),
  );

  beforeAll(async () => {
    const dir = ensureNpmTool(npmTools.lezerPromql);
    promql = ((await import(join(dir, 'dist/index.es.js'))) as { parser: PromqlParser }).parser;
    const code = codeMetrics();
    known = new Set([...code, ...Object.keys(catalog.external), ...Object.keys(catalog.pending)]);
    console.log(
      `[observability] metrics in code: ${[...code].filter((n) => !/_(bucket|sum|count)$/.test(n)).join(', ')}`,
    );
    const stillPending = Object.keys(catalog.pending).filter((n) => !code.has(n));
    if (stillPending.length > 0)
      console.warn(
        `[observability] pending (dashboard shows no data until the code exports them): ${stillPending.join(', ')}`,
      );
  });

  it('the PrometheusRule carries the ADR thresholds, each with for: and a severity; PromQL parses; metrics exist', () => {
    expect(ruleProblems(rules, known)).toEqual([]);
    const byName = Object.fromEntries(
      rules.spec.groups.flatMap((g: Doc) => g.rules).map((r: Doc) => [r.alert, r]),
    ) as Record<string, Doc>;
    const adr: [string, RegExp, string][] = [
      ['ApiLatencyHigh', /http_request_duration_seconds_bucket[\s\S]*> 3\s*$/, 'critical'],
      ['DbPoolSaturated', /db_pool_connections[\s\S]*> 0\.9\s*$/, 'critical'],
      ['KafkaConsumerLagHigh', /kafka_consumergroup_lag[\s\S]*> 10000\s*$/, 'critical'],
      ['RedisMemoryHigh', /redis_memory_used_bytes[\s\S]*> 0\.8\s*$/, 'critical'],
      ['ApiErrorRateHigh', /status=~"5\.\."[\s\S]*> 0\.05\s*$/, 'warning'],
      ['DiskIoWaitHigh', /node_disk_read_time_seconds_total[\s\S]*> 0\.05\s*$/, 'warning'],
      ['PodCpuHigh', /container_cpu_usage_seconds_total[\s\S]*> 0\.8\s*$/, 'warning'],
    ];
    for (const [alert, expr, severity] of adr) {
      expect(byName[alert]?.expr, alert).toMatch(expr);
      expect(byName[alert]?.labels.severity, alert).toBe(severity);
    }
    expect(byName.ApiLatencyHigh.for).toBe('5m');
  });

  it('docker-compose loads the same rule groups (rules.compose.yml is up to date)', () => {
    expect(readFileSync(join(repoRoot, 'observability/prometheus/rules.compose.yml'), 'utf8')).toBe(
      composeRules(),
    );
  });

  it('the dashboard covers the brief and queries only metrics that exist', () => {
    expect(dashboardProblems(dashboard, known)).toEqual([]);
    const used = new Set(
      dashboard.panels.flatMap((panel: Doc) =>
        (panel.targets ?? []).flatMap((t: Doc) => promqlNames(t.expr).names),
      ),
    );
    for (const name of [
      'http_requests_total',
      'http_request_duration_seconds_bucket',
      'db_pool_connections',
      'redis_commands_total',
      'kafka_consumergroup_lag',
      'seat_holds_total',
      'payments_total',
      'queue_waiting_users',
      'queue_active_users',
    ]) {
      expect(used, name).toContain(name);
    }
  });

  it('external metrics come from an exporter that compose Prometheus scrapes', () => {
    const prom = parse(readFileSync(join(repoRoot, 'observability/prometheus/prometheus.yml'), 'utf8'));
    const jobs = new Set((prom.scrape_configs as Doc[]).map((j) => j.job_name));
    for (const [name, source] of Object.entries(catalog.external)) {
      if (source.scrape_job) expect(jobs, name).toContain(source.scrape_job);
    }
  });

  it('rejects broken rules and panels (each check can fail)', () => {
    const bad = structuredClone(rules);
    bad.spec.groups[0].rules[0].expr =
      'histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket[5m]) > 3';
    delete bad.spec.groups[0].rules[1].for;
    bad.spec.groups[1].rules[0].labels.severity = 'page';
    bad.spec.groups[2].rules[0].expr = 'sum(kafka_consumer_lagg) > 10000';
    const problems = ruleProblems(bad, known).join('\n');
    expect(problems).toMatch(/ApiLatencyHigh: PromQL does not parse/);
    expect(problems).toMatch(/ApiErrorRateHigh: needs for:/);
    expect(problems).toMatch(/DbPoolSaturated: severity/);
    expect(problems).toMatch(/unknown metric kafka_consumer_lagg/);
    const badDash = structuredClone(dashboard);
    badDash.panels[1].targets[0].expr = 'sum(rate(http_request_total[5m]))';
    badDash.panels[2].id = badDash.panels[1].id;
    const dashProblems = dashboardProblems(badDash, known).join('\n');
    expect(dashProblems).toMatch(/unknown metric http_request_total/);
    expect(dashProblems).toMatch(/repeated/);
  });
});
