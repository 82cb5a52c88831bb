import { readFileSync } from 'node:fs';
import { parseAllDocuments, stringify } from 'yaml';

/**
 * Traffic for a Knative Service revision rollout, applied to rendered manifests:
 *
 *   kustomize build knative/overlays/prod | npx tsx knative/canary.ts --service hold-seat \
 *     --candidate <sha7> --stable hold-seat-<old> --percent 10 | kubectl apply -f -
 *   ... --candidate <sha7> --promote          (100% to the candidate, which is also the latest)
 *   ... --rollback hold-seat-<old>            (100% back to a named revision; the template is untouched)
 *
 * The new template gets an explicit revision name (`<service>-<candidate>`), so the split can name both
 * revisions in the same update that creates the new one: traffic never reaches it before the split holds.
 * Knative rejects a changed template under an existing revision name, so a re-run with another image
 * needs another candidate name.
 */

interface ServiceLike {
  kind?: string;
  metadata: { name: string; [k: string]: unknown };
  spec: {
    template: { metadata?: { name?: string; [k: string]: unknown }; [k: string]: unknown };
    traffic?: unknown[];
    [k: string]: unknown;
  };
  [k: string]: unknown;
}

export type TrafficPlan =
  | { candidate: string; stable: string; percent: number }
  | { candidate: string; promote: true }
  | { rollback: string };

export const revisionName = (service: string, candidate: string) => `${service}-${candidate}`;

export function splitTraffic<T extends object>(input: T, plan: TrafficPlan): T {
  const svc = input as unknown as ServiceLike;
  const name = svc.metadata.name;
  const out = structuredClone(svc);
  if ('rollback' in plan) {
    if (!plan.rollback.startsWith(`${name}-`))
      throw new Error(`${plan.rollback} is not a revision of ${name}`);
    out.spec.traffic = [{ revisionName: plan.rollback, percent: 100, tag: 'stable' }];
    return out as unknown as T;
  }
  const candidate = revisionName(name, plan.candidate);
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(candidate) || candidate.length > 63) {
    throw new Error(`revision name ${candidate} is not a DNS label of at most 63 characters`);
  }
  out.spec.template.metadata = { ...out.spec.template.metadata, name: candidate };
  if ('promote' in plan) {
    out.spec.traffic = [
      { revisionName: candidate, percent: 100, tag: 'stable' },
      { latestRevision: true, percent: 0, tag: 'latest' },
    ];
    return out as unknown as T;
  }
  if (!Number.isInteger(plan.percent) || plan.percent < 1 || plan.percent > 99) {
    throw new Error(`canary percent must be 1..99, got ${plan.percent}`);
  }
  if (plan.stable === candidate) throw new Error('stable and candidate are the same revision');
  out.spec.traffic = [
    { revisionName: plan.stable, percent: 100 - plan.percent, tag: 'stable' },
    { revisionName: candidate, percent: plan.percent, tag: 'canary' },
  ];
  return out as unknown as T;
}

function option(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
}

function main(argv: string[]): void {
  const service = option(argv, 'service');
  const candidate = option(argv, 'candidate');
  const rollback = option(argv, 'rollback');
  const stable = option(argv, 'stable');
  const percent = Number(option(argv, 'percent') ?? 10);
  if (!service || (!candidate && !rollback)) {
    console.error(
      'usage: canary.ts --service <name> (--candidate <suffix> (--stable <revision> [--percent 10] | --promote) | --rollback <revision>) < manifests.yaml',
    );
    process.exit(64);
  }
  let plan: TrafficPlan;
  if (rollback) plan = { rollback };
  else if (argv.includes('--promote')) plan = { candidate: candidate!, promote: true };
  else if (stable) plan = { candidate: candidate!, stable, percent };
  else {
    console.error('--stable <revision> is required for a split (or --promote)');
    process.exit(64);
  }
  const docs = parseAllDocuments(readFileSync(0, 'utf8')).map((d) => d.toJS() as ServiceLike);
  const svc = docs.find((d) => d?.kind === 'Service' && d.metadata?.name === service);
  if (!svc) {
    console.error(`no Knative Service ${service} in the input`);
    process.exit(65);
  }
  process.stdout.write(stringify(splitTraffic(svc, plan), { lineWidth: 0 }));
}

if (process.argv[1] && new URL(import.meta.url).pathname === process.argv[1]) main(process.argv.slice(2));
