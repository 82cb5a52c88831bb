import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../config.ts';
import { kafkaConnection, mskIamTokenProvider, regionFromBrokers } from './kafka-auth.ts';

const staticKeys = { accessKeyId: 'AKIAEXAMPLETESTKEY01', secretAccessKey: 'test-secret-not-a-real-key' };

const problemsOf = (env: Record<string, string>): string[] => {
  try {
    loadConfig(env);
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.problems;
  }
};

describe('MSK IAM token', () => {
  it('is a presigned kafka-cluster:Connect URL for the region, signed locally with the given keys', async () => {
    let asked = 0;
    const token = mskIamTokenProvider({
      region: 'eu-west-1',
      credentials: async () => {
        asked++;
        return staticKeys;
      },
    });
    const { value } = await token();
    const url = new URL(Buffer.from(value, 'base64url').toString('utf8'));
    expect(url.origin).toBe('https://kafka.eu-west-1.amazonaws.com');
    expect(url.searchParams.get('Action')).toBe('kafka-cluster:Connect');
    expect(url.searchParams.get('X-Amz-Algorithm')).toBe('AWS4-HMAC-SHA256');
    expect(url.searchParams.get('X-Amz-Credential')).toMatch(
      /^AKIAEXAMPLETESTKEY01\/\d{8}\/eu-west-1\/kafka-cluster\/aws4_request$/,
    );
    expect(Number(url.searchParams.get('X-Amz-Expires'))).toBeGreaterThan(0);
    expect(url.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
    expect(value).not.toMatch(/[+/=]/);
    // Reconnects reuse the token while it is fresh, so the credentials are not fetched again.
    expect((await token()).value).toBe(value);
    expect(asked).toBe(1);
  });

  it('is signed anew once the cached one is close to expiry', async () => {
    let clock = Date.now();
    let asked = 0;
    const token = mskIamTokenProvider({
      region: 'us-east-2',
      credentials: async () => {
        asked++;
        return staticKeys;
      },
      now: () => clock,
    });
    await token();
    clock += 15 * 60_000;
    await token();
    expect(asked).toBe(2);
  });
});

describe('Kafka security settings', () => {
  it('reads the region from MSK broker host names', () => {
    expect(regionFromBrokers('b-1.c.abc.c2.kafka.ap-northeast-2.amazonaws.com:9098,b-2.x:9098')).toBe(
      'ap-northeast-2',
    );
    expect(regionFromBrokers('127.0.0.1:9092')).toBeUndefined();
  });

  it('defaults to plaintext without SASL, and to TLS with MSK IAM', () => {
    expect(loadConfig({ KAFKA_BROKERS: 'k:9092' }).kafkaSecurity).toEqual({ tls: false, sasl: 'none' });
    const msk = loadConfig({
      KAFKA_BROKERS: 'b-1.c.abc.c2.kafka.eu-central-1.amazonaws.com:9098',
      KAFKA_SASL: 'aws-msk-iam',
    });
    expect(msk.kafkaSecurity).toEqual({ tls: true, sasl: 'aws-msk-iam', region: 'eu-central-1' });
    const connection = kafkaConnection(msk.kafkaSecurity);
    expect(connection.ssl).toBe(true);
    expect(connection.sasl?.mechanism).toBe('oauthbearer');
  });

  it('names each missing or contradicting variable', () => {
    expect(problemsOf({ KAFKA_BROKERS: 'k:9096', KAFKA_SASL: 'scram-sha-512' })).toEqual([
      'KAFKA_SASL_USERNAME: required with KAFKA_SASL=scram-sha-512',
      'KAFKA_SASL_PASSWORD: required with KAFKA_SASL=scram-sha-512',
    ]);
    expect(
      problemsOf({ KAFKA_BROKERS: 'k:9098', KAFKA_SASL: 'aws-msk-iam', KAFKA_TLS: 'false' }).map(
        (p) => p.split(':')[0],
      ),
    ).toEqual(['AWS_REGION', 'KAFKA_TLS']);
    expect(problemsOf({ KAFKA_BROKERS: 'k:9092', KAFKA_SASL_PASSWORD: 'secret-value' })).toEqual([
      'KAFKA_SASL_PASSWORD: used only with KAFKA_SASL=scram-sha-512',
    ]);
    expect(problemsOf({ KAFKA_BROKERS: 'k:9092', KAFKA_SASL: 'kerberos' })[0]).toMatch(/^KAFKA_SASL:/);
    expect(problemsOf({ KAFKA_BROKERS: 'k:9092', KAFKA_TLS_CA_FILE: '/nonexistent/ca.pem' })).toEqual([
      'KAFKA_TLS_CA_FILE: set, but TLS is off (KAFKA_TLS=false)',
    ]);
    expect(
      problemsOf({ KAFKA_BROKERS: 'k:9092', KAFKA_TLS: 'true', KAFKA_TLS_CA_FILE: '/nonexistent/ca.pem' }),
    ).toEqual(['KAFKA_TLS_CA_FILE: no file at /nonexistent/ca.pem']);
    expect(problemsOf({ AWS_REGION: 'Europe' })).toEqual([]);
    expect(problemsOf({ KAFKA_BROKERS: 'k:9098', KAFKA_SASL: 'aws-msk-iam', AWS_REGION: 'Europe' })).toEqual([
      'AWS_REGION: "Europe" is not an AWS region such as eu-west-1',
    ]);
  });

  it('never puts the SCRAM password in the description', async () => {
    const { describeKafkaSecurity } = await import('./kafka-auth.ts');
    const config = loadConfig({
      KAFKA_BROKERS: 'k:9096',
      KAFKA_SASL: 'scram-sha-512',
      KAFKA_SASL_USERNAME: 'concert',
      KAFKA_SASL_PASSWORD: 'hunter2-long-secret',
    });
    expect(config.kafkaSecurity.tls).toBe(true);
    expect(describeKafkaSecurity(config.kafkaSecurity)).toBe('TLS, SASL/SCRAM-SHA-512 as concert');
  });
});
