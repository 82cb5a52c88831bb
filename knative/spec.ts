import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';

/**
 * The schema of knative/autoscaling.yaml, the one file operators edit, and how a service's values for one
 * environment are resolved (defaults, then the service, then the environment's `all`, then its entry for
 * the service). Range checks mirror Knative's admission rules so a bad edit fails at generation, before
 * any manifest exists; knative/validate.ts checks the rendered manifests again with the same rules.
 */
export const knativeDir = new URL('./', import.meta.url).pathname;
export const specPath = `${knativeDir}autoscaling.yaml`;

const goDuration = z
  .string()
  .regex(/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$|^0$/, 'a Go duration such as 0s, 90s, 10m');
const isoDuration = z
  .string()
  .regex(/^P(?!$)(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$/, 'an ISO-8601 duration');
const quantity = z.union([z.string(), z.number()]).transform(String);
const resourceList = z.strictObject({ cpu: quantity.optional(), memory: quantity.optional() });

const autoscaling = z.strictObject({
  class: z.enum(['kpa', 'hpa']),
  metric: z.enum(['concurrency', 'rps', 'cpu', 'memory']),
  target: z.number().min(0.01),
  targetUtilizationPercentage: z.number().min(1).max(100),
  minScale: z.number().int().min(0),
  maxScale: z.number().int().min(0),
  initialScale: z.number().int().min(0),
  scaleToZeroPodRetentionPeriod: goDuration,
  containerConcurrency: z.number().int().min(0).max(1000),
});
const resources = z.strictObject({ requests: resourceList, limits: resourceList });

const tunables = z.strictObject({
  autoscaling: autoscaling.partial().optional(),
  resources: resources.partial().optional(),
  timeoutSeconds: z.number().int().min(1).max(3600).optional(),
  dbPoolSize: z.number().int().min(1).max(500).optional(),
});

const ping = z.strictObject({
  schedule: z.string(),
  timezone: z.string().optional(),
  data: z.record(z.string(), z.unknown()).optional(),
});

const kafka = z.strictObject({
  topics: z.array(z.string().min(1)).min(1),
  consumerGroup: z.string().min(1),
  initialOffset: z.enum(['earliest', 'latest']),
  ordering: z.enum(['ordered', 'unordered']),
  delivery: z.strictObject({
    retry: z.number().int().min(0),
    backoffPolicy: z.enum(['exponential', 'linear']),
    backoffDelay: isoDuration,
    timeout: isoDuration.optional(),
  }),
});

const service = tunables.extend({
  kind: z.enum(['function', 'trigger']),
  description: z.string().min(1),
  /** Runs another function's image (same code, other settings) instead of its own. */
  image: z.string().optional(),
  /** Literal variables for this service only, after the shared ones. */
  env: z.record(z.string().regex(/^[A-Z][A-Z0-9_]*$/), z.string()).optional(),
  ping: ping.optional(),
  kafka: kafka.optional(),
});

const environment = z.strictObject({
  namespace: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/),
  /** AWS region of the environment's Secrets Manager (the functions' SecretStores). */
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/),
  registry: z.string().min(1),
  imageTag: z
    .string()
    .regex(/^[\w][\w.-]{0,127}$/)
    .refine((t) => t !== 'latest', 'pin a tag, not latest'),
  kafkaBootstrapServers: z.array(z.string().regex(/^[^:\s]+:\d+$/)).min(1),
  config: z.record(z.string(), z.string()),
  all: tunables,
  services: z.record(z.string(), tunables),
});

export const specSchema = z.strictObject({
  defaults: z.strictObject({
    autoscaling,
    resources,
    timeoutSeconds: z.number().int().min(1).max(3600),
    dbPoolSize: z.number().int().min(1).max(500),
  }),
  services: z.record(z.string().regex(/^[a-z][a-z0-9-]*$/), service),
  environments: z.record(z.enum(['dev', 'staging', 'prod']), environment),
});

export type Spec = z.infer<typeof specSchema>;
export type ServiceSpec = Spec['services'][string];
export type Environment = z.infer<typeof environment>;
export type Autoscaling = z.infer<typeof autoscaling>;
export type Resources = z.infer<typeof resources>;

export interface Resolved {
  name: string;
  kind: 'function' | 'trigger';
  description: string;
  image: string;
  env: Record<string, string>;
  autoscaling: Autoscaling;
  resources: Resources;
  timeoutSeconds: number;
  dbPoolSize: number;
  ping?: z.infer<typeof ping>;
  kafka?: z.infer<typeof kafka>;
}

export const environmentNames = ['dev', 'staging', 'prod'] as const;
export type EnvironmentName = (typeof environmentNames)[number];

export class SpecError extends Error {
  constructor(readonly problems: string[]) {
    super(`knative/autoscaling.yaml is invalid:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'SpecError';
  }
}

export function parseSpec(text: string): Spec {
  const parsed = specSchema.safeParse(parse(text));
  if (!parsed.success) {
    throw new SpecError(parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`));
  }
  const spec = parsed.data;
  const problems: string[] = [];
  for (const name of environmentNames) {
    if (!spec.environments[name]) problems.push(`environments.${name}: missing`);
    for (const service of Object.keys(spec.environments[name]?.services ?? {})) {
      if (!spec.services[service]) problems.push(`environments.${name}.services.${service}: no such service`);
    }
  }
  for (const [name, s] of Object.entries(spec.services)) {
    if (s.kind === 'trigger' && !s.ping === !s.kafka) {
      problems.push(`services.${name}: a trigger has exactly one of ping or kafka`);
    }
    if (s.kind === 'function' && (s.ping || s.kafka))
      problems.push(`services.${name}: a function has no source`);
    if (s.image && spec.services[s.image]?.image) {
      problems.push(`services.${name}: image ${s.image} is not a service with its own image`);
    } else if (s.image && !spec.services[s.image]) problems.push(`services.${name}: no service ${s.image}`);
    for (const env of [undefined, ...environmentNames]) {
      const r = resolve(spec, name, env);
      problems.push(
        ...checkAutoscaling(r.autoscaling).map((p) => `services.${name}${env ? ` (${env})` : ''}: ${p}`),
      );
    }
  }
  if (problems.length > 0) throw new SpecError(problems);
  return spec;
}

export function loadSpec(path = specPath): Spec {
  return parseSpec(readFileSync(path, 'utf8'));
}

/** The cross-field rules Knative enforces on the annotations, plus one of this project (target <= cc). */
export function checkAutoscaling(a: Autoscaling): string[] {
  const problems: string[] = [];
  const compatible = a.class === 'kpa' ? ['concurrency', 'rps'] : ['cpu', 'memory'];
  if (!compatible.includes(a.metric)) problems.push(`metric ${a.metric} does not work with class ${a.class}`);
  if (a.maxScale !== 0 && a.maxScale < a.minScale)
    problems.push(`maxScale ${a.maxScale} < minScale ${a.minScale}`);
  if (a.maxScale !== 0 && a.initialScale > a.maxScale) {
    problems.push(`initialScale ${a.initialScale} > maxScale ${a.maxScale}`);
  }
  if (a.class === 'hpa' && a.minScale < 1) problems.push('class hpa cannot scale to zero: minScale >= 1');
  if (a.metric === 'concurrency' && a.containerConcurrency > 0 && a.target > a.containerConcurrency) {
    problems.push(`target ${a.target} above containerConcurrency ${a.containerConcurrency} is never reached`);
  }
  return problems;
}

function merge<T extends object>(...layers: (Partial<T> | undefined)[]): T {
  return Object.assign({}, ...layers.filter(Boolean)) as T;
}

/** One service's values, for the base (env undefined) or for one environment. */
export function resolve(spec: Spec, name: string, env?: EnvironmentName): Resolved {
  const s = spec.services[name];
  if (!s) throw new Error(`no service ${name}`);
  const e = env ? spec.environments[env] : undefined;
  const layers = [s, e?.all, e?.services[name]];
  const d = spec.defaults;
  return {
    name,
    kind: s.kind,
    description: s.description,
    image: s.image ?? name,
    env: s.env ?? {},
    autoscaling: merge<Autoscaling>(d.autoscaling, ...layers.map((l) => l?.autoscaling)),
    resources: {
      requests: merge(d.resources.requests, ...layers.map((l) => l?.resources?.requests)),
      limits: merge(d.resources.limits, ...layers.map((l) => l?.resources?.limits)),
    },
    timeoutSeconds: layers.reduce((v, l) => l?.timeoutSeconds ?? v, d.timeoutSeconds),
    dbPoolSize: layers.reduce((v, l) => l?.dbPoolSize ?? v, d.dbPoolSize),
    ...(s.ping ? { ping: s.ping } : {}),
    ...(s.kafka ? { kafka: s.kafka } : {}),
  };
}
