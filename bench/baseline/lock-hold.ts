import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Kysely } from 'kysely';
import type { Clock } from '../../shared/clock.ts';
import { lockForUpdate } from '../../shared/db/dialect.ts';
import { retryOnConflict } from '../../shared/db/errors.ts';
import type { DB } from '../../shared/db/schema.ts';
import { topics } from '../../shared/outbox/events.ts';
import { appendToOutbox } from '../../shared/outbox/outbox-writer.ts';
import {
  type ReservationRow,
  type ReservationView,
  reservationColumns,
  reservationView,
} from '../../shared/seats/reservation.ts';
import type { SeatCache } from '../../shared/seats/seat-cache.ts';
import { reservationEventData as eventData } from '../../shared/seats/seat-events.ts';
import { expireLapsedHold } from '../../shared/seats/seat-statements.ts';

type HoldResult =
  | { ok: true; reservation: ReservationView }
  | { ok: false; code: 'SEAT_TAKEN' | 'NOT_FOUND' };

/**
 * BENCHMARK BASELINE, not served by any function: the seed ADR's way of holding a seat, kept only so
 * `npm run bench` can measure the real hold path (hold-seat.ts) against it on the same tables.
 *
 *   lock = redisson.getLock("lock:seat:{id}"); lock.tryLock(wait 10 s, lease 5 s)   (watchdog renews)
 *   BEGIN; SELECT ... FROM seats WHERE id = ? FOR UPDATE; check; UPDATE seat; INSERT reservation; COMMIT
 *   lock.unlock()                                                        (compare-and-delete in Lua)
 *
 * A lock not acquired within the wait answers SEAT_TAKEN (the seed's SeatLockException). It writes the
 * same rows and outbox event as holdSeat and answers the same results, so both can be checked alike.
 */
export interface SeatLocks {
  /** Redisson's tryLock(waitMs, leaseMs): the lock, or null when it stayed taken for the whole wait. */
  tryLock(name: string, options: { waitMs: number; leaseMs: number }): Promise<HeldLock | null>;
}

export interface HeldLock {
  /** Deletes the lock only while it is still ours (a lock that lapsed and was retaken stays). */
  unlock(): Promise<void>;
}

export interface BaselineHoldDeps {
  db: Kysely<DB>;
  clock: Clock;
  holdTtlMs: number;
  locks: SeatLocks;
  seatCache: SeatCache;
  /** The seed ADR: tryLock(10, 5, SECONDS). */
  lockWaitMs?: number;
  lockLeaseMs?: number;
  onOutcome?(outcome: 'won' | 'lost_lock' | 'lost_db' | 'repeat'): void;
}

export const seedLockWaitMs = 10_000;
export const seedLockLeaseMs = 5_000;

type Decision =
  | { kind: 'won'; row: ReservationRow }
  | { kind: 'mine'; reservationId: number }
  | { kind: 'taken' }
  | { kind: 'missing' };

export async function baselineHoldSeat(
  deps: BaselineHoldDeps,
  input: { userId: string; scheduleId: number; seatId: number },
): Promise<HoldResult> {
  const lock = await deps.locks.tryLock(`seat:{${input.seatId}}`, {
    waitMs: deps.lockWaitMs ?? seedLockWaitMs,
    leaseMs: deps.lockLeaseMs ?? seedLockLeaseMs,
  });
  if (!lock) {
    deps.onOutcome?.('lost_lock');
    return { ok: false, code: 'SEAT_TAKEN' };
  }
  let decision: Decision;
  let now: number;
  try {
    now = deps.clock.now();
    decision = await retryOnConflict(() => decideUnderLock(deps, input, now));
  } finally {
    await lock.unlock();
  }

  switch (decision.kind) {
    case 'won':
      deps.onOutcome?.('won');
      await deps.seatCache.invalidate(String(input.scheduleId));
      return { ok: true, reservation: reservationView(decision.row, now) };
    case 'mine': {
      const mine = await deps.db
        .selectFrom('reservations')
        .select(reservationColumns)
        .where('id', '=', decision.reservationId)
        .executeTakeFirstOrThrow();
      deps.onOutcome?.('repeat');
      return { ok: true, reservation: reservationView(mine, now) };
    }
    case 'taken':
      deps.onOutcome?.('lost_db');
      return { ok: false, code: 'SEAT_TAKEN' };
    case 'missing':
      return { ok: false, code: 'NOT_FOUND' };
  }
}

/** Read the seat under a row lock, check it in code, then write: the seed's read-check-write. */
function decideUnderLock(
  deps: BaselineHoldDeps,
  input: { userId: string; scheduleId: number; seatId: number },
  now: number,
): Promise<Decision> {
  return deps.db.transaction().execute(async (trx): Promise<Decision> => {
    const seat = await lockForUpdate(
      trx
        .selectFrom('seats')
        .select(['status', 'held_by', 'hold_expires_at', 'reservation_id', 'price'])
        .where('id', '=', input.seatId)
        .where('schedule_id', '=', input.scheduleId),
      trx,
    ).executeTakeFirst();
    if (!seat) return { kind: 'missing' };
    const holdLive = seat.status === 'HELD' && Number(seat.hold_expires_at) >= now;
    if (holdLive && seat.held_by === input.userId && seat.reservation_id !== null) {
      return { kind: 'mine', reservationId: Number(seat.reservation_id) };
    }
    if (seat.status === 'SOLD' || holdLive) return { kind: 'taken' };
    if (seat.status === 'HELD') await expireLapsedHold(trx, input.seatId, now);

    const expiresAt = now + deps.holdTtlMs;
    const price = Number(seat.price);
    const inserted = await trx
      .insertInto('reservations')
      .values({
        user_id: input.userId,
        schedule_id: input.scheduleId,
        seat_id: input.seatId,
        price,
        status: 'HELD',
        expires_at: expiresAt,
        created_at: now,
        updated_at: now,
      })
      .executeTakeFirstOrThrow();
    const row: ReservationRow = {
      id: Number(inserted.insertId),
      user_id: input.userId,
      schedule_id: input.scheduleId,
      seat_id: input.seatId,
      price,
      status: 'HELD',
      expires_at: expiresAt,
    };
    await trx
      .updateTable('seats')
      .set({
        status: 'HELD',
        held_by: input.userId,
        hold_expires_at: expiresAt,
        reservation_id: row.id,
        updated_at: now,
      })
      .where('id', '=', input.seatId)
      .execute();
    await appendToOutbox(
      trx,
      {
        topic: topics.reservationCreated,
        key: String(input.seatId),
        factId: String(row.id),
        data: eventData(row),
      },
      now,
    );
    return { kind: 'won', row };
  });
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
