import type { Clock } from '../clock.ts';
import type { Logger } from '../logger.ts';
import type { QueueStore } from './queue-store.ts';

/**
 * The idle timeout's heartbeats, batched: a status poll answered from memory (or an open stream's tick)
 * calls `beat`, which only remembers the user; every `flushEveryMs` one `QueueStore.touch` per concert (per
 * `maxPerCommand` users) writes them all at the flush's time. So holding a place costs no Redis command per
 * poll, and the commands per flush depend on the concerts and the users who polled, not on the polls.
 *
 * What it changes for a waiter: a poll reaches the line at most `flushEveryMs` later, stamped with the
 * flush's time (never earlier than the poll), so a place is dropped no sooner than idleTimeoutSeconds after
 * the last poll, and at most `flushEveryMs` later than that. A flush that fails keeps its users for the
 * next one. Polls of a process that dies before its flush are lost: the waiter's next poll counts again.
 */
export interface Heartbeats {
  beat(concertId: string, userId: string): void;
  /** Writes what is pending now; the timer calls it, and close() does a last time. */
  flush(): Promise<void>;
  /** Users waiting for the next flush, over all concerts. */
  readonly pending: number;
  /** Stops the timer after a last flush. */
  close(): Promise<void>;
}

export interface HeartbeatOptions {
  /** Far below the smallest idle timeout (5 s): the delay a poll may take to reach the line. */
  flushEveryMs?: number;
  /** Users per touch: bounds how long one command keeps Redis busy. */
  maxPerCommand?: number;
  logger?: Logger | undefined;
}

export const defaultHeartbeatFlushMs = 1000;

export function createHeartbeats(
  store: Pick<QueueStore, 'touch'>,
  clock: Clock,
  options: HeartbeatOptions = {},
): Heartbeats {
  const flushEveryMs = options.flushEveryMs ?? defaultHeartbeatFlushMs;
  const maxPerCommand = options.maxPerCommand ?? 5000;
  let waiting = new Map<string, Set<string>>();
  let pending = 0;
  let flushing: Promise<void> | null = null;

  const beat = (concertId: string, userId: string) => {
    let users = waiting.get(concertId);
    if (!users) {
      users = new Set();
      waiting.set(concertId, users);
    }
    if (!users.has(userId)) {
      users.add(userId);
      pending++;
    }
  };

  const write = async () => {
    const batch = waiting;
    waiting = new Map();
    pending = 0;
    const now = clock.now();
    for (const [concertId, users] of batch) {
      const all = [...users];
      for (let i = 0; i < all.length; i += maxPerCommand) {
        const chunk = all.slice(i, i + maxPerCommand);
        try {
          await store.touch(concertId, chunk, now);
        } catch (error) {
          // Kept for the next flush, merged with whatever polls came in meanwhile.
          for (const user of chunk) beat(concertId, user);
          options.logger?.warn(
            { err: String(error), concertId, users: chunk.length },
            'heartbeats not written',
          );
        }
      }
    }
  };

  // One flush at a time: a slow one is not overtaken by the next, whose users it would then miss.
  const flush = async () => {
    while (flushing) await flushing;
    if (pending === 0) return;
    flushing = write().finally(() => {
      flushing = null;
    });
    await flushing;
  };

  const timer = setInterval(() => {
    void flush();
  }, flushEveryMs);
  timer.unref();

  return {
    beat,
    flush,
    get pending() {
      return pending;
    },
    async close() {
      clearInterval(timer);
      await flush();
    },
  };
}
