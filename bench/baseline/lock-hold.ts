import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Kysely, Transaction } from 'kysely';
import type { HoldDeps } from '../../functions/hold-seat/hold-seat.ts';
import { lockForUpdate } from '../../shared/db/dialect.ts';
import { retryOnConflict } from '../../shared/db/errors.ts';
import type { DB } from '../../shared/db/schema.ts';
import { topics } from '../../shared/outbox/events.ts';
import { appendToOutbox } from '../../shared/outbox/outbox-writer.ts';
import type { HoldGuard } from '../../shared/seats/hold-guard.ts';
import { type ReservationRow, reservationColumns } from '../../shared/seats/reservation.ts';
import { reservationEvent } from '../../shared/seats/seat-events.ts';
import { expireLapsedHold } from '../../shared/seats/seat-statements.ts';
import type { HoldAttempt, HoldOutcome, SeatStore } from '../../shared/seats/seat-store.ts';
import { seatStoreFor } from '../../shared/seats/seat-store.ts';

/**
 * BENCHMARK BASELINE, not served by any function: the seed ADR's way of holding a seat, kept only so
 * `npm run bench` can measure the real hold path against it on the same tables.
 *
 *   lock = redisson.getLock("lock:seat:{id}"); lock.tryLock(wait 10 s, lease 5 s)   (watchdog renews)
 *   BEGIN; SELECT ... FROM seats WHERE id = ? FOR UPDATE; check; UPDATE seat; INSERT reservation; COMMIT
 *   lock.unlock()                                                        (compare-and-delete in Lua)
 *
 * It is a seat store whose `hold` is the seed's, behind a guard that lets every request through, so the
 * product's own use case and route (holdSeat, reservationRoutes) serve it: only the way of holding
 * differs between the two variants the bench compares. A lock not acquired within the wait is TAKEN (the
 * seed's SeatLockException).
 */
export interface SeatLocks {
  /** Redisson's tryLock(waitMs, leaseMs): the lock, or null when it stayed taken for the whole wait. */
  tryLock(name: string, options: { waitMs: number; leaseMs: number }): Promise<HeldLock | null>;
}

export interface HeldLock {
  /** Deletes the lock only while it is still ours (a lock that lapsed and was retaken stays). */
  unlock(): Promise<void>;
}

export interface BaselineOptions {
  db: Kysely<DB>;
  locks: SeatLocks;
  /** The seed ADR: tryLock(10, 5, SECONDS). */
  lockWaitMs?: number;
  lockLeaseMs?: number;
  /** A hold refused because the lock stayed taken, before any database work (holdSeat counts it lost_db). */
  onLockRefused?(): void;
}

export const seedLockWaitMs = 10_000;
export const seedLockLeaseMs = 5_000;

/** Where bench/server.ts mounts the product's reservation routes with the baseline's deps. */
export const baselinePathPrefix = '/bench/baseline';

/** The seed had no stampede guard: every request goes on to the lock and the database. */
export const openHoldGuard: HoldGuard = {
  claim: async () => true,
  settle: async () => undefined,
  release: async () => undefined,
};

/** The product's store for everything but `hold`, which is the seed's lock + read-check-write. */
export function baselineSeatStore(options: BaselineOptions): SeatStore {
  return { ...seatStoreFor(options.db), hold: (attempt) => lockedHold(options, attempt) };
}

/** holdSeat's deps for the baseline: its store and the open guard, the rest as the product has them. */
export function baselineHoldDeps(options: BaselineOptions & Omit<HoldDeps, 'seats' | 'guard'>): HoldDeps {
  const { db, locks, lockWaitMs, lockLeaseMs, onLockRefused, ...rest } = options;
  return { ...rest, seats: baselineSeatStore(options), guard: openHoldGuard };
}

async function lockedHold(options: BaselineOptions, attempt: HoldAttempt): Promise<HoldOutcome> {
  const lock = await options.locks.tryLock(`seat:{${attempt.seatId}}`, {
    waitMs: options.lockWaitMs ?? seedLockWaitMs,
    leaseMs: options.lockLeaseMs ?? seedLockLeaseMs,
  });
  if (!lock) {
    options.onLockRefused?.();
    return { outcome: 'TAKEN', holder: null, until: null };
  }
  try {
    return await retryOnConflict(() =>
      options.db.transaction().execute((trx) => readCheckWrite(trx, attempt)),
    );
  } finally {
    await lock.unlock();
  }
}

/** Read the seat under a row lock, check it in code, then write: the seed's read-check-write. */
async function readCheckWrite(trx: Transaction<DB>, a: HoldAttempt): Promise<HoldOutcome> {
  const seat = await lockForUpdate(
    trx
      .selectFrom('seats')
      .select(['status', 'held_by', 'hold_expires_at', 'reservation_id', 'price'])
      .where('id', '=', a.seatId)
      .where('schedule_id', '=', a.scheduleId),
    trx,
  ).executeTakeFirst();
  if (!seat) return { outcome: 'NOT_FOUND' };
  if (seat.status === 'SOLD') return { outcome: 'SOLD' };
  const until = seat.hold_expires_at === null ? null : Number(seat.hold_expires_at);
  const holdLive = seat.status === 'HELD' && until !== null && until >= a.now;
  if (holdLive && seat.held_by === a.userId && seat.reservation_id !== null) {
    const mine = await trx
      .selectFrom('reservations')
      .select(reservationColumns)
      .where('id', '=', Number(seat.reservation_id))
      .executeTakeFirstOrThrow();
    return { outcome: 'MINE', reservation: mine };
  }
  if (holdLive) return { outcome: 'TAKEN', holder: seat.held_by, until };
  if (seat.status === 'HELD') await expireLapsedHold(trx, a.seatId, a.now);

  const held = { user_id: a.userId, schedule_id: a.scheduleId, seat_id: a.seatId, price: Number(seat.price) };
  const inserted = await trx
    .insertInto('reservations')
    .values({ ...held, status: 'HELD', expires_at: a.expiresAt, created_at: a.now, updated_at: a.now })
    .executeTakeFirstOrThrow();
  const reservation: ReservationRow = {
    id: Number(inserted.insertId),
    ...held,
    status: 'HELD',
    expires_at: a.expiresAt,
  };
  await trx
    .updateTable('seats')
    .set({
      status: 'HELD',
      held_by: a.userId,
      hold_expires_at: a.expiresAt,
      reservation_id: reservation.id,
      updated_at: a.now,
    })
    .where('id', '=', a.seatId)
    .execute();
  await appendToOutbox(trx, reservationEvent(topics.reservationCreated, reservation), a.now);
  return { outcome: 'HELD', reservation };
}

// --- Redisson-style lock on Redis ---------------------------------------------------------------------

/** SET NX PX, or the remaining PTTL of whoever holds it (Redisson's tryAcquire answers the same). */
const acquireScript = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return -3 end
return redis.call('PTTL', KEYS[1])`;
/** The watchdog: extend the lease only while the lock is still ours. */
const renewScript = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`;
/** unlock(): compare-and-delete, then wake one waiter (Redisson publishes on the lock's channel). */
const unlockScript = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('PUBLISH', ARGV[2], '0')
  return 1
end
return 0`;

interface LockCommands {
  baselineLockAcquire(key: string, token: string, leaseMs: number): Promise<number>;
  baselineLockRenew(key: string, token: string, leaseMs: number): Promise<number>;
  baselineLockRelease(key: string, token: string, channel: string): Promise<number>;
}

/**
 * Redisson's RLock, reduced to what the seed uses: `SET lock:<name> <uuid> NX PX lease`; while held, a
 * watchdog re-PEXPIREs it every lease/3; unlock deletes it only if it still holds our uuid and publishes
 * on the lock's channel. A waiter subscribes to that channel and retries when woken or when the holder's
 * lease would have run out, until its wait is spent. Inline Lua (ioredis defineCommand, called by SHA)
 * keeps this benchmark-only code out of shared/redis/lua.
 */
export function createRedisSeatLocks(
  redis: Redis,
  options: { prefix?: string } = {},
): SeatLocks & { close(): void } {
  const prefix = options.prefix ?? 'lock';
  const commands = redis as Redis & LockCommands;
  if (!('baselineLockAcquire' in redis)) {
    redis.defineCommand('baselineLockAcquire', { numberOfKeys: 1, lua: acquireScript });
    redis.defineCommand('baselineLockRenew', { numberOfKeys: 1, lua: renewScript });
    redis.defineCommand('baselineLockRelease', { numberOfKeys: 1, lua: unlockScript });
  }
  const waiters = createUnlockWaiters(redis);

  return {
    close: () => waiters.close(),
    async tryLock(name, { waitMs, leaseMs }) {
      const key = `${prefix}:${name}`;
      const channel = `${prefix}-channel:${name}`;
      const token = randomUUID();
      const held = (): HeldLock => {
        // The watchdog: renew at a third of the lease while the work runs (Redisson's default cadence).
        const watchdog = setInterval(
          () => void commands.baselineLockRenew(key, token, leaseMs).catch(() => undefined),
          Math.max(1, Math.floor(leaseMs / 3)),
        );
        watchdog.unref();
        return {
          async unlock() {
            clearInterval(watchdog);
            await commands.baselineLockRelease(key, token, channel);
          },
        };
      };

      let ttl = await commands.baselineLockAcquire(key, token, leaseMs);
      if (ttl === -3) return held();
      if (waitMs <= 0) return null;
      const deadline = Date.now() + waitMs;
      const subscription = await waiters.subscribe(channel);
      try {
        for (;;) {
          ttl = await commands.baselineLockAcquire(key, token, leaseMs);
          if (ttl === -3) return held();
          const left = deadline - Date.now();
          if (left <= 0) return null;
          // Woken by an unlock, or when the holder's lease would have lapsed without one.
          await subscription.next(ttl >= 0 ? Math.min(left, ttl) : Math.min(left, 100));
        }
      } finally {
        subscription.close();
      }
    },
  };
}

interface Subscription {
  /** Resolves on the next unlock message for the channel (one waiter per message), or after ms. */
  next(ms: number): Promise<void>;
  close(): void;
}

/** One subscriber connection per process; per channel a semaphore of unlock messages, as Redisson keeps. */
function createUnlockWaiters(redis: Redis) {
  let subscriber: Redis | null = null;
  const channels = new Map<
    string,
    { users: number; permits: number; queue: Array<() => void>; subscribed: Promise<unknown> }
  >();

  const connection = () => {
    if (!subscriber) {
      subscriber = redis.duplicate({ enableAutoPipelining: false, keyPrefix: '' });
      subscriber.on('error', () => undefined);
      subscriber.on('message', (channel: string) => {
        const entry = channels.get(channel);
        if (!entry) return;
        const wake = entry.queue.shift();
        if (wake) wake();
        else entry.permits = Math.min(entry.permits + 1, 1);
      });
    }
    return subscriber;
  };

  return {
    close() {
      subscriber?.disconnect();
      subscriber = null;
    },
    async subscribe(channel: string): Promise<Subscription> {
      let entry = channels.get(channel);
      if (!entry) {
        // Every waiter awaits the one SUBSCRIBE, so none retries before messages can reach it.
        entry = { users: 0, permits: 0, queue: [], subscribed: connection().subscribe(channel) };
        channels.set(channel, entry);
      }
      entry.users += 1;
      const current = entry;
      const leave = () => {
        current.users -= 1;
        if (current.users > 0) return;
        channels.delete(channel);
        void connection()
          .unsubscribe(channel)
          .catch(() => undefined);
      };
      try {
        await current.subscribed;
      } catch (error) {
        leave();
        throw error;
      }
      return {
        close: leave,
        next(ms) {
          if (current.permits > 0) {
            current.permits -= 1;
            return Promise.resolve();
          }
          return new Promise<void>((resolve) => {
            const wake = () => {
              clearTimeout(timer);
              resolve();
            };
            const timer = setTimeout(() => {
              const at = current.queue.indexOf(wake);
              if (at >= 0) current.queue.splice(at, 1);
              resolve();
            }, ms);
            current.queue.push(wake);
          });
        },
      };
    },
  };
}
