import { beforeAll, describe, expect, it } from 'vitest';
import { environmentNames } from '../../knative/spec.ts';
import { type Manifest, parseManifests } from '../../knative/validate.ts';
import { ensureGoTool, goTools, run, tryTool } from './knative-tools.ts';
import {
  terraformNamespace,
  terraformRoles,
  terraformSecrets,
  type Wiring,
  wiringProblems,
} from './wiring.ts';

/**
 * Layer to layer, offline: what each function's config needs is in its manifest; what its ExternalSecret
 * reads is what Terraform writes and what its IRSA role may read; every sink is a Service that exists;
 * the manifests land in the namespace whose service accounts Terraform binds to the roles.
 */
const kustomize = tryTool(() => ensureGoTool(goTools.kustomize));
const wiring = new Map<string, Wiring>();

beforeAll(() => {
  if (!('tool' in kustomize)) return;
  const secrets = terraformSecrets();
  const roles = terraformRoles();
  for (const environment of environmentNames) {
    const out = run(kustomize.tool, ['build', `knative/overlays/${environment}`]);
    if (out.status !== 0) throw new Error(out.stderr);
    wiring.set(environment, {
      environment,
      manifests: parseManifests(out.stdout),
      secrets,
      roles,
      namespace: terraformNamespace(environment),
    });
  }
});

const prod = () => structuredClone(wiring.get('prod')!);
const find = (w: Wiring, kind: string, name: string): Manifest =>
  w.manifests.find((d) => d.kind === kind && d.metadata.name === name)!;

describe.skipIf(!('tool' in kustomize))('wiring across layers', () => {
  it('reads the links it checks (so an empty parse cannot pass)', () => {
    const w = wiring.get('prod')!;
    expect(w.secrets['db-app']).toContain('read_host');
    expect(w.secrets['auth-jwt']).toBeNull();
    expect(w.roles.notify).toEqual(['db-app', 'notify-app']);
    expect(w.manifests.filter((d) => d.kind === 'ExternalSecret').length).toBeGreaterThan(10);
  });

  it.each(['prod', 'staging', 'dev'])('%s: every link holds', (env) => {
    expect(wiringProblems(wiring.get(env)!)).toEqual([]);
  });

  it('each function gets only its keys: notify has no token secrets, Redis or Kafka', () => {
    const env = find(wiring.get('prod')!, 'Service', 'notify').spec.template.spec.containers[0].env as {
      name: string;
    }[];
    const names = env.map((e) => e.name);
    expect(names).toEqual(
      expect.arrayContaining(['DATABASE_URL', 'NOTIFY_WEBHOOK_URL', 'NOTIFY_WEBHOOK_SECRET']),
    );
    for (const key of ['REDIS_URL', 'KAFKA_BROKERS', 'AUTH_JWT_SECRET', 'QUEUE_TOKEN_SECRET']) {
      expect(names).not.toContain(key);
    }
    const es = find(wiring.get('prod')!, 'ExternalSecret', 'hold-seat');
    expect(es.spec.target.template.data.DATABASE_URL).toMatch(/^mysql:\/\/.*\?ssl-mode=VERIFY_IDENTITY$/);
    expect(es.spec.target.template.data.REDIS_URL).toMatch(/^rediss:\/\/:\{\{ \.redisToken \}\}@/);
  });

  describe('fails when any one link is removed', () => {
    const cases: [string, (w: Wiring) => void, RegExp][] = [
      [
        'a variable the config requires leaves the Service',
        (w) => {
          const c = find(w, 'Service', 'hold-seat').spec.template.spec.containers[0];
          c.env = c.env.filter((e: { name: string }) => e.name !== 'QUEUE_TOKEN_SECRET');
        },
        /Service\/hold-seat: QUEUE_TOKEN_SECRET is not set/,
      ],
      [
        'the ExternalSecret stops templating a key the Service reads',
        (w) => delete find(w, 'ExternalSecret', 'pay').spec.target.template.data.REDIS_URL,
        /Service\/pay: REDIS_URL comes from Secret pay-secrets, which no ExternalSecret fills/,
      ],
      [
        'Terraform stops creating a secret',
        (w) => delete w.secrets['redis-app'],
        /reads redis-app, which terraform\/modules\/secrets does not create/,
      ],
      [
        'Terraform stops writing a property',
        (w) => {
          w.secrets['db-app'] = w.secrets['db-app']!.filter((p) => p !== 'read_host');
        },
        /ExternalSecret\/list-seats: dbReadHost reads db-app.read_host, not a property/,
      ],
      ['a role disappears', (w) => delete w.roles.notify, /service account notify has no IRSA role/],
      [
        'a dead-letter sink points at a Service that is not there',
        (w) => {
          w.manifests = w.manifests.filter(
            (d) => !(d.kind === 'Service' && d.metadata.name === 'outbox-relay'),
          );
        },
        /KafkaSource\/notify-kafka: sink Service\/outbox-relay is not a rendered Service/,
      ],
      [
        'the Kafka auth Secret is not rendered',
        (w) => {
          w.manifests = w.manifests.filter((d) => d.kind !== 'Secret');
        },
        /auth Secret concert-kafka-auth is not rendered/,
      ],
      [
        'the namespace differs from the one Terraform binds the roles in',
        (w) => {
          w.namespace = 'elsewhere';
        },
        /namespace concert, but Terraform puts the service accounts in elsewhere/,
      ],
      [
        'a Job reads a Secret no ExternalSecret fills',
        (w) => {
          w.manifests = w.manifests.filter(
            (d) => !(d.kind === 'ExternalSecret' && d.metadata.name === 'concert-jobs'),
          );
        },
        /Job\/concert-migrate: DATABASE_URL comes from Secret concert-jobs-secrets/,
      ],
    ];
    it.each(cases)('%s', (_name, mutate, expected) => {
      const w = prod();
      mutate(w);
      expect(wiringProblems(w).join('\n')).toMatch(expected);
    });

    it('an IRSA role loses a secret', () => {
      const w = prod();
      w.roles['enter-queue'] = w.roles['enter-queue']!.filter((s) => s !== 'queue-token');
      expect(wiringProblems(w).join('\n')).toMatch(
        /ExternalSecret\/enter-queue: .*the IRSA role of enter-queue may not read queue-token/,
      );
    });
  });
});
