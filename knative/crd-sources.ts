import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Where the Knative schemas come from. The strict check needs each CRD's own `openAPIV3Schema`, as the
 * upstream projects publish it at a pinned commit; no npm package ships those files. They are looked up in
 * `$KNATIVE_CRDS_DIR`, then in a cache inside the repository that `npm run knative:crds` fills. Serving
 * and PingSource also have models in `@kubernetes-models/knative`, used when no CRD file is at hand.
 */

export interface CrdSource {
  file: string;
  /** `group/version/Kind` keys this CRD defines, known before the file is read. */
  kinds: string[];
  /** Pinned upstream copy: a commit, so the schema does not move under the tests. */
  url: string;
}

const raw = 'https://raw.githubusercontent.com';

export const crdSources: CrdSource[] = [
  {
    file: 'serving-service.yaml',
    kinds: ['serving.knative.dev/v1/Service'],
    url: `${raw}/knative/serving/98e5ef90aa7033797aa0a61ef97f3ff7e49a3944/config/core/300-resources/service.yaml`,
  },
  {
    file: 'eventing-pingsource.yaml',
    kinds: ['sources.knative.dev/v1/PingSource', 'sources.knative.dev/v1beta2/PingSource'],
    url: `${raw}/knative/eventing/8cf4c4b673034020f5ecab731fb6a2a7f9350244/config/core/resources/pingsource.yaml`,
  },
  {
    file: 'kafka-source.yaml',
    kinds: ['sources.knative.dev/v1/KafkaSource', 'sources.knative.dev/v1beta1/KafkaSource'],
    url: `${raw}/knative-extensions/eventing-kafka-broker/7d8fe89f4b5ef86c0b59ccf82613ec9ce1118438/control-plane/config/eventing-kafka-broker/100-source/100-kafka-source.yaml`,
  },
];

/**
 * CRDs taken from a Go module's release as the Go module proxy serves its zip (a registry, reachable where
 * GitHub is not; the proxy here serves the zip but not the version's metadata, so `go mod download` cannot
 * fetch it): External Secrets Operator, at the version the chart in terraform installs.
 */
export interface GoModuleCrd {
  file: string;
  kinds: string[];
  module: string;
  version: string;
  /** Path of the CRD inside the module. */
  path: string;
}

const eso = { module: 'github.com/external-secrets/external-secrets', version: 'v1.0.0' };

export const goModuleCrds: GoModuleCrd[] = [
  {
    file: 'external-secrets.io_externalsecrets.yaml',
    kinds: ['external-secrets.io/v1/ExternalSecret'],
    ...eso,
    path: 'config/crds/bases/external-secrets.io_externalsecrets.yaml',
  },
  {
    file: 'external-secrets.io_secretstores.yaml',
    kinds: ['external-secrets.io/v1/SecretStore'],
    ...eso,
    path: 'config/crds/bases/external-secrets.io_secretstores.yaml',
  },
];

export const repoRoot = new URL('../', import.meta.url).pathname;

/** Filled by `npm run knative:crds`; ignored by git like the other fetched tools. */
export const crdCacheDir = join(repoRoot, '.tools', 'knative-crds');

export const fetchCommand = 'npm run knative:crds';

/** The folders searched for CRD files, most explicit first. */
export function crdSearchDirs(env: NodeJS.ProcessEnv = process.env): string[] {
  const dirs: string[] = [];
  if (env.KNATIVE_CRDS_DIR) dirs.push(env.KNATIVE_CRDS_DIR);
  dirs.push(crdCacheDir);
  return dirs;
}

export function findCrdFile(file: string, dirs: string[]): string | undefined {
  return dirs.map((dir) => join(dir, file)).find((path) => existsSync(path));
}

export function missingCrdMessage(source: CrdSource, dirs: string[]): string {
  return (
    `no CRD schema for ${source.kinds.join(' / ')}: ${source.file} is in none of ${dirs.join(', ')}; ` +
    `run \`${fetchCommand}\` or set KNATIVE_CRDS_DIR to a folder that has it`
  );
}

/**
 * CRDs that ship inside a Go module: the Go module proxy serves the module's whole tree at a pinned version
 * (checked against the checksum database), so no download site is needed. The Gateway API router's kinds
 * come from the standard channel of sigs.k8s.io/gateway-api.
 */
export interface GoModuleCrdSource {
  module: string;
  version: string;
  /** Path inside the module. */
  file: string;
  kinds: string[];
}

const gatewayApi = { module: 'sigs.k8s.io/gateway-api', version: 'v1.6.3' };
export const goModuleCrdSources: GoModuleCrdSource[] = [
  {
    ...gatewayApi,
    file: 'config/crd/standard/gateway.networking.k8s.io_httproutes.yaml',
    kinds: ['gateway.networking.k8s.io/v1/HTTPRoute'],
  },
  {
    ...gatewayApi,
    file: 'config/crd/standard/gateway.networking.k8s.io_referencegrants.yaml',
    kinds: ['gateway.networking.k8s.io/v1beta1/ReferenceGrant'],
  },
  {
    ...gatewayApi,
    file: 'config/crd/standard/gateway.networking.k8s.io_gateways.yaml',
    kinds: ['gateway.networking.k8s.io/v1/Gateway'],
  },
];

/** A module cache inside the repository's ignored tools folder, so nothing outside the checkout changes. */
export const goModCacheDir = join(repoRoot, '.tools', 'gomod');

const moduleDirs = new Map<string, string | { error: string }>();

/** The module's unpacked tree (downloaded once by `go mod download`), or why it cannot be had. */
export function goModuleDir(module: string, version: string): string | { error: string } {
  const key = `${module}@${version}`;
  const known = moduleDirs.get(key);
  if (known) return known;
  const result = spawnSync('go', ['mod', 'download', '-json', key], {
    encoding: 'utf8',
    cwd: repoRoot,
    env: { ...process.env, GOMODCACHE: goModCacheDir, GOFLAGS: '-modcacherw', GO111MODULE: 'on' },
    timeout: 5 * 60_000,
  });
  let found: string | { error: string };
  if (result.error || result.status !== 0) {
    found = { error: `go mod download ${key} failed: ${result.error?.message ?? result.stderr.trim()}` };
  } else {
    const dir = (JSON.parse(result.stdout) as { Dir?: string }).Dir;
    found = dir && existsSync(dir) ? dir : { error: `go mod download ${key} gave no module directory` };
  }
  moduleDirs.set(key, found);
  return found;
}
