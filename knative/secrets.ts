import { type FunctionName, isFunctionName, keysOf } from '../shared/needs.ts';

/**
 * What reaches a function's environment from AWS Secrets Manager: one SecretStore per function that signs
 * in with the function's own service account (its IRSA role may read only its secrets), and one
 * ExternalSecret that templates exactly the variables shared/needs.ts lists for it. The secret names and
 * JSON properties are those terraform/modules/secrets writes.
 */

export const externalSecretsApi = 'external-secrets.io/v1';

/**
 * TLS on every database connection (RDS Proxy refuses plain ones), the certificate chain and host name
 * checked: the `ssl-mode` parameter as MySQL's own client names it, which shared/db/connect.ts reads.
 */
export const databaseTlsQuery = '?ssl-mode=VERIFY_IDENTITY';

/** One value read from Secrets Manager: the secret's short name (after `concert/<env>/`) and its JSON property. */
export interface RemoteValue {
  secret: string;
  property?: string;
}

export const remoteValues = {
  dbUser: { secret: 'db-app', property: 'username' },
  dbPassword: { secret: 'db-app', property: 'password' },
  dbHost: { secret: 'db-app', property: 'host' },
  dbPort: { secret: 'db-app', property: 'port' },
  dbName: { secret: 'db-app', property: 'dbname' },
  dbReadHost: { secret: 'db-app', property: 'read_host' },
  redisHost: { secret: 'redis-app', property: 'host' },
  redisPort: { secret: 'redis-app', property: 'port' },
  redisToken: { secret: 'redis-app', property: 'auth_token' },
  authJwt: { secret: 'auth-jwt' },
  queueToken: { secret: 'queue-token' },
  webhookUrl: { secret: 'notify-app', property: 'url' },
  webhookKey: { secret: 'notify-app', property: 'signing_key' },
} as const satisfies Record<string, RemoteValue>;

type RemoteName = keyof typeof remoteValues;

const v = (name: RemoteName) => `{{ .${name} }}`;
const database = (host: RemoteName) =>
  `mysql://${v('dbUser')}:${v('dbPassword')}@${v(host)}:${v('dbPort')}/${v('dbName')}${databaseTlsQuery}`;

/** Each secret variable as an ExternalSecret template over the remote values it names. */
export const secretTemplates: Record<string, { template: string; uses: RemoteName[] }> = {
  DATABASE_URL: {
    template: database('dbHost'),
    uses: ['dbUser', 'dbPassword', 'dbHost', 'dbPort', 'dbName'],
  },
  // Empty without a replica host, which the config reads as unset (reads then go to the primary).
  DATABASE_READ_URL: {
    template: `{{ if .dbReadHost }}${database('dbReadHost')}{{ end }}`,
    uses: ['dbUser', 'dbPassword', 'dbReadHost', 'dbPort', 'dbName'],
  },
  REDIS_URL: {
    template: `rediss://:${v('redisToken')}@${v('redisHost')}:${v('redisPort')}`,
    uses: ['redisToken', 'redisHost', 'redisPort'],
  },
  AUTH_JWT_SECRET: { template: v('authJwt'), uses: ['authJwt'] },
  QUEUE_TOKEN_SECRET: { template: v('queueToken'), uses: ['queueToken'] },
  NOTIFY_WEBHOOK_URL: { template: v('webhookUrl'), uses: ['webhookUrl'] },
  NOTIFY_WEBHOOK_SECRET: { template: v('webhookKey'), uses: ['webhookKey'] },
};

/** Variables that are addresses, not credentials: literals in the manifest, set per environment. */
export const literalKeys = new Set(['KAFKA_BROKERS']);

export const targetSecretName = (owner: string) => `${owner}-secrets`;
export const secretPathPrefix = (environment: string) => `concert/${environment}`;

/** The functions' secret variables, split into what the ExternalSecret templates and what stays literal. */
export function secretKeysOf(name: string): string[] {
  if (!isFunctionName(name)) throw new Error(`${name}: not in shared/needs.ts`);
  return keysOf(name as FunctionName)
    .map((k) => k.key)
    .filter((key) => !literalKeys.has(key));
}

export function secretStore(
  name: string,
  serviceAccount: string,
  region: string,
  labels: Record<string, string>,
) {
  return {
    apiVersion: externalSecretsApi,
    kind: 'SecretStore',
    metadata: { name, labels },
    spec: {
      provider: {
        aws: {
          service: 'SecretsManager',
          region,
          // The token of this service account is exchanged for its IRSA role, not the operator's.
          auth: { jwt: { serviceAccountRef: { name: serviceAccount } } },
        },
      },
    },
  };
}

export function remoteData(keys: string[], environment: string) {
  const names = [...new Set(keys.flatMap((key) => secretTemplates[key]?.uses ?? []))].sort();
  return names.map((secretKey) => {
    const remote: RemoteValue = remoteValues[secretKey];
    return {
      secretKey,
      remoteRef: {
        key: `${secretPathPrefix(environment)}/${remote.secret}`,
        ...(remote.property ? { property: remote.property } : {}),
      },
    };
  });
}

export function externalSecret(
  name: string,
  store: string,
  keys: string[],
  environment: string,
  labels: Record<string, string>,
) {
  return {
    apiVersion: externalSecretsApi,
    kind: 'ExternalSecret',
    metadata: { name, labels },
    spec: {
      refreshInterval: '1h',
      secretStoreRef: { kind: 'SecretStore', name: store },
      target: {
        name: targetSecretName(name),
        creationPolicy: 'Owner',
        template: {
          engineVersion: 'v2',
          data: Object.fromEntries(
            keys.map((key) => {
              const t = secretTemplates[key];
              if (!t) throw new Error(`${key}: no ExternalSecret template`);
              return [key, t.template];
            }),
          ),
        },
      },
      data: remoteData(keys, environment),
    },
  };
}
