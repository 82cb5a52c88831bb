/**
 * The one public host: a Gateway API HTTPRoute that sends each path to the Knative Service serving it.
 *
 * Knative routes by host name (`<service>.<namespace>.svc.cluster.local` inside the cluster), so each rule
 * rewrites the Host header to its Service's cluster-local name and forwards to Kourier's internal gateway,
 * which then routes, activates and scales as for any other request. Only core and extended Gateway API
 * matches are used (Exact, PathPrefix, method), whose precedence the spec fixes; no regular expressions,
 * whose order is left to each implementation. tests/deploy/router.test.ts walks every OpenAPI operation
 * through these rules with that precedence and checks each lands on a Service that serves it.
 */

export type PathMatch = { type: 'Exact' | 'PathPrefix'; value: string };
export interface RouteMatch {
  path: PathMatch;
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
}
export interface ServiceRoutes {
  service: string;
  matches: RouteMatch[];
}

/**
 * Which public paths each function owns. `POST /v1/reservations` (a hold) is the only POST of hold-seat under
 * that prefix, so an Exact match keeps it there while every other POST below it (a payment) goes to pay; the
 * route test fails as soon as a new operation lands on a Service that does not serve it.
 */
export const routeTable: ServiceRoutes[] = [
  { service: 'queue-stream', matches: [{ path: { type: 'Exact', value: '/v1/queue/stream' } }] },
  {
    service: 'enter-queue',
    matches: [
      { path: { type: 'PathPrefix', value: '/v1/queue' } },
      { path: { type: 'PathPrefix', value: '/v1/admin/queues' } },
    ],
  },
  {
    service: 'list-seats',
    matches: [
      { path: { type: 'PathPrefix', value: '/v1/concerts' } },
      { path: { type: 'PathPrefix', value: '/v1/schedules' } },
      { path: { type: 'PathPrefix', value: '/v1/admin/concerts' } },
    ],
  },
  {
    service: 'hold-seat',
    matches: [
      { path: { type: 'Exact', value: '/v1/reservations' } },
      { path: { type: 'PathPrefix', value: '/v1/reservations' } },
    ],
  },
  { service: 'pay', matches: [{ path: { type: 'PathPrefix', value: '/v1/reservations' }, method: 'POST' }] },
  { service: 'charge-points', matches: [{ path: { type: 'PathPrefix', value: '/v1/points' } }] },
  {
    // The pages: every path outside /v1 that a page or its assets use.
    service: 'web',
    matches: [
      { path: { type: 'Exact', value: '/' }, method: 'GET' },
      { path: { type: 'Exact', value: '/admin' }, method: 'GET' },
      { path: { type: 'PathPrefix', value: '/concerts' }, method: 'GET' },
      { path: { type: 'PathPrefix', value: '/reservations' }, method: 'GET' },
      { path: { type: 'PathPrefix', value: '/me' }, method: 'GET' },
      { path: { type: 'PathPrefix', value: '/assets' }, method: 'GET' },
    ],
  },
];

export const httpRouteName = 'concert-api';

/** The Gateway that owns the public listener (TLS, host name), installed with the platform. */
export const publicGateway = { name: 'concert-public', namespace: 'concert-gateway' };

/** Kourier's in-cluster entry (the Knative ingress the platform installs), which routes by Host. */
export const knativeLocalGateway = { name: 'kourier-internal', namespace: 'kourier-system', port: 80 };

export const clusterLocalHost = (service: string, namespace: string) =>
  `${service}.${namespace}.svc.cluster.local`;

export function httpRoute(namespace: string, table: ServiceRoutes[] = routeTable) {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: {
      name: httpRouteName,
      labels: { 'app.kubernetes.io/part-of': 'concert', 'app.kubernetes.io/component': 'router' },
    },
    spec: {
      parentRefs: [
        {
          group: 'gateway.networking.k8s.io',
          kind: 'Gateway',
          name: publicGateway.name,
          namespace: publicGateway.namespace,
        },
      ],
      rules: table.map(({ service, matches }) => ({
        name: service,
        matches: matches.map((m) => ({ path: m.path, ...(m.method ? { method: m.method } : {}) })),
        filters: [
          {
            type: 'URLRewrite',
            urlRewrite: { hostname: clusterLocalHost(service, namespace) },
          },
        ],
        backendRefs: [
          {
            group: '',
            kind: 'Service',
            name: knativeLocalGateway.name,
            namespace: knativeLocalGateway.namespace,
            port: knativeLocalGateway.port,
          },
        ],
        // The stream closes by itself after a few minutes; everything else answers well within a minute.
        timeouts: { request: service === 'queue-stream' ? '600s' : '60s' },
      })),
    },
  };
}

/**
 * A route may point at a Service in another namespace only where that namespace allows it: this grant, in
 * Kourier's namespace, lets the HTTPRoutes of the given namespaces reach its internal gateway and nothing else.
 */
export function referenceGrant(namespaces: string[]) {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1beta1',
    kind: 'ReferenceGrant',
    metadata: {
      name: 'concert-routes-to-knative',
      namespace: knativeLocalGateway.namespace,
      labels: { 'app.kubernetes.io/part-of': 'concert', 'app.kubernetes.io/component': 'router' },
    },
    spec: {
      from: [...new Set(namespaces)]
        .sort()
        .map((namespace) => ({ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace })),
      to: [{ group: '', kind: 'Service', name: knativeLocalGateway.name }],
    },
  };
}

/**
 * The public listener. Plain HTTP inside the VPC: the load balancer in front terminates TLS and forwards to
 * the gateway's pods. Only the namespaces Terraform creates for the functions (labelled part-of concert) may attach routes.
 */
export function gateway(gatewayClassName: string) {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'Gateway',
    metadata: {
      name: publicGateway.name,
      namespace: publicGateway.namespace,
      labels: { 'app.kubernetes.io/part-of': 'concert', 'app.kubernetes.io/component': 'router' },
    },
    spec: {
      gatewayClassName,
      listeners: [
        {
          name: 'http',
          protocol: 'HTTP',
          port: 80,
          allowedRoutes: {
            kinds: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute' }],
            namespaces: { from: 'Selector', selector: { matchLabels: { [apiNamespaceLabel]: 'concert' } } },
          },
        },
      ],
    },
  };
}

/** The label a namespace needs before its HTTPRoute may attach to the public Gateway. */
export const apiNamespaceLabel = 'app.kubernetes.io/part-of';
