import {
  type DeliveredRecord,
  type EventBus,
  type EventRecord,
  partitionFor,
  type SubscribeOptions,
} from './bus.ts';

interface Group {
  /** next offset to deliver, per topic and partition */
  offsets: Map<string, number[]>;
  handler: SubscribeOptions['handler'];
  concurrency: number;
  topics: string[];
  stopped: boolean;
  running: Set<string>;
}

/**
 * In-process event log for the embedded mode. Records are kept per topic and partition; each consumer
 * group walks every partition in order, one record at a time, retrying a failing record with backoff
 * (as a Kafka consumer that does not commit would). Log size is capped to keep memory bounded.
 */
export function createMemoryBus(options: { partitions: number; retainPerPartition?: number }): EventBus {
  const logs = new Map<string, { base: number; records: EventRecord[] }[]>();
  const groups = new Map<string, Group>();
  const retain = options.retainPerPartition ?? 10_000;
  let closed = false;

  const partitionsOf = (topic: string) => {
    let parts = logs.get(topic);
    if (!parts) {
      parts = Array.from({ length: options.partitions }, () => ({ base: 0, records: [] }));
      logs.set(topic, parts);
    }
    return parts;
  };

  const drain = async (group: Group, topic: string, partition: number) => {
    const slot = `${topic}/${partition}`;
    if (group.running.has(slot)) return;
    group.running.add(slot);
    try {
      let attempt = 0;
      while (!group.stopped && !closed) {
        const log = partitionsOf(topic)[partition]!;
        const offsets = group.offsets.get(topic)!;
        const next = Math.max(offsets[partition]!, log.base);
        const batch = log.records
          .slice(next - log.base, next - log.base + group.concurrency)
          .map((record, i): DeliveredRecord => ({ ...record, partition, offset: String(next + i) }));
        if (batch.length === 0) break;
        try {
          await Promise.all(batch.map((delivered) => group.handler(delivered)));
          offsets[partition] = next + batch.length;
          attempt = 0;
        } catch {
          attempt++;
          await new Promise((r) => setTimeout(r, Math.min(100 * 2 ** attempt, 5000)).unref());
        }
      }
    } finally {
      group.running.delete(slot);
    }
  };

  const kick = (topic: string, partition: number) => {
    for (const group of groups.values()) {
      if (group.topics.includes(topic) && !group.stopped) void drain(group, topic, partition);
    }
  };

  return {
    describe: 'in-process event bus',
    async ensureTopics(topics) {
      for (const t of topics) partitionsOf(t);
    },
    async publish(records) {
      if (closed) throw new Error('event bus is closed');
      for (const record of records) {
        const partition = partitionFor(record.key, options.partitions);
        const log = partitionsOf(record.topic)[partition]!;
        log.records.push({ ...record });
        if (log.records.length > retain) {
          const drop = log.records.length - retain;
          log.records.splice(0, drop);
          log.base += drop;
        }
        kick(record.topic, partition);
      }
    },
    async subscribe({ groupId, topics, fromBeginning = false, concurrency = 1, handler }) {
      if (groups.has(groupId))
        throw new Error(`consumer group ${groupId} already subscribed in this process`);
      const offsets = new Map<string, number[]>();
      for (const topic of topics) {
        offsets.set(
          topic,
          partitionsOf(topic).map((log) => (fromBeginning ? log.base : log.base + log.records.length)),
        );
      }
      const group: Group = {
        offsets,
        handler,
        concurrency: Math.max(1, concurrency),
        topics,
        stopped: false,
        running: new Set(),
      };
      groups.set(groupId, group);
      for (const topic of topics) for (let p = 0; p < options.partitions; p++) void drain(group, topic, p);
      return {
        async stop() {
          group.stopped = true;
          groups.delete(groupId);
        },
      };
    },
    async ping() {
      if (closed) throw new Error('event bus is closed');
    },
    async lag(groupId, topics) {
      const group = groups.get(groupId);
      return topics.flatMap((topic) =>
        partitionsOf(topic).map((log, partition) => {
          const end = log.base + log.records.length;
          const next = group?.offsets.get(topic)?.[partition] ?? log.base;
          return { topic, partition, lag: Math.max(0, end - Math.max(next, log.base)) };
        }),
      );
    },
    async close() {
      closed = true;
      for (const g of groups.values()) g.stopped = true;
      groups.clear();
    },
  };
}
