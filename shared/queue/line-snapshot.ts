import type { Clock } from '../clock.ts';
import type { Logger } from '../logger.ts';
import { announceActivated, type OnActivated } from './activated.ts';
import { type LineRead, lineReadCap, type QueueStore, type QueueView } from './queue-store.ts';

/**
 * Each process keeps, per concert in use, what the line looked like at its last read: the frontier, the
 * counts, the settings and the sequence numbers of everyone waiting. Every stream and every status poll of
 * a waiting user answers from it, so Redis sees one script per concert per tick per process however many
 * waiters there are (docs/adr/0007-line-snapshot.md).
 *
 * A read also runs the admission step (so streams keep the line moving as their polls did), carries the
 * heartbeats of the waiters served since the last read, and announces who it admitted.
 */
export interface LineSnapshotOptions {
  store: QueueStore;
  clock: Clock;
  /** How often each concert in use is read. */
  tickMs: number;
  /** The oldest read a lookup answers from: the staleness the API documents. */
  maxAgeMs: number;
  /** A concert nobody polled or streamed for this long is no longer read. */
  idleMs: number;
  /** Off in tests, which call readNow themselves. */
  timer: boolean;
  onActivated?: OnActivated;
  logger?: Logger;
}

export const defaultLineSnapshotOptions = { tickMs: 500, maxAgeMs: 1000, idleMs: 30_000, timer: true };

/**
 * placed: the holder waits at `view.position`. unknown: the snapshot cannot tell about this holder (admitted,
 * dropped, newer than the last read, another incarnation, before the opening): ask the store. stale: no
 * read recent enough yet; failed: the last read failed (Redis is down): asking the store reports it.
 */
export type LineLookup =
  | { kind: 'placed'; view: QueueView }
  | { kind: 'unknown' }
  | { kind: 'stale' }
  | { kind: 'failed' };

/** A stream's registration: heartbeats for its user go with the reads until it is closed. */
export interface LineWatch {
  /** Resolves after a read (successful or not) newer than the one the last call woke for. */
  next(): Promise<void>;
  close(): void;
}

/** What a queue token says about its holder. */
export interface LineHolder {
  concertId: string;
  userId: string;
  epoch: string;
  seq: number;
}

export interface LineSnapshots {
  /**
   * Where the holder of a queue token of `epoch` and `seq` stands by the last read. `heldOpen`: asked for
   * a stream, whose heartbeats keep a place before the opening (seq 0) alive, so that one is placed too.
   */
  lookup(holder: LineHolder, heldOpen?: boolean): LineLookup;
  /** A poll answered from the snapshot: its heartbeat goes with the next read. */
  polled(concertId: string, userId: string): void;
  /** Someone entered the concert's line here: read it from now on, so their polls find a read. */
  follow(concertId: string): void;
  /**
   * Users this process saw admitted outside the snapshot's reads (a poll's or the admin's admission step):
   * they are not placed from a read that may predate it.
   */
  admitted(concertId: string, userIds: string[], activeUntil: number): void;
  watch(concertId: string, userId: string): LineWatch;
  /** Reads the concert again now, after any read under way (its settings changed here). */
  invalidate(concertId: string): Promise<void>;
  /** Reads every concert in use (what the timer does each tick). */
  readNow(): Promise<void>;
  close(): void;
}

interface Watcher {
  userId: string;
  beatAt: number;
  /** The count of reads when `next` last resolved. */
  woke: number;
}

interface Line {
  read: LineRead | null;
  readAt: number;
  failed: boolean;
  /** The waiting sequence numbers, ascending: the line's order. */
  seqs: number[];
  /** False while a line longer than one read's cap is still being read. */
  complete: boolean;
  usedAt: number;
  polled: Set<string>;
  /** See LineSnapshots.admitted; those noted before a read began are gone from it. */
  admittedHere: Set<string>;
  /**
   * Users admitted in the last seconds (by the reads or by this process), with their slot's end: a stream
   * of one is told ACTIVE without asking the store (a burst of admissions is then no burst of scripts).
   */
  recentlyActive: Map<string, { until: number; at: number }>;
  watchers: Set<Watcher>;
  wakers: Array<() => void>;
  reading: Promise<void> | null;
  /** Reads finished (successful or not). */
  reads: number;
}

/** The first index whose value is not below `seq`. */
function lowerBound(seqs: number[], seq: number): number {
  let lo = 0;
  let hi = seqs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (seqs[mid]! < seq) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** How long an admission is remembered for streams: a few reads, so every stream of the concert wakes once. */
const recentMs = 10_000;

export function createLineSnapshots(options: LineSnapshotOptions): LineSnapshots {
  const { store, clock } = options;
  const lines = new Map<string, Line>();
  let timer: ReturnType<typeof setInterval> | null = null;

  const lineFor = (concertId: string): Line => {
    let line = lines.get(concertId);
    if (!line) {
      line = {
        read: null,
        readAt: 0,
        failed: false,
        seqs: [],
        complete: false,
        usedAt: clock.now(),
        polled: new Set(),
        admittedHere: new Set(),
        recentlyActive: new Map(),
        watchers: new Set(),
        wakers: [],
        reading: null,
        reads: 0,
      };
      lines.set(concertId, line);
      if (options.timer && !timer) {
        timer = setInterval(() => void readAll(), options.tickMs);
        timer.unref();
      }
    }
    return line;
  };

  /** The waiters whose heartbeat is due: polls since the last read, streams every third of the idle timeout. */
  const heartbeats = (line: Line, now: number): string[] => {
    const users = [...line.polled];
    line.polled.clear();
    const every = ((line.read?.settings.idleTimeoutSeconds ?? 0) * 1000) / 3;
    for (const watcher of line.watchers) {
      if (now - watcher.beatAt < every) continue;
      watcher.beatAt = now;
      users.push(watcher.userId);
    }
    return users;
  };

  const apply = (line: Line, read: LineRead, fromScratch: boolean) => {
    let seqs = fromScratch ? [] : line.seqs;
    if (read.head === 0) seqs = [];
    else {
      const gone = lowerBound(seqs, read.head);
      if (gone > 0) seqs = seqs.slice(gone);
    }
    for (const seq of read.tail) seqs.push(seq);
    line.seqs = seqs;
    line.complete = read.tail.length < lineReadCap;
  };

  const noteAdmitted = (concertId: string, line: Line, read: LineRead, now: number) => {
    announceActivated(options, concertId, read.admitted, now);
    for (const [user, entry] of line.recentlyActive) {
      if (entry.at >= now - recentMs) break;
      line.recentlyActive.delete(user);
    }
    const until = now + read.settings.activeTtlSeconds * 1000;
    for (const user of read.admitted) line.recentlyActive.set(user, { until, at: now });
  };

  const readLine = async (concertId: string, line: Line) => {
    const now = clock.now();
    const polled = heartbeats(line, now);
    const admittedBefore = line.admittedHere;
    line.admittedHere = new Set();
    try {
      const after = line.seqs.at(-1) ?? 0;
      let read = await store.line(concertId, now, after, polled);
      noteAdmitted(concertId, line, read, now);
      apply(line, read, false);
      // Someone left from the middle of the line (idle, restored): the order is read again whole.
      if (line.complete && line.seqs.length !== read.waiting) {
        read = await store.line(concertId, now, 0, []);
        noteAdmitted(concertId, line, read, now);
        apply(line, read, true);
      }
      line.read = read;
      line.readAt = now;
      line.failed = false;
    } catch (error) {
      // Once per outage, not once per tick.
      if (!line.failed)
        options.logger?.warn({ err: String(error), concertId }, 'queue line snapshot read failed');
      line.failed = true;
      // The heartbeats go with the next read.
      for (const user of polled) line.polled.add(user);
      for (const user of admittedBefore) line.admittedHere.add(user);
    }
    line.reads++;
    const wakers = line.wakers;
    line.wakers = [];
    for (const wake of wakers) wake();
  };

  const readOne = (concertId: string, line: Line): Promise<void> => {
    if (!line.reading) {
      line.reading = readLine(concertId, line).finally(() => {
        line.reading = null;
      });
    }
    return line.reading;
  };

  const readAll = async () => {
    const now = clock.now();
    const pending: Promise<void>[] = [];
    for (const [concertId, line] of lines) {
      if (line.watchers.size === 0 && now - line.usedAt > options.idleMs) {
        lines.delete(concertId);
        continue;
      }
      pending.push(readOne(concertId, line));
    }
    if (lines.size === 0 && timer) {
      clearInterval(timer);
      timer = null;
    }
    await Promise.all(pending);
  };

  return {
    lookup({ concertId, userId, epoch, seq }, heldOpen = false) {
      const line = lineFor(concertId);
      const now = clock.now();
      line.usedAt = now;
      if (line.failed) return { kind: 'failed' };
      const read = line.read;
      if (!read || now - line.readAt > options.maxAgeMs) return { kind: 'stale' };
      if (epoch !== read.epoch) return { kind: 'unknown' };
      const base = { activeUntil: 0, seq, epoch, settings: read.settings, rate: read.rate, admitted: [] };
      // Only a stream: a poll of a slot that ended early (paid) must hear it from the store.
      const active = heldOpen ? line.recentlyActive.get(userId) : undefined;
      if (active && active.until > now) {
        return { kind: 'placed', view: { ...base, state: 'ACTIVE', position: 0, activeUntil: active.until } };
      }
      if (line.admittedHere.has(userId)) return { kind: 'unknown' };
      if (seq === 0) {
        // Whether a poll's holder is still registered only the store knows; a stream keeps its own alive.
        if (!heldOpen || read.preRegistered === 0) return { kind: 'unknown' };
        return { kind: 'placed', view: { ...base, state: 'PRE', position: read.preRegistered } };
      }
      // A line longer than one read is still being read: beyond what was read, wait for the next read.
      if (!line.complete && seq > (line.seqs.at(-1) ?? 0)) return { kind: 'stale' };
      // Sequence numbers are unique in a line: finding the token's number is finding its holder.
      const index = lowerBound(line.seqs, seq);
      if (line.seqs[index] !== seq) return { kind: 'unknown' };
      return { kind: 'placed', view: { ...base, state: 'WAITING', position: index + 1 } };
    },

    polled(concertId, userId) {
      lineFor(concertId).polled.add(userId);
    },

    follow(concertId) {
      lineFor(concertId).usedAt = clock.now();
    },

    watch(concertId, userId) {
      const line = lineFor(concertId);
      const watcher: Watcher = { userId, beatAt: clock.now(), woke: line.reads };
      line.watchers.add(watcher);
      return {
        next: () => {
          // A read that finished while the stream was busy writing still counts.
          if (line.reads > watcher.woke) {
            watcher.woke = line.reads;
            return Promise.resolve();
          }
          return new Promise<void>((resolve) =>
            line.wakers.push(() => {
              watcher.woke = line.reads;
              resolve();
            }),
          );
        },
        close: () => {
          line.watchers.delete(watcher);
          line.usedAt = clock.now();
        },
      };
    },

    admitted(concertId, userIds, activeUntil) {
      const line = lines.get(concertId);
      if (!line) return;
      const at = clock.now();
      for (const user of userIds) {
        line.admittedHere.add(user);
        line.recentlyActive.delete(user);
        line.recentlyActive.set(user, { until: activeUntil, at });
      }
    },

    async invalidate(concertId) {
      const line = lines.get(concertId);
      if (!line) return;
      await line.reading;
      await readOne(concertId, line);
    },

    readNow: readAll,

    close() {
      if (timer) clearInterval(timer);
      timer = null;
      for (const line of lines.values()) {
        for (const wake of line.wakers) wake();
      }
      lines.clear();
    },
  };
}
