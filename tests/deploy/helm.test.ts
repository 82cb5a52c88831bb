import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureGoModuleCrds } from '../../knative/fetch-go-crds.ts';
import { renderAll, staleFiles } from '../../knative/generate.ts';
import { chartDir, valuesFile } from '../../knative/helm.ts';
import { type EnvironmentName, environmentNames, loadSpec } from '../../knative/spec.ts';
import {
  createValidator,
  type Manifest,
  parseManifests,
  type Validator,
  validateAll,
} from '../../knative/validate.ts';
import { ensureGoTool, goTools, repoRoot, run, toolLog, tryTool } from './knative-tools.ts';

/**
 * The Helm chart is the kustomize deployment in another form: for every environment `helm lint` is clean,
 * `helm template` renders exactly the objects `kustomize build knative/overlays/<env>` renders (field by
 * field, the ConfigMap's content hash aside), and each passes the strict validator. A drifted copy of the
 * chart must be caught.
 */

const spec = loadSpec();
const chart = join(repoRoot, 'knative', chartDir);
const helm = tryTool(() => ensureGoTool(goTools.helm));
const kustomize = tryTool(() => ensureGoTool(goTools.kustomize));
const tools =
  'tool' in helm && 'tool' in kustomize ? { helm: helm.tool, kustomize: kustomize.tool } : undefined;
let validator: Validator;

beforeAll(async () => {
  await ensureGoModuleCrds();
  validator = createValidator();
});

afterAll(() => {
  console.log(`[helm] tools and commands:\n  ${toolLog.join('\n  ')}`);
});

function helmTemplate(dir: string, env: EnvironmentName, extra: string[] = []): Manifest[] {
  const result = run(tools!.helm, ['template', 'concert', dir, '-f', join(dir, valuesFile(env)), ...extra]);
  if (result.status !== 0) throw new Error(`helm template (${env}) failed:\n${result.stderr}`);
  return parseManifests(result.stdout);
}

function kustomizeBuild(env: EnvironmentName): Manifest[] {
  const result = run(tools!.kustomize, ['build', `knative/overlays/${env}`]);
  if (result.status !== 0) throw new Error(`kustomize build ${env} failed:\n${result.stderr}`);
  return parseManifests(result.stdout);
}

/** Both tools name the ConfigMap after a hash of its data, each with its own hash. */
const unhashed = (doc: Manifest): Manifest =>
  JSON.parse(JSON.stringify(doc).replace(/"concert-config-[a-z0-9]{10}"/g, '"concert-config"'));

const keyOf = (d: Manifest) => `${d.kind}/${d.metadata?.namespace}/${d.metadata?.name}`;

function fieldDiffs(a: unknown, b: unknown, path: string, out: string[]): void {
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object') {
    if (Array.isArray(a) !== Array.isArray(b)) {
      out.push(`${path}: list vs map`);
      return;
    }
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) {
      fieldDiffs((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`, out);
    }
    return;
  }
  if (a !== b) out.push(`${path}: kustomize ${JSON.stringify(a)} ≠ helm ${JSON.stringify(b)}`);
}

/** Every difference between the two renderings: objects on one side only, then fields that differ. */
function differences(fromKustomize: Manifest[], fromHelm: Manifest[]): string[] {
  const k = new Map(fromKustomize.map(unhashed).map((d) => [keyOf(d), d]));
  const h = new Map(fromHelm.map(unhashed).map((d) => [keyOf(d), d]));
  const out: string[] = [];
  if (h.size !== fromHelm.length) out.push('helm renders an object twice');
  for (const key of k.keys()) if (!h.has(key)) out.push(`${key}: missing from the chart`);
  for (const key of h.keys()) if (!k.has(key)) out.push(`${key}: only in the chart`);
  for (const [key, doc] of k) if (h.has(key)) fieldDiffs(doc, h.get(key), key, out);
  return out;
}

describe('chart source of truth', () => {
  it('notices a hand edit to a chart file', () => {
    const files = renderAll(spec);
    const path = `${chartDir}/values-prod.yaml`;
    const edited = new Map(files);
    edited.set(path, `${files.get(path)}# edited\n`);
    expect(staleFiles(edited)).toContain(path);
  });
});

describe.skipIf(!tools)('helm chart against the kustomize overlays', () => {
  const kustomized = new Map<EnvironmentName, Manifest[]>();

  beforeAll(() => {
    for (const env of environmentNames) kustomized.set(env, kustomizeBuild(env));
  });

  it.each(environmentNames)('%s: helm lint --strict is clean', (env) => {
    const lint = run(tools!.helm, ['lint', chart, '--strict', '-f', join(chart, valuesFile(env))]);
    expect(lint.status, lint.stdout + lint.stderr).toBe(0);
    expect(lint.stdout).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
    expect(lint.stdout).not.toMatch(/\[(WARNING|ERROR)\]/);
  });

  it.each(environmentNames)('%s: helm template renders what kustomize builds, every object valid', (env) => {
    const docs = helmTemplate(chart, env);
    const fromKustomize = kustomized.get(env)!;
    expect(docs.length).toBe(fromKustomize.length);
    expect(differences(fromKustomize, docs)).toEqual([]);
    expect(validateAll(docs, validator)).toEqual([]);
    for (const d of docs) expect(d.metadata.namespace).toBe(spec.environments[env]!.namespace);
  });

  it('a digest set at deploy time pins that image, as `kustomize edit set image` does', () => {
    const digest = `sha256:${'b'.repeat(64)}`;
    const docs = helmTemplate(chart, 'prod', ['--set', `digests.enter-queue=${digest}`]);
    const image = (name: string) =>
      docs.find((d) => d.kind === 'Service' && d.metadata.name === name)!.spec.template.spec.containers[0]
        .image;
    const registry = spec.environments.prod!.registry;
    // queue-stream runs enter-queue's image, so it follows the same pin.
    expect(image('enter-queue')).toBe(`${registry}/enter-queue@${digest}`);
    expect(image('queue-stream')).toBe(`${registry}/enter-queue@${digest}`);
    expect(image('pay')).toBe(`${registry}/pay:${spec.environments.prod!.imageTag}`);
  });

  it('catches a drifted chart: an edited template, an edited value, a removed template', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'helm-'));
    try {
      const copy = join(tmp, 'concert');
      cpSync(chart, copy, { recursive: true });
      const pay = join(copy, 'templates/services/pay.yaml');
      writeFileSync(pay, readFileSync(pay, 'utf8').replace('path: /readyz', 'path: /ready'));
      const values = join(copy, valuesFile('prod'));
      writeFileSync(
        values,
        readFileSync(values, 'utf8').replace(
          /(hold-seat:\n\s+annotations:[\s\S]*?max-scale: )"(\d+)"/,
          (_m, head: string, n: string) => `${head}"${Number(n) + 1}"`,
        ),
      );
      rmSync(join(copy, 'templates/kafka-auth.yaml'));
      const found = differences(kustomized.get('prod')!, helmTemplate(copy, 'prod')).join('\n');
      expect(found).toMatch(/Service\/concert\/pay\.spec\.template\.spec\.containers\.0\.readinessProbe/);
      expect(found).toMatch(/Service\/concert\/hold-seat\.spec\.template\.metadata\.annotations/);
      expect(found).toMatch(/Secret\/concert\/concert-kafka-auth: missing from the chart/);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
