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
 * fetch it): External Secrets Operator, at the version the chart in terraform installs, and Gateway API.
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

const gatewayApi = { module: 'sigs.k8s.io/gateway-api', version: 'v1.6.3' };
/** The Gateway API router's kinds, from the standard channel. */
const gatewayCrd = (kind: string, plural: string, version = 'v1'): GoModuleCrd => ({
  file: `gateway.networking.k8s.io_${plural}.yaml`,
  kinds: [`gateway.networking.k8s.io/${version}/${kind}`],
  ...gatewayApi,
  path: `config/crd/standard/gateway.networking.k8s.io_${plural}.yaml`,
});

const karpenter = { module: 'github.com/aws/karpenter-provider-aws', version: 'v1.8.2' };

export const goModuleCrds: GoModuleCrd[] = [
  gatewayCrd('HTTPRoute', 'httproutes'),
  gatewayCrd('Gateway', 'gateways'),
  gatewayCrd('GatewayClass', 'gatewayclasses'),
  gatewayCrd('ReferenceGrant', 'referencegrants', 'v1beta1'),
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
  {
    file: 'karpenter.sh_nodepools.yaml',
    kinds: ['karpenter.sh/v1/NodePool'],
    ...karpenter,
    path: 'pkg/apis/crds/karpenter.sh_nodepools.yaml',
  },
  {
    file: 'karpenter.k8s.aws_ec2nodeclasses.yaml',
    kinds: ['karpenter.k8s.aws/v1/EC2NodeClass'],
    ...karpenter,
    path: 'pkg/apis/crds/karpenter.k8s.aws_ec2nodeclasses.yaml',
  },
];

/**
 * Core kinds (Job, Secret, ConfigMap) have no CRD: their schemas are the OpenAPI v3 documents a Kubernetes
 * release publishes under api/openapi-spec/v3, taken from the Kubernetes module at the minor EKS runs
 * (terraform/modules/eks `kubernetes_version`). Each kind is found by its `x-kubernetes-group-version-kind`.
 */
const kubernetes = { module: 'k8s.io/kubernetes', version: 'v1.33.6' };

export const coreOpenApiSources: GoModuleCrd[] = [
  {
    file: `kubernetes-${kubernetes.version}-api-v1.json`,
    kinds: ['v1/Secret', 'v1/ConfigMap'],
    ...kubernetes,
    path: 'api/openapi-spec/v3/api__v1_openapi.json',
  },
  {
    file: `kubernetes-${kubernetes.version}-apis-batch-v1.json`,
    kinds: ['batch/v1/Job'],
    ...kubernetes,
    path: 'api/openapi-spec/v3/apis__batch__v1_openapi.json',
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
