import { type Admin, Kafka, logLevel } from 'kafkajs';
import { type Config, ConfigError, loadConfig } from '../config.ts';
import { deadLetterTopic } from './dispatcher.ts';
import { describeKafkaSecurity, kafkaConnection } from './kafka-auth.ts';
import { allTopics } from './subscriptions.ts';

/** Every topic the system writes or reads, before the prefix: the events and the dispatcher's dead letters. */
export const everyTopic = [...allTopics, deadLetterTopic];

export interface TopicLayout {
  partitions: number;
  replicationFactor: number;
}

export type TopicAction = 'created' | 'exists' | 'grown' | 'short';

export interface TopicOutcome {
  topic: string;
  action: TopicAction;
  partitions: number;
  replicationFactor: number;
}

/**
 * Creates each missing topic with the layout, and leaves existing ones as they are (their settings may
 * have been tuned by hand). A topic with fewer partitions than the layout is grown only when asked:
 * growing moves keys to other partitions, so a seat's events could briefly be read out of order.
 */
export async function reconcileTopics(
  admin: Admin,
  topics: string[],
  layout: TopicLayout,
  options: { grow: boolean; progress: (outcome: TopicOutcome) => void },
): Promise<TopicOutcome[]> {
  const outcomes: TopicOutcome[] = [];
  const report = (outcome: TopicOutcome) => {
    outcomes.push(outcome);
    options.progress(outcome);
  };
  const existing = new Set(await admin.listTopics());
  for (const topic of topics.filter((t) => !existing.has(t))) {
    const created = await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic, numPartitions: layout.partitions, replicationFactor: layout.replicationFactor }],
    });
    // False: someone (a relay starting) created it between the listing and now.
    if (created) report({ topic, action: 'created', ...layout });
    else existing.add(topic);
  }
  const present = topics.filter((t) => existing.has(t));
  if (present.length === 0) return outcomes;
  const { topics: metadata } = await admin.fetchTopicMetadata({ topics: present });
  for (const { name, partitions } of metadata) {
    const found = {
      topic: name,
      partitions: partitions.length,
      replicationFactor: partitions[0]?.replicas.length ?? 0,
    };
    if (found.partitions >= layout.partitions) report({ ...found, action: 'exists' });
    else if (!options.grow) report({ ...found, action: 'short' });
    else {
      await admin.createPartitions({ topicPartitions: [{ topic: name, count: layout.partitions }] });
      report({ ...found, action: 'grown', partitions: layout.partitions });
    }
  }
  return outcomes;
}

export const topicsExit = { ok: 0, failed: 1, short: 2, usage: 64, config: 78 } as const;

const usage = `usage: npm run topics [-- --grow-partitions]
Creates every topic of the system on KAFKA_BROKERS (with KAFKA_TOPIC_PREFIX, KAFKA_TOPIC_PARTITIONS,
KAFKA_REPLICATION_FACTOR, and the KAFKA_SASL/KAFKA_TLS settings). Existing topics are left as they are.
  --grow-partitions  add partitions to topics that have fewer than KAFKA_TOPIC_PARTITIONS
Exit: 0 all present, 1 Kafka failed, 2 a topic has too few partitions, 64 bad arguments, 78 bad configuration.`;

/**
 * `npm run topics`, and the Kubernetes Job that runs `node topics.mjs` from a function's image before the
 * rollout: the cluster refuses auto-creation, so nothing else may create topics there.
 */
export async function runTopicsCommand(options: {
  env: Record<string, string | undefined>;
  argv: string[];
  print: (line: string) => void;
  printError: (line: string) => void;
  /** Tests only: a token their broker accepts in place of the MSK IAM signer's. */
  oauthToken?: () => Promise<{ value: string }>;
  /** Tries per request: a Job's pod may start before the brokers answer. */
  retries?: number;
}): Promise<number> {
  const { print, printError } = options;
  const unknown = options.argv.filter((a) => a !== '--grow-partitions');
  if (unknown.length > 0 || options.argv.includes('--help')) {
    printError(unknown.length > 0 ? `unknown argument ${unknown.join(' ')}\n${usage}` : usage);
    return topicsExit.usage;
  }
  let config: Config;
  try {
    config = loadConfig(options.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      printError(error.message);
      return topicsExit.config;
    }
    throw error;
  }
  if (!config.KAFKA_BROKERS) {
    printError('KAFKA_BROKERS: required; the topics command creates topics on a real Kafka');
    return topicsExit.config;
  }
  const layout = {
    partitions: config.KAFKA_TOPIC_PARTITIONS,
    replicationFactor: config.KAFKA_REPLICATION_FACTOR,
  };
  const names = everyTopic.map((t) => `${config.KAFKA_TOPIC_PREFIX}${t}`);
  print(
    `topics: ${names.length} on ${config.KAFKA_BROKERS} (${describeKafkaSecurity(config.kafkaSecurity)}), ` +
      `${layout.partitions} partitions, replication ${layout.replicationFactor}`,
  );
  const kafka = new Kafka({
    clientId: `${config.KAFKA_CLIENT_ID}-topics`,
    brokers: config.KAFKA_BROKERS.split(',').map((b) => b.trim()),
    ...kafkaConnection(config.kafkaSecurity, options.oauthToken ? { oauthToken: options.oauthToken } : {}),
    connectionTimeout: 5000,
    requestTimeout: 30_000,
    retry: { retries: options.retries ?? 5, initialRetryTime: 500 },
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    const outcomes = await reconcileTopics(admin, names, layout, {
      grow: options.argv.includes('--grow-partitions'),
      progress: (o) =>
        print(
          o.action === 'short'
            ? `  short    ${o.topic}: ${o.partitions} partitions, ${layout.partitions} configured; ` +
                'run again with --grow-partitions to add them (keys then map to other partitions)'
            : `  ${o.action.padEnd(8)} ${o.topic} (${o.partitions} partitions, replication ${o.replicationFactor})`,
        ),
    });
    const count = (action: TopicAction) => outcomes.filter((o) => o.action === action).length;
    print(
      `topics: ${count('created')} created, ${count('exists')} already there, ${count('grown')} grown, ` +
        `${count('short')} short of partitions`,
    );
    return count('short') > 0 ? topicsExit.short : topicsExit.ok;
  } catch (error) {
    printError(`topics: failed: ${error instanceof Error ? error.message : String(error)}`);
    return topicsExit.failed;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
