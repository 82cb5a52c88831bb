import { randomInt, randomUUID } from 'node:crypto';
import {
  type AdmissionRate,
  admitCap,
  idleDropCap,
  type JournaledActivation,
  journalCap,
  lineReadCap,
  type PreKeySource,
  type QueueDefaults,
  type QueueSettings,
  type QueueSettingsPatch,
  type QueueSnapshot,
  type QueueStore,
  type QueueStoreOptions,
  type QueueView,
  rateBucketMs,
  recoveryWindowMs,
  resolveAdmission,
  resolveSettings,
  seqPerMs,
} from './queue-store.ts';
import { SeqLine } from './seq-line.ts';

interface Line {
  waiting: SeqLine;
  /** userId → activeUntil ms */
  active: Map<string, number>;
  /** Earliest activeUntil that may still be in `active`: expiry scans only when it has passed. */
  nextExpiry: number;
  /** userId → last poll ms, kept in poll order (re-inserted on every poll) so idle users come first. */
  seen: Map<string, number>;
  seq: number;
  /** '' until the first user: see QueueView.epoch. */
  epoch: string;
  /** Admissions wait until then after a loss (recoveryWindowMs). */
  recoverUntil: number;
  /** Users whose place was restored in this incarnation: once each. */
  healed: Set<string>;
  /** userId → random sort key, before the opening */
  pre: Map<string, number>;
  overrides: QueueSettingsPatch;
  admittedTotal: number;
  /** Admission budget in thousandths of a user (integers, so both stores compute exactly alike). */
  creditMilli: number | null;
  creditAt: number;
  rateBucket: number | null;
  rateCurrent: number;
  ratePrevious: number;
  /** Admissions whose events are not known to be written: see QueueStore.journaled. */
  journal: JournaledActivation[];
}

export const cryptoPreKey: PreKeySource = () => randomInt(0, 2 ** 48 - 1);
export const randomEpoch = (): string => randomUUID();

/**
 * The embedded queue: the exact rules of lua/queue-*.lua, in process. One instance per process (see
 * queueStoreFor), since every mounted function must see the same line.
 */
export function createMemoryQueueStore(defaults: QueueDefaults, options: QueueStoreOptions = {}): QueueStore {
  const preKey = options.preKey ?? cryptoPreKey;
  const newEpoch = options.newEpoch ?? randomEpoch;
  const lines = new Map<string, Line>();

  const lineFor = (concertId: string): Line => {
    let line = lines.get(concertId);
    if (!line) {
      line = {
        waiting: new SeqLine(),
        active: new Map(),
        nextExpiry: Number.POSITIVE_INFINITY,
        seen: new Map(),
        seq: 0,
        epoch: '',
        recoverUntil: 0,
        healed: new Set(),
        pre: new Map(),
        overrides: {},
        admittedTotal: 0,
        creditMilli: null,
        creditAt: 0,
        rateBucket: null,
        rateCurrent: 0,
        ratePrevious: 0,
        journal: [],
      };
      lines.set(concertId, line);
    }
    return line;
  };

  /** The next `n` sequence numbers: see seqPerMs. */
  const takeSeq = (line: Line, n: number, now: number) => {
    const first = Math.max(line.seq + 1, now * seqPerMs);
    line.seq = first + n - 1;
    return first;
  };

  /** Gives a line its incarnation when its first user comes, asking the registry whether it is a loss. */
  const startLine = async (line: Line, concertId: string, now: number) => {
    if (line.epoch !== '') return;
    const known = options.registry ? await options.registry.lineStarted(concertId, now) : false;
    if (line.epoch !== '') return;
    line.epoch = newEpoch();
    if (known) line.recoverUntil = now + recoveryWindowMs;
  };

  const touch = (line: Line, userId: string, now: number) => {
    line.seen.delete(userId);
    line.seen.set(userId, now);
  };

  const activate = (line: Line, userId: string, until: number) => {
    line.active.set(userId, until);
    if (until < line.nextExpiry) line.nextExpiry = until;
  };

  let journalSeq = 0;
  const journal = (line: Line, userId: string, now: number) => {
    if (line.journal.length >= journalCap) line.journal.shift();
    line.journal.push({ id: String(++journalSeq), userId, at: now });
  };

  /** The admission step, as in the Lua scripts: expire, drop idle, open, admit. */
  const step = (line: Line, s: QueueSettings, now: number): string[] => {
    if (now >= line.nextExpiry) {
      let next = Number.POSITIVE_INFINITY;
      for (const [user, until] of line.active) {
        if (until <= now) line.active.delete(user);
        else if (until < next) next = until;
      }
      line.nextExpiry = next;
    }

    const idleBefore = now - s.idleTimeoutSeconds * 1000;
    let dropped = 0;
    for (const [user, at] of line.seen) {
      if (at > idleBefore || dropped >= idleDropCap) break;
      line.seen.delete(user);
      line.waiting.remove(user);
      line.pre.delete(user);
      dropped++;
    }

    const opened = s.opensAt === null || now >= s.opensAt;
    if (opened && line.pre.size > 0) {
      const order = [...line.pre].sort(([ua, ka], [ub, kb]) => ka - kb || (ua < ub ? -1 : ua > ub ? 1 : 0));
      const first = takeSeq(line, order.length, now);
      for (const [i, [user]] of order.entries()) line.waiting.push(user, first + i);
      line.pre.clear();
    }

    if (!opened || s.paused || now < line.recoverUntil) return [];
    const cap = s.admitPerSecond * 1000;
    let credit = line.creditMilli ?? cap;
    let at = line.creditMilli === null ? now : line.creditAt;
    if (line.creditMilli !== null && now > at) credit += (now - at) * s.admitPerSecond;
    credit = Math.min(credit, cap);
    if (now > at) at = now;
    const n = Math.min(Math.floor(credit / 1000), s.maxActive - line.active.size, admitCap);
    const admitted = n > 0 ? line.waiting.shift(n) : [];
    if (admitted.length > 0) {
      const until = now + s.activeTtlSeconds * 1000;
      for (const user of admitted) {
        activate(line, user, until);
        line.seen.delete(user);
        journal(line, user, now);
      }
      credit -= admitted.length * 1000;
      line.admittedTotal += admitted.length;
      countAdmissions(line, now, admitted.length);
    }
    // A full budget is left unwritten, as in Lua (which saves a write per poll that way): same results.
    if (admitted.length > 0 || credit < cap) {
      line.creditMilli = credit;
      line.creditAt = at;
    }
    return admitted;
  };

  const countAdmissions = (line: Line, now: number, k: number) => {
    const bucket = Math.floor(now / rateBucketMs);
    if (line.rateBucket === null || bucket > line.rateBucket + 1) {
      line.ratePrevious = 0;
      line.rateCurrent = k;
      line.rateBucket = bucket;
    } else if (bucket === line.rateBucket + 1) {
      line.ratePrevious = line.rateCurrent;
      line.rateCurrent = k;
      line.rateBucket = bucket;
    } else {
      line.rateCurrent += k;
    }
  };

  const rateOf = (line: Line | undefined, now: number): AdmissionRate => {
    const bucket = Math.floor(now / rateBucketMs);
    const windowMs = rateBucketMs + (now - bucket * rateBucketMs);
    if (!line || line.rateBucket === null || line.rateBucket < bucket - 1) return { count: 0, windowMs };
    if (line.rateBucket === bucket - 1) return { count: line.rateCurrent, windowMs };
    return { count: line.ratePrevious + line.rateCurrent, windowMs };
  };

  const snapshotOf = (line: Line, s: QueueSettings, now: number, admitted: string[]): QueueSnapshot => ({
    waiting: line.waiting.size,
    preRegistered: line.pre.size,
    active: line.active.size,
    admittedTotal: line.admittedTotal,
    settings: s,
    rate: rateOf(line, now),
    admitted,
  });

  const view = (line: Line, s: QueueSettings, userId: string, now: number, admitted: string[]): QueueView => {
    const base = { settings: s, rate: rateOf(line, now), admitted, epoch: line.epoch };
    const until = line.active.get(userId);
    if (until !== undefined) return { ...base, state: 'ACTIVE', position: 0, activeUntil: until, seq: 0 };
    const seq = line.waiting.seq(userId);
    if (seq !== undefined) {
      touch(line, userId, now);
      return { ...base, state: 'WAITING', position: line.waiting.rank(userId) + 1, activeUntil: 0, seq };
    }
    if (line.pre.has(userId)) {
      touch(line, userId, now);
      return { ...base, state: 'PRE', position: line.pre.size, activeUntil: 0, seq: 0 };
    }
    return { ...base, state: 'NONE', position: 0, activeUntil: 0, seq: 0 };
  };

  return {
    async enter(concertId, userId, now) {
      const key = preKey();
      const line = lineFor(concertId);
      await startLine(line, concertId, now);
      const s = resolveSettings(defaults, line.overrides);
      const admitted = step(line, s, now);
      const known = view(line, s, userId, now, admitted);
      if (known.state !== 'NONE') return known;

      if (s.opensAt !== null && now < s.opensAt) {
        line.pre.set(userId, key);
        touch(line, userId, now);
      } else if (
        !s.paused &&
        now >= line.recoverUntil &&
        line.waiting.size === 0 &&
        line.active.size < s.maxActive
      ) {
        const seq = takeSeq(line, 1, now);
        activate(line, userId, now + s.activeTtlSeconds * 1000);
        line.admittedTotal++;
        admitted.push(userId);
        journal(line, userId, now);
        return { ...view(line, s, userId, now, admitted), seq };
      } else {
        line.waiting.push(userId, takeSeq(line, 1, now));
        touch(line, userId, now);
      }
      return view(line, s, userId, now, admitted);
    },

    async status(concertId, userId, now) {
      const line = lines.get(concertId);
      if (!line) {
        const settings = resolveSettings(defaults, {});
        const rate = rateOf(undefined, now);
        return {
          state: 'NONE',
          position: 0,
          activeUntil: 0,
          seq: 0,
          epoch: '',
          settings,
          rate,
          admitted: [],
        };
      }
      const s = resolveSettings(defaults, line.overrides);
      return view(line, s, userId, now, step(line, s, now));
    },

    async admit(concertId, now): Promise<QueueSnapshot> {
      const line = lineFor(concertId);
      const s = resolveSettings(defaults, line.overrides);
      return snapshotOf(line, s, now, step(line, s, now));
    },

    async line(concertId, now, afterSeq, polled) {
      const line = lineFor(concertId);
      for (const user of polled) {
        const at = line.seen.get(user);
        if (at !== undefined && at < now) touch(line, user, now);
      }
      const s = resolveSettings(defaults, line.overrides);
      return {
        ...snapshotOf(line, s, now, step(line, s, now)),
        epoch: line.epoch,
        head: line.waiting.headSeq(),
        tail: line.waiting.seqsAfter(afterSeq, lineReadCap),
      };
    },

    async counts(concertId, now) {
      const line = lines.get(concertId);
      if (!line) return { waiting: 0, preRegistered: 0, active: 0 };
      let active = 0;
      for (const until of line.active.values()) if (until > now) active++;
      return { waiting: line.waiting.size, preRegistered: line.pre.size, active };
    },

    async restore(concertId, userId, claim, now) {
      const key = preKey();
      const line = lineFor(concertId);
      await startLine(line, concertId, now);
      if (claim.epoch === '' || claim.epoch === line.epoch) return false;
      if (claim.kind === 'access') {
        if (claim.activeUntil <= now) return false;
        line.waiting.remove(userId);
        line.pre.delete(userId);
        line.seen.delete(userId);
        const current = line.active.get(userId);
        if (current === undefined || current < claim.activeUntil) activate(line, userId, claim.activeUntil);
        return true;
      }
      if (line.healed.has(userId) || line.active.has(userId)) return false;
      line.healed.add(userId);
      const s = resolveSettings(defaults, line.overrides);
      if (s.opensAt !== null && now < s.opensAt) {
        if (!line.pre.has(userId)) line.pre.set(userId, key);
      } else {
        // A place given before the opening has no number of its own: it goes where the opening put them.
        const seq = claim.seq > 0 ? claim.seq : (s.opensAt ?? 0) * seqPerMs;
        const current = line.waiting.seq(userId);
        if (current === undefined || current > seq) {
          line.waiting.remove(userId);
          line.waiting.insert(userId, seq);
        }
        line.pre.delete(userId);
        if (line.seq < seq) line.seq = seq;
      }
      touch(line, userId, now);
      return true;
    },

    async epoch(concertId) {
      return lines.get(concertId)?.epoch ?? '';
    },

    async activeUntil(concertId, userId) {
      return lines.get(concertId)?.active.get(userId) ?? null;
    },

    async release(concertId, userId) {
      return lines.get(concertId)?.active.delete(userId) ?? false;
    },

    async settings(concertId) {
      return resolveSettings(defaults, lines.get(concertId)?.overrides ?? {});
    },

    async updateSettings(concertId, patch) {
      const line = lineFor(concertId);
      const next: QueueSettingsPatch = { ...line.overrides };
      for (const [key, value] of Object.entries(patch) as [keyof QueueSettingsPatch, unknown][]) {
        if (value === undefined) continue;
        if (value === null) delete next[key];
        else Object.assign(next, { [key]: value });
      }
      line.overrides = next;
      return resolveSettings(defaults, next);
    },

    async admission(concertId) {
      return resolveAdmission(lines.get(concertId)?.overrides ?? {});
    },

    async concerts() {
      return [...lines.keys()];
    },

    async journaled(concertId, before, limit) {
      const entries = lines.get(concertId)?.journal ?? [];
      return entries.filter((entry) => entry.at <= before).slice(0, limit);
    },

    async settleJournal(concertId, ids) {
      const line = lines.get(concertId);
      if (!line || ids.length === 0) return;
      const settled = new Set(ids);
      line.journal = line.journal.filter((entry) => !settled.has(entry.id));
    },
  };
}
