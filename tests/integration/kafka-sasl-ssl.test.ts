import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../shared/config.ts';
import type { DeliveredRecord } from '../../shared/events/bus.ts';
import { kafkaConnection } from '../../shared/events/kafka-auth.ts';
import { createKafkaBus } from '../../shared/events/kafka-bus.ts';
import { everyTopic, runTopicsCommand, topicsExit } from '../../shared/events/topics.ts';
import {
  closedPort,
  type KafkaBroker,
  makeTestKeystore,
  startKafkaBroker,
  type TestKeystore,
} from '../support/kafka-broker.ts';
import { uniqueSuffix } from '../support/real-services.ts';

/**
 * An unsigned JWT, which the broker's unsecured OAUTHBEARER validator accepts: the stand-in for the MSK IAM
 * token, whose signing is unit-tested on its own (shared/events/kafka-auth.test.ts).
 */
const unsecuredToken = async () => {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  return { value: `${part({ alg: 'none' })}.${part({ sub: 'concert', iat: now, exp: now + 3600 })}.` };
};

/**
 * The client as MSK's IAM port wants it (TLS, SASL/OAUTHBEARER), from the same configuration the functions
 * read, against a broker of the test's own with a SASL_SSL listener and a throwaway CA.
 */
describe('Kafka over SASL_SSL with OAUTHBEARER', () => {
  let dir: string;
  let keys: TestKeystore;
  let broker: KafkaBroker;
  let secureEnv: Record<string, string>;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'kafka-sasl-ssl-'));
    keys = makeTestKeystore(path.join(dir, 'tls'));
    const port = await closedPort();
    let controllerPort: number;
    do controllerPort = await closedPort();
    while (controllerPort === port);
    let securePort: number;
    do securePort = await closedPort();
    while (securePort === port || securePort === controllerPort);
    broker = await startKafkaBroker({
      port,
      controllerPort,
      dir: path.join(dir, 'kafka'),
      secure: { port: securePort, keystore: keys },
      timeoutMs: 90_000,
    });
    secureEnv = {
      KAFKA_BROKERS: broker.secureBrokers!,
      KAFKA_SASL: 'aws-msk-iam',
      AWS_REGION: 'eu-west-1',
      KAFKA_TLS_CA_FILE: keys.caFile,
      KAFKA_TOPIC_PARTITIONS: '2',
    };
  });

  afterAll(async () => {
    await broker?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('publishes and consumes through the bus the functions build from KAFKA_SASL and KAFKA_TLS', async () => {
    const config = loadConfig(secureEnv);
    expect(config.kafkaSecurity).toMatchObject({ tls: true, sasl: 'aws-msk-iam', caFile: keys.caFile });
    const bus = createKafkaBus({
      brokers: [broker.secureBrokers!],
      clientId: 'sasl-ssl-test',
      partitions: 2,
      replicationFactor: 1,
      topicPrefix: `sasl${uniqueSuffix()}.`,
      logger: pino({ level: 'silent' }),
      connection: kafkaConnection(config.kafkaSecurity, { oauthToken: unsecuredToken }),
    });
    try {
      await bus.ping();
      const got: DeliveredRecord[] = [];
      const arrived = new Promise<void>((resolve) => {
        void bus.subscribe({
          groupId: 'sasl-ssl',
          topics: ['payment.completed'],
          fromBeginning: true,
          handler: async (record) => {
            got.push(record);
            resolve();
          },
        });
      });
      await bus.publish([{ topic: 'payment.completed', key: 'seat-7', value: '{"paid":true}' }]);
      await arrived;
      expect(got.map(({ topic, key, value }) => ({ topic, key, value }))).toEqual([
        { topic: 'payment.completed', key: 'seat-7', value: '{"paid":true}' },
      ]);
    } finally {
      await bus.close();
    }
  });

  it('is refused without the CA, without SASL, or in plaintext: the listener really checks', async () => {
    const tryAdmin = async (connection: object) => {
      const kafka = new Kafka({
        clientId: 'sasl-ssl-refused',
        brokers: [broker.secureBrokers!],
        connectionTimeout: 2000,
        requestTimeout: 2000,
        retry: { retries: 0 },
        logLevel: logLevel.NOTHING,
        ...connection,
      });
      const admin = kafka.admin();
      try {
        await admin.connect();
        await admin.listTopics();
      } finally {
        await admin.disconnect().catch(() => undefined);
      }
    };
    const security = loadConfig(secureEnv).kafkaSecurity;
    const { caFile: _, ...withoutCa } = security;
    await expect(tryAdmin(kafkaConnection(withoutCa, { oauthToken: unsecuredToken }))).rejects.toThrow(
      /certificate/i,
    );
    await expect(tryAdmin(kafkaConnection({ ...security, sasl: 'none' }))).rejects.toThrow();
    await expect(tryAdmin({})).rejects.toThrow();
    await expect(
      tryAdmin(kafkaConnection(security, { oauthToken: unsecuredToken })),
    ).resolves.toBeUndefined();
  });

  it('the topics command creates every topic once, then finds them all there; short topics grow on demand', async () => {
    const prefix = `topics${uniqueSuffix()}.`;
    const run = async (env: Record<string, string>, argv: string[] = []) => {
      const out: string[] = [];
      const code = await runTopicsCommand({
        env: { ...secureEnv, KAFKA_TOPIC_PREFIX: prefix, ...env },
        argv,
        print: (line) => out.push(line),
        printError: (line) => out.push(line),
        oauthToken: unsecuredToken,
      });
      return { code, out: out.join('\n') };
    };
    const names = everyTopic.map((t) => `${prefix}${t}`);
    expect(names).toContain(`${prefix}dead-letter`);

    const first = await run({});
    expect(first.code, first.out).toBe(topicsExit.ok);
    for (const name of names) expect(first.out).toContain(`created  ${name} (2 partitions, replication 1)`);
    expect(first.out).toContain(`${names.length} created, 0 already there`);

    const again = await run({});
    expect(again.code, again.out).toBe(topicsExit.ok);
    expect(again.out).toContain(`0 created, ${names.length} already there`);

    const short = await run({ KAFKA_TOPIC_PARTITIONS: '3' });
    expect(short.code, short.out).toBe(topicsExit.short);
    expect(short.out).toContain(`short    ${prefix}payment.completed: 2 partitions, 3 configured`);

    const grown = await run({ KAFKA_TOPIC_PARTITIONS: '3' }, ['--grow-partitions']);
    expect(grown.code, grown.out).toBe(topicsExit.ok);
    expect(grown.out).toContain(`${names.length} grown`);
    const admin = new Kafka({
      brokers: [broker.brokers],
      logLevel: logLevel.NOTHING,
    }).admin();
    await admin.connect();
    try {
      const { topics } = await admin.fetchTopicMetadata({ topics: names });
      expect(topics.map((t) => t.partitions.length)).toEqual(names.map(() => 3));
    } finally {
      await admin.disconnect();
    }
  });

  it('the topics command says when Kafka cannot be reached, with a failing exit code', async () => {
    const lines: string[] = [];
    const code = await runTopicsCommand({
      env: { KAFKA_BROKERS: `127.0.0.1:${await closedPort()}` },
      argv: [],
      retries: 0,
      print: (line) => lines.push(line),
      printError: (line) => lines.push(line),
    });
    expect(code).toBe(topicsExit.failed);
    expect(lines.at(-1)).toMatch(/^topics: failed: /);
  });
});
