import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { crdCacheDir, goModuleCrds } from '../../knative/crd-sources.ts';
import { ensureGoModuleCrds } from '../../knative/fetch-go-crds.ts';
import {
  clusterLocalHost,
  httpRoute,
  knativeLocalGateway,
  type RouteMatch,
  routeTable,
  type ServiceRoutes,
} from '../../knative/router.ts';
import { environmentNames, knativeDir, loadSpec, resolve } from '../../knative/spec.ts';
import { createValidator, type Manifest, validateAll } from '../../knative/validate.ts';
import { loadConfig } from '../../shared/config.ts';
import { createHttpApp } from '../../shared/http/create-http-app.ts';
import type { Mount } from '../../shared/serve.ts';
import { call, startTestServer, type TestServer } from '../support/embedded-server.ts';
import { testSecret } from '../support/harness.ts';
import { ensureGoTool, goTools, repoRoot, tryTool } from './knative-tools.ts';

/**
 * The public host: every operation of the generated OpenAPI document, sent through the generated HTTPRoute
 * with Gateway API's own matching rules, must land on the Knative Service whose app, built alone as its
 * container builds it, serves that operation.
 */

type HttpRouteRule = {
  name?: string;
  matches: {
    path: { type: string; value: string };
    method?: string;
    headers?: unknown[];
    queryParams?: unknown[];
  }[];
  filters: { type: string; urlRewrite?: { hostname?: string } }[];
  backendRefs: { name: string; namespace?: string; port: number }[];
};
type HttpRoute = Manifest & { spec: { rules: HttpRouteRule[] } };

/**
 * HTTPRoute match precedence as the Gateway API spec states it (HTTPRouteRule.matches in
 * sigs.k8s.io/gateway-api apis/v1/httproute_types.go, the same text as the CRD's description, which the
 * test below reads): across all rules, prefer "Exact" path match, then "Prefix" path match with the largest
 * number of characters, then a method match, then the largest number of header matches, then the largest
 * number of query param matches; ties within one HTTPRoute go to the FIRST matching rule in list order.
 * A PathPrefix matches element by element, and a trailing `/` in it is ignored.
 */
function pathMatches(match: { type: string; value: string }, path: string): boolean {
  if (match.type === 'Exact') return path === match.value;
  if (match.type === 'PathPrefix') {
    const prefix = match.value.replace(/\/+$/, '');
    return prefix === '' || path === prefix || path.startsWith(`${prefix}/`);
  }
  throw new Error(`path match ${match.type}: its precedence is implementation-specific, not used here`);
}

function route(rules: HttpRouteRule[], method: string, path: string): HttpRouteRule | undefined {
  const candidates = rules.flatMap((rule, order) =>
    rule.matches
      .filter((m) => pathMatches(m.path, path) && (!m.method || m.method === method))
      .map((m) => ({ rule, order, m })),
  );
  const rank = ({ m, order }: (typeof candidates)[number]) => [
    m.path.type === 'Exact' ? 1 : 0,
    m.path.type === 'PathPrefix' ? m.path.value.replace(/\/+$/, '').length : 0,
    m.method ? 1 : 0,
    m.headers?.length ?? 0,
    m.queryParams?.length ?? 0,
    -order,
  ];
  candidates.sort((a, b) => {
    const [ra, rb] = [rank(a), rank(b)];
    const i = ra.findIndex((v, k) => v !== rb[k]);
    return i === -1 ? 0 : rb[i]! - ra[i]!;
  });
  return candidates[0]?.rule;
}

/** The Knative Service a rule reaches: the host it rewrites to, through Kourier's internal gateway. */
function serviceOf(rule: HttpRouteRule, namespace: string): string {
  const host = rule.filters.find((f) => f.type === 'URLRewrite')?.urlRewrite?.hostname ?? '';
  const service = host.split('.')[0]!;
  expect(host).toBe(clusterLocalHost(service, namespace));
  expect(rule.backendRefs).toEqual([
    expect.objectContaining({
      name: knativeLocalGateway.name,
      namespace: knativeLocalGateway.namespace,
      port: knativeLocalGateway.port,
    }),
  ]);
  return service;
}

interface Operation {
  method: string;
  template: string;
  path: string;
}

const spec = loadSpec();
const devOnly = new Set(['POST /v1/dev/tokens']);
const readRoute = (env: string) =>
  parse(readFileSync(join(knativeDir, `overlays/${env}/http-route.yaml`), 'utf8')) as HttpRoute;

let server: TestServer;
let operations: Operation[];
const apps = new Map<string, ReturnType<typeof createHttpApp>>();

beforeAll(async () => {
  // External Secrets' CRDs for the validator, whichever deploy file runs first.
  await ensureGoModuleCrds();
  server = await startTestServer();
  const doc = (await call(server, 'GET', '/openapi.json')).body as { paths: Record<string, object> };
  operations = Object.entries(doc.paths).flatMap(([template, item]) =>
    Object.keys(item).map((method) => ({
      method: method.toUpperCase(),
      template,
      path: template.replaceAll(/\{[^}]+\}/g, '1'),
    })),
  );
  // Each routed Service's app, built from the code its image runs with the variables its manifest adds.
  for (const service of new Set(routeTable.map((r) => r.service))) {
    const r = resolve(spec, service);
    const { mount } = (await import(`../../functions/${r.image}/main.ts`)) as { mount: Mount };
    const config = loadConfig({ AUTH_JWT_SECRET: testSecret, LOG_LEVEL: 'silent', ...r.env });
    const routes = mount({ ...server.runtime, config });
    apps.set(
      service,
      createHttpApp({
        name: service,
        logger: server.runtime.logger,
        metrics: server.runtime.metrics,
        maxBodyBytes: config.MAX_BODY_BYTES,
        readiness: server.runtime.readiness,
        routes: Array.isArray(routes) ? routes : [routes],
      }),
    );
  }
});
afterAll(() => server?.close());

/** Whether the app has a route for it: anything but "no route" (404 naming no route) and 405. */
async function serves(service: string, { method, path }: Operation): Promise<boolean> {
  const app = apps.get(service);
  if (!app) return false;
  const res = await app.request(path, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(method === 'GET' || method === 'DELETE' ? {} : { body: '{}' }),
  });
  const body = await res.text();
  return res.status !== 405 && !(res.status === 404 && body.includes('No route for'));
}

async function misrouted(rules: HttpRouteRule[], namespace: string): Promise<string[]> {
  const wrong: string[] = [];
  for (const op of operations) {
    if (devOnly.has(`${op.method} ${op.template}`)) continue;
    const rule = route(rules, op.method, op.path);
    const service = rule ? serviceOf(rule, namespace) : undefined;
    if (!service || !(await serves(service, op))) {
      wrong.push(`${op.method} ${op.template} → ${service ?? 'no rule'}`);
    }
  }
  return wrong;
}

describe('the public HTTPRoute', () => {
  it('quotes the precedence this matcher implements from the CRD it is validated against', () => {
    const file = goModuleCrds.find((c) => c.kinds.includes('gateway.networking.k8s.io/v1/HTTPRoute'))!.file;
    const crd = readFileSync(join(crdCacheDir, file), 'utf8').replaceAll(/\s+/g, ' ');
    for (const rule of [
      '* "Exact" path match. * "Prefix" path match with largest number of characters. * Method match.',
      'precedence MUST be granted to the FIRST matching rule (in list order)',
      'The precedence of RegularExpression path matches are implementation-specific',
    ]) {
      expect(crd).toContain(rule);
    }
  });

  it.each(environmentNames)('%s: sends every OpenAPI operation to a Service that serves it', async (env) => {
    const namespace = spec.environments[env]!.namespace;
    const rules = readRoute(env).spec.rules;
    expect(operations.length).toBeGreaterThan(10);
    expect(await misrouted(rules, namespace)).toEqual([]);
    // Precedence, not the order of the list, decides: reversed rules route the same way.
    expect(await misrouted([...rules].reverse(), namespace)).toEqual([]);
  });

  it('pays at pay, holds at hold-seat, streams at queue-stream, and leaves dev tokens unrouted', () => {
    const rules = readRoute('prod').spec.rules;
    const at = (method: string, path: string) => {
      const rule = route(rules, method, path);
      return rule ? serviceOf(rule, 'concert') : undefined;
    };
    expect(at('POST', '/v1/reservations/42/payments')).toBe('pay');
    expect(at('POST', '/v1/reservations')).toBe('hold-seat');
    expect(at('GET', '/v1/reservations/42')).toBe('hold-seat');
    expect(at('DELETE', '/v1/reservations/42')).toBe('hold-seat');
    expect(at('GET', '/v1/queue/stream')).toBe('queue-stream');
    expect(at('GET', '/v1/queue/status')).toBe('enter-queue');
    expect(at('GET', '/v1/queuex')).toBeUndefined();
    expect(at('POST', '/v1/dev/tokens')).toBeUndefined();
  });

  it('catches a rule that sends an operation to a Service without it', async () => {
    const withoutPay: ServiceRoutes[] = routeTable.filter((r) => r.service !== 'pay');
    const broken = httpRoute('concert', withoutPay).spec.rules as HttpRouteRule[];
    expect(await misrouted(broken, 'concert')).toEqual(['POST /v1/reservations/{id}/payments → hold-seat']);
    const streamAtPolls = routeTable.map((r) =>
      r.service === 'queue-stream' ? { ...r, service: 'list-seats' } : r,
    );
    const wrong = httpRoute('concert', streamAtPolls).spec.rules as HttpRouteRule[];
    expect(await misrouted(wrong, 'concert')).toEqual(['GET /v1/queue/stream → list-seats']);
  });

  it('queue-stream serves only the stream; enter-queue still serves everything of the queue', async () => {
    const tokens = { method: 'POST', template: '/v1/queue/tokens', path: '/v1/queue/tokens' };
    const stream = { method: 'GET', template: '/v1/queue/stream', path: '/v1/queue/stream' };
    expect(await serves('queue-stream', stream)).toBe(true);
    expect(await serves('queue-stream', tokens)).toBe(false);
    expect(await serves('enter-queue', tokens)).toBe(true);
  });

  it('passes the upstream Gateway API schema made strict, which rejects what the spec does not define', () => {
    const validator = createValidator();
    for (const env of environmentNames) expect(validateAll([readRoute(env)], validator)).toEqual([]);
    for (const file of ['gateway/gateway.yaml', 'gateway/reference-grant.yaml']) {
      const doc = parse(readFileSync(join(knativeDir, file), 'utf8')) as Manifest;
      expect(validateAll([doc], validator)).toEqual([]);
    }
    const broken = readRoute('prod');
    broken.spec.rules[0]!.matches[0]!.path.type = 'Glob';
    (broken.spec.rules[1] as unknown as Record<string, unknown>).priority = 1;
    const problems = validateAll([broken], validator).join('\n');
    expect(problems).toMatch(/rules\/0\/matches\/0\/path\/type: must be equal to one of the allowed values/);
    expect(problems).toMatch(/unknown field "priority"/);
  });
});

/** Kept beside the route table: a match the generator writes is one of the kinds the matcher ranks. */
it('the route table uses only path matches whose precedence the spec defines', () => {
  const kinds = new Set(routeTable.flatMap((r) => r.matches.map((m: RouteMatch) => m.path.type)));
  expect([...kinds].every((k) => k === 'Exact' || k === 'PathPrefix')).toBe(true);
});

describe('queue-stream rollout', () => {
  const kustomize = tryTool(() => ensureGoTool(goTools.kustomize));

  it.skipIf(!('tool' in kustomize))(
    'deploying enter-queue also applies queue-stream, which runs its image',
    () => {
      if (!('tool' in kustomize)) return;
      const tmp = mkdtempSync(join(tmpdir(), 'router-deploy-'));
      try {
        const log = join(tmp, 'kubectl.log');
        const kubectl = join(tmp, 'kubectl');
        writeFileSync(kubectl, `#!/usr/bin/env bash\necho "$*" >> ${log}\n`);
        chmodSync(kubectl, 0o755);
        const digests = join(tmp, 'digests');
        mkdirSync(digests);
        const ref = `registry.invalid/concert/enter-queue@sha256:${'c'.repeat(64)}`;
        writeFileSync(join(digests, 'enter-queue'), `${ref}\n`);
        const result = spawnSync('bash', ['knative/deploy.sh', 'prod', digests], {
          cwd: repoRoot,
          env: {
            ...process.env,
            KUBECTL: kubectl,
            KUSTOMIZE: kustomize.tool,
            TSX: join(repoRoot, 'node_modules/.bin/tsx'),
          },
          encoding: 'utf8',
        });
        expect(result.status, result.stderr).toBe(0);
        const applies = readFileSync(log, 'utf8')
          .split('\n')
          .filter((c) => c.startsWith('apply'))
          .map((c) => c.replace(/-f \S+/, '-f X'));
        expect(applies).toContain(
          'apply -n concert -f X -l concert.dev/image=enter-queue,app.kubernetes.io/name!=enter-queue',
        );
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
    },
  );
});
