import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type { GenerateAuthTokenFromCredentialOptions } from 'aws-msk-iam-sasl-signer-js';
import type { SASLOptions } from 'kafkajs';

export const kafkaSaslMechanisms = ['none', 'scram-sha-512', 'aws-msk-iam'] as const;
export type KafkaSaslMechanism = (typeof kafkaSaslMechanisms)[number];

/** How the client proves itself to the brokers and checks them: the KAFKA_SASL/KAFKA_TLS settings, resolved. */
export interface KafkaSecurity {
  tls: boolean;
  /** PEM file of the CA that signed the brokers' certificates; unset: Node's own trust store. */
  caFile?: string;
  sasl: KafkaSaslMechanism;
  username?: string;
  password?: string;
  /** The region MSK IAM tokens are signed for. */
  region?: string;
}

/** What kafkajs takes for a secured connection; empty for plaintext. */
export interface KafkaConnection {
  ssl?: ConnectionOptions | boolean;
  sasl?: SASLOptions;
}

type CredentialsProvider = GenerateAuthTokenFromCredentialOptions['awsCredentialsProvider'];

/**
 * MSK IAM tokens for one region. A token is a SigV4-presigned URL that stays valid for minutes, while
 * kafkajs asks for one on every connection and re-authentication: it is kept until shortly before it
 * expires, so a reconnect storm does not turn into a storm of credential refreshes.
 */
export function mskIamTokenProvider(options: {
  region: string;
  /** Default: the AWS SDK's chain (IRSA web identity in a pod, env keys, profile). */
  credentials?: CredentialsProvider;
  now?: () => number;
}): () => Promise<{ value: string }> {
  const now = options.now ?? Date.now;
  let cached: { token: string; expiryTime: number } | undefined;
  let pending: Promise<{ token: string; expiryTime: number }> | undefined;
  // Loaded on first use: the AWS SDK it brings is not evaluated by processes that never sign.
  const sign = async () => {
    const signer = await import('aws-msk-iam-sasl-signer-js');
    return options.credentials
      ? signer.generateAuthTokenFromCredentialsProvider({
          region: options.region,
          awsCredentialsProvider: options.credentials,
        })
      : signer.generateAuthToken({ region: options.region });
  };
  return async () => {
    if (cached && cached.expiryTime - now() > 60_000) return { value: cached.token };
    pending ??= sign().finally(() => {
      pending = undefined;
    });
    cached = await pending;
    return { value: cached.token };
  };
}

/** The region in MSK bootstrap host names (`…kafka.<region>.amazonaws.com`). */
export function regionFromBrokers(brokers: string): string | undefined {
  return /\.kafka\.([a-z0-9-]+)\.amazonaws\.com(?::\d+)?(?:,|$)/.exec(brokers)?.[1];
}

/**
 * The kafkajs connection settings for a resolved security setting. `oauthToken` replaces the MSK signer,
 * so tests can present a token their local broker accepts through the same path.
 */
export function kafkaConnection(
  security: KafkaSecurity,
  overrides: { oauthToken?: () => Promise<{ value: string }> } = {},
): KafkaConnection {
  const ssl = security.tls
    ? security.caFile
      ? { ca: [readFileSync(security.caFile, 'utf8')] }
      : true
    : undefined;
  switch (security.sasl) {
    case 'none':
      return ssl ? { ssl } : {};
    case 'scram-sha-512':
      return {
        ...(ssl ? { ssl } : {}),
        sasl: {
          mechanism: 'scram-sha-512',
          username: security.username ?? '',
          password: security.password ?? '',
        },
      };
    case 'aws-msk-iam':
      return {
        ...(ssl ? { ssl } : {}),
        sasl: {
          mechanism: 'oauthbearer',
          oauthBearerProvider: overrides.oauthToken ?? mskIamTokenProvider({ region: security.region ?? '' }),
        },
      };
  }
}

/** For logs and the start banner: how the connection is secured, never the secrets. */
export function describeKafkaSecurity(security: KafkaSecurity): string {
  const parts = [security.tls ? 'TLS' : 'plaintext'];
  if (security.sasl === 'scram-sha-512') parts.push(`SASL/SCRAM-SHA-512 as ${security.username}`);
  if (security.sasl === 'aws-msk-iam') parts.push(`SASL/OAUTHBEARER with MSK IAM (${security.region})`);
  return parts.join(', ');
}
