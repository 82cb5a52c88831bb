import { stringify } from 'yaml';
import {
  autoscalingAnnotations,
  baseConfig,
  baseEnvironment,
  configMapName,
  header,
  jobSecrets,
  jobsServiceAccount,
  kafkaAuth,
  kafkaBrokersEnvIndex,
  knativeService,
  placeholderBootstrap,
  preRolloutJobs,
  secretsOf,
  source,
  usesKafka,
} from './generate.ts';
import { httpRoute } from './router.ts';
import { type externalSecret, secretPathPrefix, type secretStore } from './secrets.ts';
import { type EnvironmentName, environmentNames, resolve, type Spec } from './spec.ts';

/**
 * The Helm chart (knative/helm/concert), written by knative/generate.ts from the same objects as the
 * kustomize base: each template is a generated manifest whose per-environment fields (the ones the
 * overlays patch, plus namespace, images, region and secret paths) are replaced by values. The values
 * files are rendered from knative/autoscaling.yaml, so `helm template -f values-<env>.yaml` and
 * `kustomize build knative/overlays/<env>` describe the same objects (tests/deploy/helm.test.ts).
 */

export const chartDir = 'helm/concert';
export const chartName = 'concert';
export const chartVersion = '0.1.0';
export const valuesFile = (env: EnvironmentName) => `values-${env}.yaml`;

/**
 * Go-template holes in a generated object: a marker string stands where a value goes, and is swapped for
 * the template action once the object is YAML text, so the objects stay those the kustomize base uses.
 */
class Holes {
  private readonly actions: { expr: string; whole: boolean }[] = [];

  /** The field becomes the value of `expr`, as JSON (valid YAML for scalars, lists and maps alike). */
  value(expr: string): string {
    return this.mark(expr, true);
  }

  /** `expr` printed inside a string. */
  text(expr: string): string {
    return this.mark(expr, false);
  }

  private mark(expr: string, whole: boolean): string {
    this.actions.push({ expr, whole });
    return `@@h${this.actions.length - 1}@@`;
  }

  /** YAML text → template text: literal braces (ExternalSecret templates) are escaped, markers filled. */
  fill(text: string): string {
    return text
      .replace(/\{\{|\}\}/g, (m) => `{{ "${m}" }}`)
      .replace(/(["']?)@@h(\d+)@@\1/g, (_match, quote: string, index: string) => {
        const action = this.actions[Number(index)]!;
        if (action.whole) {
          if (!quote) throw new Error(`hole ${index} (${action.expr}) is inside a string`);
          return `{{ ${action.expr} | toJson }}`;
        }
        return `${quote}{{ ${action.expr} }}${quote}`;
      });
  }
}

type Doc = {
  metadata: { name?: string; namespace?: string; labels?: Record<string, string> };
} & Record<string, unknown>;

const service = (name: string) => `(index $.Values.services ${JSON.stringify(name)})`;
const image = (name: string) => `include "concert.image" (list $ ${JSON.stringify(name)})`;
const configName = () => `printf "%s-%s" ${JSON.stringify(configMapName)} (include "concert.configHash" $)`;
const brokers = 'join "," $.Values.kafkaBootstrapServers';

/** What kustomize adds to every object: the environment's namespace and the two common labels. */
function placed(doc: Doc, holes: Holes): Doc {
  const { name, ...rest } = doc.metadata;
  return {
    ...doc,
    metadata: {
      name,
      namespace: holes.value('include "concert.namespace" $'),
      ...rest,
      labels: {
        ...rest.labels,
        'app.kubernetes.io/part-of': 'concert',
        'concert.dev/environment': holes.value(
          'required "set environment (use values-<env>.yaml)" $.Values.environment',
        ),
      },
    },
  };
}

/** Secrets Manager paths and the store's region come from the values, like the overlays' patches. */
function secretDocs(docs: ReturnType<typeof jobSecrets>, holes: Holes): Doc[] {
  const store = docs[0] as ReturnType<typeof secretStore>;
  const external = docs[1] as ReturnType<typeof externalSecret>;
  store.spec.provider.aws.region = holes.value('$.Values.region');
  const prefix = secretPathPrefix(baseEnvironment);
  for (const d of external.spec.data) {
    d.remoteRef.key = `${holes.text('$.Values.secretPathPrefix')}${d.remoteRef.key.slice(prefix.length)}`;
  }
  return [store, external] as unknown as Doc[];
}

/** Builds a template whose holes are made while the objects are built. */
function templateOf(build: (holes: Holes) => Doc[]): string {
  const holes = new Holes();
  const docs = build(holes).map((d) => placed(d, holes));
  const text = docs.map((d) => stringify(d, { lineWidth: 0, aliasDuplicateObjects: false })).join('---\n');
  return header + holes.fill(text);
}

function serviceTemplate(spec: Spec, name: string): string {
  return templateOf((holes) => {
    const r = resolve(spec, name);
    const svc = knativeService(r);
    const t = svc.spec.template;
    const c = t.spec.containers[0]!;
    (t.metadata as Record<string, unknown>).annotations = holes.value(`${service(name)}.annotations`);
    (t.spec as Record<string, unknown>).containerConcurrency = holes.value(
      `${service(name)}.containerConcurrency`,
    );
    (t.spec as Record<string, unknown>).timeoutSeconds = holes.value(`${service(name)}.timeoutSeconds`);
    (c as Record<string, unknown>).resources = holes.value(`${service(name)}.resources`);
    c.image = holes.value(image(r.image));
    c.env[2] = { name: 'DB_POOL_SIZE', value: holes.value(`${service(name)}.dbPoolSize | toString`) };
    if (usesKafka(r)) c.env[kafkaBrokersEnvIndex] = { name: 'KAFKA_BROKERS', value: holes.value(brokers) };
    c.envFrom = [{ configMapRef: { name: holes.value(configName()) } }];
    const docs: Doc[] = [svc];
    if (r.image === name) docs.push(...secretDocs(secretsOf(r, 'placeholder', baseEnvironment), holes));
    const src = source(r, placeholderBootstrap);
    if (src?.kind === 'KafkaSource') {
      (src.spec as Record<string, unknown>).bootstrapServers = holes.value('$.Values.kafkaBootstrapServers');
    }
    if (src) docs.push(src as unknown as Doc);
    return docs;
  });
}

function values(spec: Spec, env: EnvironmentName) {
  const e = spec.environments[env]!;
  const names = Object.keys(spec.services).sort();
  return {
    environment: env,
    namespace: e.namespace,
    region: e.region,
    secretPathPrefix: secretPathPrefix(env),
    kafkaBootstrapServers: e.kafkaBootstrapServers,
    registry: e.registry,
    imageTag: e.imageTag,
    config: Object.fromEntries(Object.entries(e.config).map(([k, v]) => [k, String(v)])),
    services: Object.fromEntries(
      names.map((name) => {
        const r = resolve(spec, name, env);
        return [
          name,
          {
            annotations: autoscalingAnnotations(r),
            containerConcurrency: r.autoscaling.containerConcurrency,
            timeoutSeconds: r.timeoutSeconds,
            resources: r.resources,
            dbPoolSize: r.dbPoolSize,
          },
        ];
      }),
    ),
  };
}

// A function, not a constant: generate.ts and this module import each other.
const helpers = () => `{{- /*
${header.replaceAll(/^# ?/gm, '')}*/ -}}
{{- define "concert.namespace" -}}
{{- required "set namespace (use values-<env>.yaml)" .Values.namespace -}}
{{- end -}}

{{- /* The ConfigMap's name changes with its data, so a config change rolls out as a new revision. */ -}}
{{- define "concert.configHash" -}}
{{- .Values.config | toJson | sha256sum | trunc 10 -}}
{{- end -}}

{{- /* registry/name:tag, or registry/name@digest once the deploy pins it (--set digests.<name>=sha256:...). */ -}}
{{- define "concert.image" -}}
{{- $root := index . 0 -}}
{{- $name := index . 1 -}}
{{- $registry := required "set registry (use values-<env>.yaml)" $root.Values.registry -}}
{{- $digest := index ($root.Values.digests | default dict) $name -}}
{{- if $digest -}}
{{- printf "%s/%s@%s" $registry $name $digest -}}
{{- else -}}
{{- printf "%s/%s:%s" $registry $name (required "set imageTag" $root.Values.imageTag) -}}
{{- end -}}
{{- end -}}
`;

/** Every chart file, path relative to knative/ → content. */
export function renderChart(spec: Spec): Map<string, string> {
  const files = new Map<string, string>();
  const at = (path: string, content: string) => files.set(`${chartDir}/${path}`, content);
  const yaml = (v: unknown) => header + stringify(v, { lineWidth: 0 });
  const names = Object.keys(spec.services).sort();
  const images = names.filter((name) => !spec.services[name]?.image);

  at(
    'Chart.yaml',
    yaml({
      apiVersion: 'v2',
      name: chartName,
      description: 'The concert functions and triggers on Knative, from knative/autoscaling.yaml',
      type: 'application',
      version: chartVersion,
      appVersion: chartVersion,
    }),
  );
  at(
    'values.yaml',
    yaml({
      // Set by values-<env>.yaml: environment, namespace, region, secretPathPrefix, registry, imageTag,
      // kafkaBootstrapServers, services.
      config: baseConfig,
      // Image digests by function, pinned by the deploy (--set digests.<name>=sha256:...); a tag otherwise.
      digests: Object.fromEntries(images.map((name) => [name, ''])),
    }),
  );
  for (const env of environmentNames) at(valuesFile(env), yaml(values(spec, env)));
  at('templates/_helpers.tpl', helpers());

  for (const name of names) at(`templates/services/${name}.yaml`, serviceTemplate(spec, name));
  at(
    'templates/config.yaml',
    templateOf((holes) => [
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: holes.value(configName()) },
        data: holes.value('$.Values.config'),
      },
    ]),
  );
  at(
    'templates/kafka-auth.yaml',
    templateOf(() => [kafkaAuth() as unknown as Doc]),
  );
  at(
    'templates/jobs.yaml',
    templateOf((holes) => {
      const jobs = preRolloutJobs(placeholderBootstrap);
      for (const job of jobs) {
        const c = job.spec.template.spec.containers[0]!;
        c.image = holes.value(image(jobsServiceAccount));
        const kafka = (c.env as { name: string; value?: unknown }[]).find((v) => v.name === 'KAFKA_BROKERS');
        if (kafka) kafka.value = holes.value(brokers);
      }
      return [
        ...secretDocs(jobSecrets('placeholder', baseEnvironment), holes),
        ...(jobs as unknown as Doc[]),
      ];
    }),
  );
  at(
    'templates/http-route.yaml',
    templateOf((holes) => [httpRoute(holes.text('include "concert.namespace" $')) as unknown as Doc]),
  );
  return files;
}
