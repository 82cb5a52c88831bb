import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';

const repoRoot = new URL('../../', import.meta.url).pathname;

/** A port nothing listens on now (the OS picks it); a client aimed at it gets "connection refused". */
export async function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      srv.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/** Where `npm run services:install` put the Kafka jars: asked of lib.sh, so the version is pinned once. */
function kafkaLibs(): string {
  const libs = execFileSync(
    'bash',
    [
      '-c',
      `source ${JSON.stringify(path.join(repoRoot, 'scripts/services/lib.sh'))} && printf %s "$KAFKA_LIBS"`,
    ],
    { encoding: 'utf8' },
  );
  if (!existsSync(path.join(libs, '.complete')))
    throw new Error(
      `No Kafka jars in ${libs} to run a broker of the test's own. Run: sudo npm run services:install`,
    );
  return libs;
}

export interface KafkaBroker {
  brokers: string;
  /** The SASL_SSL listener's address, when one was asked for. */
  secureBrokers?: string;
  stop(): Promise<void>;
}

/**
 * A single-node Kafka (KRaft) of a test's own on the given port, data in `dir`, started the way
 * scripts/services/up.sh starts the shared one: for tests that need Kafka absent first and present later
 * at the same address, or stopped and started again on the same dir. Ready when the broker logs that it
 * started; `stop()` ends exactly this process.
 */
export async function startKafkaBroker(options: {
  port: number;
  controllerPort: number;
  dir: string;
  timeoutMs?: number;
  /** A second listener, SASL_SSL with OAUTHBEARER as MSK's IAM port has, checking tokens unsigned. */
  secure?: { port: number; keystore: TestKeystore };
}): Promise<KafkaBroker> {
  const { port, controllerPort, dir, secure } = options;
  const data = path.join(dir, 'data');
  mkdirSync(data, { recursive: true });
  const host = '127.0.0.1';
  const config = path.join(dir, 'server.properties');
  const secureListener = secure ? `,SASL_SSL://${host}:${secure.port}` : '';
  const secureSettings = secure
    ? [
        'listener.name.sasl_ssl.sasl.enabled.mechanisms=OAUTHBEARER',
        'listener.name.sasl_ssl.oauthbearer.sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required unsecuredLoginStringClaim_sub="broker";',
        'listener.name.sasl_ssl.oauthbearer.sasl.server.callback.handler.class=org.apache.kafka.common.security.oauthbearer.internals.unsecured.OAuthBearerUnsecuredValidatorCallbackHandler',
        'listener.name.sasl_ssl.ssl.keystore.type=PKCS12',
        `listener.name.sasl_ssl.ssl.keystore.location=${secure.keystore.keystore}`,
        `listener.name.sasl_ssl.ssl.keystore.password=${secure.keystore.password}`,
      ]
    : [];
  writeFileSync(
    config,
    [
      'process.roles=broker,controller',
      'node.id=1',
      `controller.quorum.bootstrap.servers=${host}:${controllerPort}`,
      `listeners=PLAINTEXT://${host}:${port},CONTROLLER://${host}:${controllerPort}${secureListener}`,
      `advertised.listeners=PLAINTEXT://${host}:${port},CONTROLLER://${host}:${controllerPort}${secureListener}`,
      'controller.listener.names=CONTROLLER',
      'inter.broker.listener.name=PLAINTEXT',
      `listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT${secure ? ',SASL_SSL:SASL_SSL' : ''}`,
      ...secureSettings,
      `log.dirs=${data}`,
      'default.replication.factor=1',
      'min.insync.replicas=1',
      'offsets.topic.replication.factor=1',
      'offsets.topic.num.partitions=2',
      'transaction.state.log.replication.factor=1',
      'transaction.state.log.min.isr=1',
      'transaction.state.log.num.partitions=2',
      'share.coordinator.state.topic.replication.factor=1',
      'share.coordinator.state.topic.min.isr=1',
      'auto.create.topics.enable=true',
      'num.partitions=1',
      'group.initial.rebalance.delay.ms=0',
      'num.network.threads=1',
      'num.io.threads=2',
      '',
    ].join('\n'),
  );
  const log4j = path.join(dir, 'log4j2.xml');
  writeFileSync(
    log4j,
    `<?xml version="1.0" encoding="UTF-8"?>
<Configuration status="warn">
  <Appenders><Console name="out" target="SYSTEM_OUT"><PatternLayout pattern="[%d] %p %m (%c)%n"/></Console></Appenders>
  <Loggers>
    <Root level="info"><AppenderRef ref="out"/></Root>
    <Logger name="org.apache.kafka.clients" level="warn"/>
  </Loggers>
</Configuration>
`,
  );
  const java = [
    '-Xms128m',
    '-Xmx384m',
    '-XX:+UseSerialGC',
    '-Djava.awt.headless=true',
    `-Dlog4j2.configurationFile=${log4j}`,
    `-Dkafka.logs.dir=${dir}`,
    '-cp',
    `${kafkaLibs()}/*`,
  ];
  // A broker started again on the same dir keeps its topics, offsets and groups, as a restart would.
  if (!existsSync(path.join(data, 'meta.properties'))) {
    const clusterId = randomBytes(16).toString('base64url').replace(/^-/, 'A');
    execFileSync(
      'java',
      [...java, 'kafka.tools.StorageTool', 'format', '--standalone', '-t', clusterId, '-c', config],
      { stdio: 'ignore', timeout: 120_000 },
    );
  }

  const logFile = path.join(dir, 'kafka.out');
  const offset = existsSync(logFile) ? readFileSync(logFile).length : 0;
  const fd = openSync(logFile, 'a');
  const child: ChildProcess = spawn('java', [...java, 'kafka.Kafka', config], {
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const force = setTimeout(() => child.kill('SIGKILL'), 30_000);
      child.once('exit', () => {
        clearTimeout(force);
        resolve();
      });
      child.kill('SIGTERM');
    });
  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
  for (;;) {
    if (child.exitCode !== null) throw new Error(`Kafka exited during startup; see ${logFile}`);
    if (readFileSync(logFile).subarray(offset).includes('Kafka Server started')) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`Kafka did not start in time; see ${logFile}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return { brokers: `${host}:${port}`, ...(secure ? { secureBrokers: `${host}:${secure.port}` } : {}), stop };
}

export interface TestKeystore {
  /** PEM of the CA that signed the broker's certificate: what a client trusts. */
  caFile: string;
  /** PKCS12 with the broker's key and certificate (for 127.0.0.1), under `password`. */
  keystore: string;
  password: string;
}

/** A throwaway CA and a broker certificate for 127.0.0.1, made with openssl in `dir`, valid for a day. */
export function makeTestKeystore(dir: string): TestKeystore {
  mkdirSync(dir, { recursive: true });
  const at = (name: string) => path.join(dir, name);
  const password = randomBytes(12).toString('hex');
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe', timeout: 30_000 });
  openssl(
    'req',
    '-x509',
    ...ec,
    '-keyout',
    at('ca.key'),
    '-out',
    at('ca.pem'),
    '-days',
    '1',
    '-subj',
    '/CN=concert test CA',
  );
  openssl('req', ...ec, '-keyout', at('broker.key'), '-out', at('broker.csr'), '-subj', '/CN=127.0.0.1');
  writeFileSync(at('san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  openssl(
    'x509',
    '-req',
    '-in',
    at('broker.csr'),
    '-CA',
    at('ca.pem'),
    '-CAkey',
    at('ca.key'),
    '-CAcreateserial',
    '-out',
    at('broker.pem'),
    '-days',
    '1',
    '-extfile',
    at('san.ext'),
  );
  openssl(
    'pkcs12',
    '-export',
    '-in',
    at('broker.pem'),
    '-inkey',
    at('broker.key'),
    '-certfile',
    at('ca.pem'),
    '-out',
    at('broker.p12'),
    '-passout',
    `pass:${password}`,
  );
  return { caFile: at('ca.pem'), keystore: at('broker.p12'), password };
}
