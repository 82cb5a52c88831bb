import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Manifest } from '../../knative/validate.ts';
import { type FunctionName, keysOf, needs } from '../../shared/needs.ts';

/**
 * The links between layers, read from the files that hold them: the rendered manifests of one environment,
 * the Secrets Manager secrets terraform/modules/secrets writes (with the JSON properties of each), and the
 * IRSA roles (which service account in which namespace, reading which secrets). `wiringProblems` names
 * every broken link; it is pure, so a test can remove one link from a copy and see it named.
 */
export interface Wiring {
  environment: string;
  manifests: Manifest[];
  /** Secret short name → its JSON properties, or null for a plain-string secret. */
  secrets: Record<string, string[] | null>;
  /** Service account (= function) → the secrets its IRSA role may read. */
  roles: Record<string, string[]>;
  /** The namespace Terraform creates the service accounts in, for this environment. */
  namespace: string;
}

const terraformDir = new URL('../../terraform/', import.meta.url).pathname;
const read = (path: string) => readFileSync(join(terraformDir, path), 'utf8');

/** The body of the first `{ … }` block after `start` (braces balanced). */
function block(text: string, start: number): string {
  const open = text.indexOf('{', start);
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === '{') depth++;
    else if (text[i] === '}' && --depth === 0) return text.slice(open + 1, i);
  }
  throw new Error('unbalanced braces');
}

export function terraformSecrets(): Record<string, string[] | null> {
  const main = read('modules/secrets/main.tf');
  const variables = read('modules/secrets/variables.tf');
  const secrets: Record<string, string[] | null> = {};
  // Plain-string secrets: the keys of the `secrets` variable's default map.
  const secretsVar = block(variables, variables.indexOf('variable "secrets"'));
  const defaults = block(secretsVar, secretsVar.indexOf('default'));
  for (const m of defaults.matchAll(/^\s*([a-z0-9-]+)\s*=\s*\{/gm)) secrets[m[1]!] = null;
  // JSON secrets: a named aws_secretsmanager_secret and its version's jsonencode({ … }) keys.
  const names: Record<string, string> = {};
  for (const m of main.matchAll(/resource "aws_secretsmanager_secret" "(\w+)"/g)) {
    const name = /name\s*=\s*"\$\{var\.path_prefix\}\/([a-z0-9-]+)"/.exec(block(main, m.index))?.[1];
    if (name) names[m[1]!] = name;
  }
  for (const m of main.matchAll(/resource "aws_secretsmanager_secret_version" "(\w+)"/g)) {
    const body = block(main, m.index);
    const name = names[m[1]!];
    const at = body.indexOf('jsonencode(');
    if (!name || at < 0) continue;
    secrets[name] = [...block(body, at).matchAll(/^\s*([a-z_]+)\s*=/gm)].map((p) => p[1]!);
  }
  return secrets;
}

/** Every `name = { secrets = [ … ] }` entry of the functions map that the IRSA roles are made from. */
export function terraformRoles(): Record<string, string[]> {
  const roles: Record<string, string[]> = {};
  const modules = join(terraformDir, 'modules');
  for (const dir of readdirSync(modules)) {
    let text: string;
    try {
      text = read(`modules/${dir}/variables.tf`);
    } catch {
      continue;
    }
    for (const m of text.matchAll(/^\s*([a-z0-9-]+)\s*=\s*\{\s*secrets\s*=\s*\[([^\]]*)\]/gm)) {
      roles[m[1]!] = [...m[2]!.matchAll(/"([a-z0-9-]+)"/g)].map((s) => s[1]!);
    }
  }
  return roles;
}

/** functions_namespace as the environment's root sets it, else the platform module's default. */
export function terraformNamespace(environment: string): string {
  const envs = join(terraformDir, 'envs');
  for (const dir of readdirSync(envs).filter((d) => d === environment || d.startsWith(`${environment}-`))) {
    const set = /functions_namespace\s*=\s*"([^"]+)"/.exec(read(`envs/${dir}/main.tf`));
    if (set) return set[1]!;
  }
  const platform = read('modules/platform/variables.tf');
  return /default\s*=\s*"([^"]+)"/.exec(
    block(platform, platform.indexOf('variable "functions_namespace"')),
  )![1]!;
}

type Env = { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } };

export function wiringProblems(w: Wiring): string[] {
  const problems: string[] = [];
  const of = (kind: string) => w.manifests.filter((d) => d.kind === kind);
  const byName = (kind: string, name: string) => of(kind).find((d) => d.metadata.name === name);
  const prefix = `concert/${w.environment}/`;

  // Secret name → the keys an ExternalSecret writes into it.
  const synced = new Map<string, Set<string>>();
  for (const es of of('ExternalSecret')) {
    const id = `ExternalSecret/${es.metadata.name}`;
    const data = (es.spec.data ?? []) as {
      secretKey: string;
      remoteRef: { key: string; property?: string };
    }[];
    const defined = new Set(data.map((d) => d.secretKey));
    const templates = (es.spec.target?.template?.data ?? {}) as Record<string, string>;
    synced.set(es.spec.target?.name ?? es.metadata.name, new Set(Object.keys(templates)));
    for (const [key, template] of Object.entries(templates)) {
      for (const m of template.matchAll(/\{\{[^}]*?\.(\w+)/g)) {
        if (!defined.has(m[1]!)) problems.push(`${id}: ${key} uses .${m[1]} that no data entry reads`);
      }
    }
    const store = byName('SecretStore', es.spec.secretStoreRef?.name);
    if (!store) {
      problems.push(`${id}: SecretStore ${es.spec.secretStoreRef?.name} is not rendered`);
      continue;
    }
    const account = store.spec.provider?.aws?.auth?.jwt?.serviceAccountRef?.name as string | undefined;
    const role = account ? w.roles[account] : undefined;
    if (!role) problems.push(`${id}: service account ${account} has no IRSA role in Terraform`);
    for (const { secretKey, remoteRef } of data) {
      if (!remoteRef.key.startsWith(prefix)) {
        problems.push(`${id}: ${secretKey} reads ${remoteRef.key}, outside ${prefix}`);
        continue;
      }
      const short = remoteRef.key.slice(prefix.length);
      if (!(short in w.secrets)) {
        problems.push(`${id}: ${secretKey} reads ${short}, which terraform/modules/secrets does not create`);
        continue;
      }
      const properties = w.secrets[short];
      if (remoteRef.property && !properties?.includes(remoteRef.property)) {
        problems.push(
          `${id}: ${secretKey} reads ${short}.${remoteRef.property}, not a property Terraform writes`,
        );
      }
      if (!remoteRef.property && properties) problems.push(`${id}: ${secretKey} reads JSON ${short} whole`);
      if (role && !role.includes(short)) {
        problems.push(`${id}: the IRSA role of ${account} may not read ${short}`);
      }
    }
  }

  const provides = (where: string, env: Env[], key: string) => {
    const entry = env.find((e) => e.name === key);
    if (!entry) return problems.push(`${where}: ${key} is not set`);
    const ref = entry.valueFrom?.secretKeyRef;
    if (ref && !synced.get(ref.name)?.has(key)) {
      problems.push(`${where}: ${key} comes from Secret ${ref.name}, which no ExternalSecret fills with it`);
    }
    if (!ref && !entry.value) problems.push(`${where}: ${key} is empty`);
  };

  for (const name of Object.keys(needs) as FunctionName[]) {
    const svc = byName('Service', name);
    if (!svc) {
      problems.push(`Service/${name}: not rendered`);
      continue;
    }
    const spec = svc.spec.template.spec;
    const env = (spec.containers[0].env ?? []) as Env[];
    for (const { key } of keysOf(name)) provides(`Service/${name}`, env, key);
    if (!w.roles[spec.serviceAccountName]) {
      problems.push(`Service/${name}: service account ${spec.serviceAccountName} has no IRSA role`);
    }
  }

  for (const job of of('Job')) {
    const spec = job.spec.template.spec;
    if (!w.roles[spec.serviceAccountName]) {
      problems.push(`Job/${job.metadata.name}: service account ${spec.serviceAccountName} has no IRSA role`);
    }
    const env = (spec.containers[0].env ?? []) as Env[];
    for (const e of env) provides(`Job/${job.metadata.name}`, env, e.name);
  }

  const services = new Set(of('Service').map((d) => d.metadata.name as string));
  for (const src of [...of('PingSource'), ...of('KafkaSource')]) {
    const id = `${src.kind}/${src.metadata.name}`;
    const sinks = [src.spec.sink?.ref, src.spec.delivery?.deadLetterSink?.ref].filter(Boolean);
    for (const ref of sinks) {
      if (ref.kind !== 'Service' || !services.has(ref.name)) {
        problems.push(`${id}: sink ${ref.kind}/${ref.name} is not a rendered Service`);
      }
    }
    const auth = src.spec.net?.sasl?.type?.secretKeyRef?.name;
    if (auth && !byName('Secret', auth)) problems.push(`${id}: auth Secret ${auth} is not rendered`);
  }

  for (const doc of w.manifests) {
    if (doc.metadata.namespace !== w.namespace) {
      problems.push(
        `${doc.kind}/${doc.metadata.name}: namespace ${doc.metadata.namespace}, but Terraform puts the service accounts in ${w.namespace}`,
      );
    }
  }
  return problems;
}
