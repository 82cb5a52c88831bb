import { type Consumer, Kafka, type KafkaMessage, type LogEntry, logLevel, type Producer } from 'kafkajs';
import type { Logger } from '../logger.ts';
import type { EventBus } from './bus.ts';
import type { KafkaConnection } from './kafka-auth.ts';

export interface KafkaBusOptions {
  brokers: string[];
  clientId: string;
  partitions: number;
  replicationFactor: number;
  logger: Logger;
  /**
   * Prepended to every topic name and consumer group id: environments (or test runs) sharing one cluster
   * stay apart, and a group never mixes the consumers of two of them.
   */
  topicPrefix?: string;
  /** Longest pause between two tries to connect a consumer while Kafka is unreachable. */
  maxReconnectDelayMs?: number;
  /** TLS and SASL (kafka-auth.ts); unset: plaintext, as the local broker speaks. */
  connection?: KafkaConnection;
  /** How the connection is secured, for the adapter's description. */
  securityNote?: string;
}

/**
 * kafkajs behind the EventBus port. The producer is idempotent and connects on first publish.
 *
 * Kafka being down is an outage to ride out, not a reason to stop: nothing here throws out of the
 * process. Topics asked for are remembered and created before the next publish or consumer start that
 * finds the broker; a consumer that cannot connect retries in the background with backoff; the log says
 * once when Kafka becomes unreachable and once when it is back.
 */
export function createKafkaBus(options: KafkaBusOptions): EventBus {
  const log = options.logger.child({ component: 'kafka' });
  const maxDelay = options.maxReconnectDelayMs ?? 5000;
  const kafka = new Kafka({
    clientId: options.clientId,
    brokers: options.brokers,
    ...options.connection,
    connectionTimeout: 3000,
    requestTimeout: 10_000,
    retry: { retries: 3, initialRetryTime: 200 },
    logLevel: logLevel.WARN,
    logCreator: () => throttledLog(log),
  });
  // Readiness probes must answer within their own timeout, so they get no retries of their own.
  const probe = new Kafka({
    clientId: `${options.clientId}-probe`,
    brokers: options.brokers,
    ...options.connection,
    connectionTimeout: 1000,
    requestTimeout: 1000,
    retry: { retries: 0 },
    logLevel: logLevel.NOTHING,
  });
  let producer: Producer | undefined;
  let producerReady: Promise<Producer> | undefined;
  const consumers = new Set<Consumer>();
  const supervisors = new Set<{ stop(): Promise<void> }>();
  const prefix = options.topicPrefix ?? '';
  const full = (topic: string) => `${prefix}${topic}`;
  const bare = (topic: string) => (topic.startsWith(prefix) ? topic.slice(prefix.length) : topic);

  let reachable: boolean | undefined;
  const markDown = (error: unknown, during: string) => {
    if (reachable !== false)
      log.warn(
        { err: errorText(error), during, brokers: options.brokers },
        'Kafka unreachable: events wait in the outbox; publishing, topic creation and consumers retry with backoff until it answers',
      );
    reachable = false;
  };
  const markUp = () => {
    if (reachable === false) log.info({ brokers: options.brokers }, 'Kafka reachable again');
    reachable = true;
  };

  const wanted = new Set<string>();
  const known = new Set<string>();
  let creating: Promise<void> | undefined;
  const createWantedTopics = () => {
    creating ??= (async () => {
      const admin = kafka.admin();
      try {
        await admin.connect();
        const asked = [...wanted];
        const existing = new Set(await admin.listTopics());
        const missing = asked.filter((t) => !existing.has(t));
        if (missing.length > 0) {
          await admin.createTopics({
            waitForLeaders: true,
            topics: missing.map((topic) => ({
              topic,
              numPartitions: options.partitions,
              replicationFactor: options.replicationFactor,
            })),
          });
          log.info({ topics: missing }, 'Kafka topics created');
        }
        for (const topic of asked) {
          wanted.delete(topic);
          known.add(topic);
        }
      } finally {
        creating = undefined;
        await admin.disconnect().catch(() => undefined);
      }
    })();
    return creating;
  };
  // A topic made by auto-creation would get the broker's partition count, not ours: create first. A topic
  // asked for while another creation was under way is left for the next round.
  const topicsFirst = async () => {
    while (wanted.size > 0) await createWantedTopics();
  };

  const getProducer = () => {
    producerReady ??= (async () => {
      const p = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: true });
      try {
        await p.connect();
      } catch (error) {
        await p.disconnect().catch(() => undefined);
        throw error;
      }
      producer = p;
      return p;
    })().catch((error: unknown) => {
      producerReady = undefined;
      throw error;
    });
    return producerReady;
  };
  // After a failed send the producer may hold a broken connection or a sequence the broker forgot
  // (a broker that came back empty): the next publish starts from a new one.
  const dropProducer = () => {
    const p = producer;
    producer = undefined;
    producerReady = undefined;
    p?.disconnect().catch(() => undefined);
  };

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

  return {
    describe: `Kafka (${options.brokers.join(',')}${options.securityNote ? `; ${options.securityNote}` : ''})`,
    async ensureTopics(topics) {
      for (const topic of topics) wanted.add(full(topic));
      try {
        await createWantedTopics();
        markUp();
      } catch (error) {
        markDown(error, 'creating topics');
        throw error;
      }
    },
    async publish(records) {
      if (records.length === 0) return;
      const byTopic = new Map<string, typeof records>();
      for (const r of records) byTopic.set(full(r.topic), [...(byTopic.get(full(r.topic)) ?? []), r]);
      for (const topic of byTopic.keys()) if (!known.has(topic)) wanted.add(topic);
      try {
        await topicsFirst();
        const p = await getProducer();
        await p.sendBatch({
          acks: -1,
          topicMessages: [...byTopic].map(([topic, rs]) => ({
            topic,
            messages: rs.map((r) => ({ key: r.key, value: r.value, headers: r.headers ?? {} })),
          })),
        });
      } catch (error) {
        dropProducer();
        markDown(error, 'publishing');
        throw error;
      }
      markUp();
    },
    async subscribe({ groupId, topics, fromBeginning = false, concurrency = 1, handler }) {
      let stopped = false;
      let current: Consumer | undefined;
      let wake: (() => void) | undefined;
      let loop: Promise<void> = Promise.resolve();

      const attempt = async (): Promise<boolean> => {
        const consumer = kafka.consumer({ groupId: full(groupId), allowAutoTopicCreation: true });
        current = consumer;
        try {
          await topicsFirst();
          await consumer.connect();
          for (const topic of topics) await consumer.subscribe({ topic: full(topic), fromBeginning });
          consumer.on(consumer.events.GROUP_JOIN, () => markUp());
          consumer.on(consumer.events.CRASH, ({ payload }) => {
            markDown(payload.error, `consumer group ${groupId}`);
            // kafkajs restarts by itself after a retriable crash; after any other, this starts anew.
            if (!payload.restart && !stopped) {
              consumers.delete(consumer);
              consumer.disconnect().catch(() => undefined);
              loop = loop.then(supervise);
            }
          });
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
                      batch.messages.map(
                        (m) => async () => handler(toRecord(batch.topic, batch.partition, m)),
                      ),
                      concurrency,
                      {
                        done: (count) => resolveOffset(batch.messages[count - 1]!.offset),
                        heartbeat,
                        go: () => isRunning() && !isStale(),
                      },
                    ),
                }),
          });
          consumers.add(consumer);
          return true;
        } catch (error) {
          markDown(error, `starting consumer group ${groupId}`);
          await consumer.disconnect().catch(() => undefined);
          return false;
        }
      };
      let started: () => void = () => undefined;
      const firstTry = new Promise<void>((resolve) => {
        started = resolve;
      });
      const supervise = async () => {
        let delay = 250;
        while (!stopped) {
          const ok = await attempt();
          started();
          if (ok) return;
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, delay);
            timer.unref();
            wake = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          delay = Math.min(delay * 2, maxDelay);
        }
      };
      loop = supervise();
      const supervisor = {
        async stop() {
          stopped = true;
          supervisors.delete(supervisor);
          wake?.();
          await loop;
          if (current) {
            consumers.delete(current);
            await current.disconnect().catch(() => undefined);
          }
        },
      };
      supervisors.add(supervisor);
      // Known to be down: return at once and let the consumer join in the background when Kafka is back.
      if (reachable !== false) await firstTry;
      return supervisor;
    },
    async ping() {
      const admin = probe.admin();
      try {
        await admin.connect();
        await admin.describeCluster();
      } finally {
        await admin.disconnect().catch(() => undefined);
      }
    },
    async lag(groupId, topics) {
      const admin = kafka.admin();
      try {
        await admin.connect();
        const committed = await admin.fetchOffsets({ groupId: full(groupId), topics: topics.map(full) });
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
        await admin.disconnect().catch(() => undefined);
      }
    },
    async close() {
      await Promise.allSettled([...supervisors].map((s) => s.stop()));
      await Promise.allSettled([...consumers].map((c) => c.disconnect()));
      consumers.clear();
      if (producer) await producer.disconnect().catch(() => undefined);
    },
  };
}

/** A failure of the Kafka client (broker unreachable, no leader, timeout): an outage, answered with 503. */
export function isKafkaOutage(error: unknown): boolean {
  // By name: the error classes are not named exports of kafkajs's CommonJS build under ESM.
  return error instanceof Error && error.name.startsWith('KafkaJS');
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * kafkajs logs every failed try, and while the broker is away that is the same few lines every second or
 * so. The first of each kind is kept and its repeats are dropped for a minute (numbers in a line, such as
 * a retry delay, do not make it a new kind).
 */
function throttledLog(log: Logger) {
  const lastSeen = new Map<string, number>();
  return ({ level, log: entry }: LogEntry) => {
    const { message, ...rest } = entry;
    const kind = `${level}:${message.replace(/\d+/g, '#')}`;
    const now = Date.now();
    const last = lastSeen.get(kind);
    if (last !== undefined && now - last < 60_000) return;
    if (lastSeen.size > 500) lastSeen.clear();
    lastSeen.set(kind, now);
    if (level <= logLevel.ERROR) log.error(rest, message);
    else log.warn(rest, message);
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
