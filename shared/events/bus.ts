export interface EventRecord {
  topic: string;
  key: string;
  value: string;
  headers?: Record<string, string>;
}

export interface DeliveredRecord extends EventRecord {
  partition: number;
  offset: string;
}

export interface SubscribeOptions {
  groupId: string;
  topics: string[];
  fromBeginning?: boolean;
  /**
   * Records of one partition handled at once (default 1: in order, as KafkaSource `ordering: ordered`).
   * Above 1 (`unordered`), a partition's records are handled in parallel batches and its offset moves
   * past a batch only when every record of it is done: still at least once, no longer in order.
   */
  concurrency?: number;
  /** Throwing means "not done": the record is offered again, and later records of its partition wait. */
  handler: (record: DeliveredRecord) => Promise<void>;
}

export interface Subscription {
  stop(): Promise<void>;
}

/**
 * What the functions need of Kafka. Real: kafkajs against a broker. Embedded: an in-process log with the
 * same guarantees that matter here: order per key, each record once per consumer group unless its handler
 * fails, and records published before a group first subscribes are readable from the beginning.
 */
export interface EventBus {
  readonly describe: string;
  ensureTopics(topics: string[]): Promise<void>;
  publish(records: EventRecord[]): Promise<void>;
  subscribe(options: SubscribeOptions): Promise<Subscription>;
  ping(): Promise<void>;
  /** Records not yet consumed by a group, per topic and partition (the ADR's kafka_consumer_lag). */
  lag(groupId: string, topics: string[]): Promise<{ topic: string; partition: number; lag: number }[]>;
  close(): Promise<void>;
}

/** Stable partition for a key, so a key's records keep their order. */
export function partitionFor(key: string, partitions: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % partitions;
}
