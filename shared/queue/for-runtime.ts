import type { Runtime } from '../runtime.ts';
import { createQueueAccess, type QueueAccess } from './access-token-check.ts';
import { createMemoryQueueStore } from './memory-queue-store.ts';
import { createQueueRecords, type QueueRecords } from './queue-records.ts';
import type { QueueDefaults, QueueStore } from './queue-store.ts';
import { createQueueTokens, type QueueTokens } from './queue-tokens.ts';
import { createRedisQueueStore } from './redis-queue-store.ts';

type QueueRuntime = Pick<Runtime, 'config' | 'redis' | 'secrets' | 'clock'> &
  Partial<Pick<Runtime, 'database' | 'logger'>>;

interface QueueParts {
  store: QueueStore;
  tokens: QueueTokens;
  access: QueueAccess;
  records: QueueRecords | undefined;
}

const built = new WeakMap<QueueRuntime, QueueParts>();

export function queueDefaults(config: QueueRuntime['config']): QueueDefaults {
  return {
    maxActive: config.QUEUE_MAX_ACTIVE,
    admitPerSecond: config.QUEUE_ADMIT_PER_SECOND,
    activeTtlSeconds: config.QUEUE_ACTIVE_TTL_SECONDS,
    idleTimeoutSeconds: config.QUEUE_IDLE_TIMEOUT_SECONDS,
  };
}

/**
 * The queue adapters of a runtime, built once per Runtime object: in the embedded mode the line lives in
 * process memory, so every function mounted in the all-in-one server must share the one store.
 */
function partsFor(rt: QueueRuntime): QueueParts {
  let parts = built.get(rt);
  if (!parts) {
    const defaults = queueDefaults(rt.config);
    // The database remembers what a lost line cannot tell: that it had started, and who already paid.
    const records = rt.database ? createQueueRecords(rt.database.db) : undefined;
    const options = records ? { registry: records } : {};
    const store = rt.redis
      ? createRedisQueueStore(rt.redis, defaults, options)
      : createMemoryQueueStore(defaults, options);
    const tokens = createQueueTokens({ secret: rt.secrets.queueTokenSecret });
    const access = createQueueAccess({ tokens, store, clock: rt.clock, records, logger: rt.logger });
    parts = { store, tokens, access, records };
    built.set(rt, parts);
  }
  return parts;
}

export const queueStoreFor = (rt: QueueRuntime): QueueStore => partsFor(rt).store;
export const queueRecordsFor = (rt: QueueRuntime): QueueRecords | undefined => partsFor(rt).records;
export const queueTokensFor = (rt: QueueRuntime): QueueTokens => partsFor(rt).tokens;
/** The waiting room's side of the [queue] guard for seat maps, holds and payments (see requireQueueAccess). */
export const queueAccessFor = (rt: QueueRuntime): QueueAccess => partsFor(rt).access;
