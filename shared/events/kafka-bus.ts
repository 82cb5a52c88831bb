import { type Consumer, Kafka, type KafkaMessage, logLevel, type Producer } from 'kafkajs';
import type { Logger } from '../logger.ts';
import type { EventBus } from './bus.ts';

export interface KafkaBusOptions {
  brokers: string[];
  clientId: string;
  partitions: number;
  replicationFactor: number;
  logger: Logger;
  /** Prepended to every topic name: environments (or test runs) sharing one cluster stay apart. */
  topicPrefix?: string;
}

/** kafkajs behind the EventBus port. The producer is idempotent and connects on first publish. */
export function createKafkaBus(options: KafkaBusOptions): EventBus {
  const log = options.logger.child({ component: 'kafka' });
  const kafka = new Kafka({
    clientId: options.clientId,
    brokers: options.brokers,
    connectionTimeout: 3000,
    requestTimeout: 10_000,
    retry: { retries: 3, initialRetryTime: 200 },
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log: entry }) => {
        const { message, ...rest } = entry;
        if (level <= logLevel.ERROR) log.error(rest, message);
        else log.warn(rest, message);
      },
  });
  let producer: Producer | undefined;
  let producerReady: Promise<Producer> | undefined;
  const consumers = new Set<Consumer>();
  const prefix = options.topicPrefix ?? '';
  const full = (topic: string) => `${prefix}${topic}`;
  const bare = (topic: string) => (topic.startsWith(prefix) ? topic.slice(prefix.length) : topic);

  const getProducer = () => {
    producerReady ??= (async () => {
      const p = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: true });
      await p.connect();
      producer = p;
      return p;
    })().catch((error: unknown) => {
      producerReady = undefined;
      throw error;
    });
    return producerReady;
  };

  return {
    describe: `Kafka (${options.brokers.join(',')})`,
    async ensureTopics(topics) {
      const admin = kafka.admin();
      await admin.connect();
      try {
        const existing = new Set(await admin.listTopics());
        const missing = topics.map(full).filter((t) => !existing.has(t));
        if (missing.length > 0) {
          await admin.createTopics({
            waitForLeaders: true,
            topics: missing.map((topic) => ({
              topic,
              numPartitions: options.partitions,
              replicationFactor: options.replicationFactor,
            })),
          });
        }
      } finally {
        await admin.disconnect();
      }
    },
    async publish(records) {
      if (records.length === 0) return;
      const p = await getProducer();
      const byTopic = new Map<string, typeof records>();
      for (const r of records) byTopic.set(full(r.topic), [...(byTopic.get(full(r.topic)) ?? []), r]);
      await p.sendBatch({
        acks: -1,
        topicMessages: [...byTopic].map(([topic, rs]) => ({
          topic,
          messages: rs.map((r) => ({ key: r.key, value: r.value, headers: r.headers ?? {} })),
        })),
      });
    },
    async subscribe({ groupId, topics, fromBeginning = false, concurrency = 1, handler }) {
      const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: true });
      await consumer.connect();
      consumers.add(consumer);
      for (const topic of topics) await consumer.subscribe({ topic: full(topic), fromBeginning });
      const toRecord = (topic: string, partition: number, message: KafkaMessage) => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(message.headers ?? {})) {
          if (v !== undefined) headers[k] = Array.isArray(v) ? String(v[0]) : String(v);
        }
        return {
          topic: bare(topic),
          partition,
          offset: message.offset,
          key: message.key?.toString() ?? '',
          value: message.value?.toString() ?? '',
          headers,
        };
      };
      await consumer.run({
        // Partitions in parallel, each one in order: order per key holds, throughput scales with partitions.
        partitionsConsumedConcurrently: options.partitions,
        ...(concurrency <= 1
          ? {
              eachMessage: async ({ topic, partition, message }) =>
                handler(toRecord(topic, partition, message)),
            }
          : {
              eachBatchAutoResolve: false,
              eachBatch: ({ batch, resolveOffset, heartbeat, isRunning, isStale }) =>
                runWindowed(
                  batch.messages.map((m) => async () => handler(toRecord(batch.topic, batch.partition, m))),
                  concurrency,
                  {
                    done: (count) => resolveOffset(batch.messages[count - 1]!.offset),
                    heartbeat,
                    go: () => isRunning() && !isStale(),
                  },
                ),
            }),
      });
      return {
        async stop() {
          consumers.delete(consumer);
          await consumer.disconnect();
        },
      };
    },
    async ping() {
      const admin = kafka.admin();
      await admin.connect();
      try {
        await admin.describeCluster();
      } finally {
        await admin.disconnect();
      }
    },
    async lag(groupId, topics) {
      const admin = kafka.admin();
      await admin.connect();
      try {
        const committed = await admin.fetchOffsets({ groupId, topics: topics.map(full) });
        const rows: { topic: string; partition: number; lag: number }[] = [];
        for (const { topic, partitions } of committed) {
          const ends = await admin.fetchTopicOffsets(topic);
          for (const end of ends) {
            const done = partitions.find((p) => p.partition === end.partition)?.offset ?? '-1';
            const consumed = Number(done) < 0 ? Number(end.low) : Number(done);
            rows.push({
              topic: bare(topic),
              partition: end.partition,
              lag: Math.max(0, Number(end.high) - consumed),
            });
          }
        }
        return rows;
      } finally {
        await admin.disconnect();
      }
    },
    async close() {
      await Promise.allSettled([...consumers].map((c) => c.disconnect()));
      consumers.clear();
      if (producer) await producer.disconnect();
    },
  };
}

/**
 * Runs a partition's records with up to `limit` in flight, starting the next as soon as any one finishes
 * (a record slower than the rest no longer idles the other slots, as fixed slices of `limit` did). The
 * offset moves only over the records done without a gap (`done(count)`), so a crash or a failure redelivers
 * from the first record not done: at least once, as before. After a failure no record starts; those in
 * flight finish and the error is thrown, and the consumer offers the partition again from that offset.
 */
export async function runWindowed(
  tasks: (() => Promise<void>)[],
  limit: number,
  hooks: { done(count: number): void; heartbeat(): Promise<void>; go(): boolean },
): Promise<void> {
  const finished = new Uint8Array(tasks.length);
  let next = 0;
  let prefix = 0;
  let inFlight = 0;
  let failure: { error: unknown } | undefined;
  let lastBeat = Date.now();
  await new Promise<void>((resolve) => {
    const pump = () => {
      while (!failure && inFlight < limit && next < tasks.length && hooks.go()) {
        const i = next++;
        inFlight++;
        tasks[i]!().then(
          () => {
            finished[i] = 1;
            const before = prefix;
            while (prefix < tasks.length && finished[prefix]) prefix++;
            if (prefix > before) hooks.done(prefix);
            if (Date.now() - lastBeat > 1000) {
              lastBeat = Date.now();
              hooks.heartbeat().catch((error: unknown) => {
                failure ??= { error };
              });
            }
            settle();
          },
          (error: unknown) => {
            failure ??= { error };
            settle();
          },
        );
      }
      if (inFlight === 0) resolve();
    };
    const settle = () => {
      inFlight--;
      pump();
    };
    pump();
  });
  if (failure) throw failure.error;
  await hooks.heartbeat();
}
