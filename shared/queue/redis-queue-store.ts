import type { Redis } from 'ioredis';
import { defineLuaScript } from '../redis/scripts.ts';
import { cryptoPreKey, randomEpoch } from './memory-queue-store.ts';
import {
  type AdmissionSettings,
  type JournaledActivation,
  lineReadCap,
  type QueueDefaults,
  type QueueSettings,
  type QueueSettingsPatch,
  type QueueSnapshot,
  type QueueState,
  type QueueStore,
  type QueueStoreOptions,
  type QueueView,
  recoveryWindowMs,
  resolveAdmission,
  resolveSettings,
} from './queue-store.ts';

const states: QueueState[] = ['NONE', 'WAITING', 'ACTIVE', 'PRE'];
/** The settings' fields in their hash, and in that order in the scripts' replies. */
const settingFields = [
  'maxActive',
  'admitPerSecond',
  'activeTtlSeconds',
  'idleTimeoutSeconds',
  'paused',
  'opensAt',
] as const;

/**
 * Fields of the same hash that no script reads: how admitPerSecond is chosen and the controller's last
 * change. The scripts see only admitPerSecond, which the controller writes.
 */
const admissionFields = [
  'admission',
  'minAdmitPerSecond',
  'maxAdmitPerSecond',
  'admissionChange',
  'admissionReason',
  'admissionChangedAt',
] as const;

type Reply = Array<number | string>;

/** A concert's keys, in the order the scripts take them as KEYS (queue-admit-step.lua lists them). */
const keyNames = [
  'waiting',
  'active',
  'seen',
  'seq',
  'pre',
  'settings',
  'stats',
  'epoch',
  'healed',
  'journal',
] as const;
type KeyName = (typeof keyNames)[number];

/**
 * Keys of one concert share the hash tag `{<concertId>}`, so a script touching all of them runs in one
 * cluster slot. The set of concerts lives apart and is written outside the scripts for that reason.
 */
export function queueKeys(concertId: string, prefix = 'q'): string[] {
  const base = `${prefix}:{${concertId}}:`;
  return keyNames.map((k) => base + k);
}

/**
 * A script's reply read by name: the fields its header comment lists, in that order, then the users its
 * admission step admitted. Each layout is written once, here, in the order its script's header lists.
 */
function replyLayout<const N extends readonly string[]>(names: N) {
  return (reply: Reply) => {
    const fields = {} as Record<N[number], number | string | undefined>;
    names.forEach((name: N[number], i) => {
      fields[name] = reply[i];
    });
    return { ...fields, admitted: reply.slice(names.length).map(String) };
  };
}

/** queue-enter.lua and queue-status.lua */
const viewReply = replyLayout([
  'state',
  'position',
  'activeUntil',
  'seq',
  'rateCount',
  'rateWindowMs',
  ...settingFields,
  'epoch',
] as const);
/** The line's counts, rate and settings, as queue-admit.lua and queue-line.lua both begin their replies. */
const snapshotFields = [
  'waiting',
  'preRegistered',
  'active',
  'admittedTotal',
  'rateCount',
  'rateWindowMs',
  ...settingFields,
  'epoch',
] as const;
/** queue-admit.lua */
const admitReply = replyLayout(snapshotFields);
/** queue-line.lua: then `tailCount` sequence numbers, then the admitted users. */
const lineReply = replyLayout([...snapshotFields, 'head', 'tailCount'] as const);

type SnapshotReply = Record<(typeof snapshotFields)[number], number | string | undefined>;

function snapshotFrom(reply: SnapshotReply, admitted: string[]): QueueSnapshot {
  return {
    waiting: Number(reply.waiting),
    preRegistered: Number(reply.preRegistered),
    active: Number(reply.active),
    admittedTotal: Number(reply.admittedTotal),
    rate: { count: Number(reply.rateCount), windowMs: Number(reply.rateWindowMs) },
    settings: settingsFrom(reply),
    admitted,
  };
}
/** queue-restore.lua */
const restoreReply = replyLayout(['restored', 'epoch'] as const);

type SettingsInReply = Record<(typeof settingFields)[number], number | string | undefined>;

function settingsFrom(reply: SettingsInReply): QueueSettings {
  const opensAt = Number(reply.opensAt);
  return {
    maxActive: Number(reply.maxActive),
    admitPerSecond: Number(reply.admitPerSecond),
    activeTtlSeconds: Number(reply.activeTtlSeconds),
    idleTimeoutSeconds: Number(reply.idleTimeoutSeconds),
    paused: reply.paused === 1,
    opensAt: opensAt < 0 ? null : opensAt,
  };
}

/** Reply of a script that found the line without an incarnation and was not told how to start one. */
const needsStart = (reply: Reply) => reply[0] === -1;

/**
 * The real queue: one EVALSHA per operation (lua/queue-enter.lua, queue-status.lua, queue-admit.lua),
 * each of which first runs the same bounded admission step. Release and the guard's check are single
 * commands (ZREM, ZSCORE) and need no script.
 */
export function createRedisQueueStore(
  redis: Redis,
  defaults: QueueDefaults,
  options: QueueStoreOptions & { prefix?: string } = {},
): QueueStore {
  const prefix = options.prefix ?? 'q';
  const preKey = options.preKey ?? cryptoPreKey;
  const newEpoch = options.newEpoch ?? randomEpoch;
  const concertsKey = `${prefix}:concerts`;
  const enterScript = defineLuaScript('queue-enter');
  const restoreScript = defineLuaScript('queue-restore');
  const statusScript = defineLuaScript('queue-status');
  const admitScript = defineLuaScript('queue-admit');
  const lineScript = defineLuaScript('queue-line');
  const defaultArgs = [
    defaults.maxActive,
    defaults.admitPerSecond,
    defaults.activeTtlSeconds,
    defaults.idleTimeoutSeconds,
  ];
  const keysOf = new Map<string, string[]>();
  const keys = (concertId: string) => {
    let k = keysOf.get(concertId);
    if (!k) {
      k = queueKeys(concertId, prefix);
      if (keysOf.size > 10_000) keysOf.clear();
      keysOf.set(concertId, k);
    }
    return k;
  };
  const keyOf = (concertId: string, name: KeyName) => keys(concertId)[keyNames.indexOf(name)]!;
  /** Concerts this process has registered in the global set: one SADD per concert and process. */
  const registered = new Set<string>();
  const register = (concertId: string) => {
    if (registered.has(concertId)) return;
    registered.add(concertId);
    // Pipelined with the script by ioredis' auto-pipelining; a failure is retried on the next enter.
    redis.sadd(concertsKey, concertId).catch(() => registered.delete(concertId));
  };

  /**
   * Runs a script that may start the line: first without the means to, so the database is asked only
   * when the line has no incarnation (its first user, or its data was lost), then once more with them.
   */
  const startingLine = async (
    concertId: string,
    now: number,
    run: (start: [string, string | number]) => Promise<Reply>,
  ): Promise<Reply> => {
    const reply = await run(['', '']);
    if (!needsStart(reply)) return reply;
    const known = options.registry ? await options.registry.lineStarted(concertId, now) : false;
    // The set of concerts went with the data: register this one again.
    registered.delete(concertId);
    register(concertId);
    return run([newEpoch(), known ? now + recoveryWindowMs : 0]);
  };

  const toView = (raw: Reply): QueueView => {
    const reply = viewReply(raw);
    return {
      state: states[Number(reply.state)] ?? 'NONE',
      position: Number(reply.position),
      activeUntil: Number(reply.activeUntil),
      seq: Number(reply.seq),
      rate: { count: Number(reply.rateCount), windowMs: Number(reply.rateWindowMs) },
      settings: settingsFrom(reply),
      epoch: String(reply.epoch ?? ''),
      admitted: reply.admitted,
    };
  };

  const readSettings = async (concertId: string) => {
    const values = await redis.hmget(keyOf(concertId, 'settings'), ...settingFields);
    return resolveSettings(defaults, parseOverrides(values));
  };
  const readAdmission = async (concertId: string) => {
    const values = await redis.hmget(keyOf(concertId, 'settings'), ...admissionFields);
    return parseAdmission(values);
  };

  return {
    async enter(concertId, userId, now) {
      register(concertId);
      const key = preKey();
      const reply = await startingLine(
        concertId,
        now,
        async (start) =>
          (await enterScript.run(redis, keys(concertId), [
            now,
            ...defaultArgs,
            userId,
            key,
            ...start,
          ])) as Reply,
      );
      return toView(reply);
    },

    async status(concertId, userId, now) {
      const args = [now, ...defaultArgs, userId];
      return toView((await statusScript.run(redis, keys(concertId), args)) as Reply);
    },

    async admit(concertId, now): Promise<QueueSnapshot> {
      const reply = admitReply(
        (await admitScript.run(redis, keys(concertId), [now, ...defaultArgs])) as Reply,
      );
      return snapshotFrom(reply, reply.admitted);
    },

    async line(concertId, now, afterSeq, polled) {
      const args = [now, ...defaultArgs, afterSeq, lineReadCap, ...polled];
      const reply = lineReply((await lineScript.run(redis, keys(concertId), args)) as Reply);
      const tailCount = Number(reply.tailCount);
      return {
        ...snapshotFrom(reply, reply.admitted.slice(tailCount)),
        epoch: String(reply.epoch ?? ''),
        head: Number(reply.head),
        tail: reply.admitted.slice(0, tailCount).map(Number),
      };
    },

    async counts(concertId, now) {
      const [w, a, p] = await Promise.all([
        redis.zcard(keyOf(concertId, 'waiting')),
        redis.zcount(keyOf(concertId, 'active'), `(${now}`, '+inf'),
        redis.zcard(keyOf(concertId, 'pre')),
      ]);
      return { waiting: w, preRegistered: p, active: a };
    },

    async restore(concertId, userId, claim, now) {
      const value = claim.kind === 'place' ? claim.seq : claim.activeUntil;
      const key = preKey();
      const reply = await startingLine(
        concertId,
        now,
        async (start) =>
          (await restoreScript.run(redis, keys(concertId), [
            now,
            userId,
            claim.kind,
            claim.epoch,
            value,
            key,
            ...start,
          ])) as Reply,
      );
      return restoreReply(reply).restored === 1;
    },

    async epoch(concertId) {
      return (await redis.get(keyOf(concertId, 'epoch'))) ?? '';
    },

    async activeUntil(concertId, userId) {
      const score = await redis.zscore(keyOf(concertId, 'active'), userId);
      return score === null ? null : Number(score);
    },

    async release(concertId, userId) {
      return (await redis.zrem(keyOf(concertId, 'active'), userId)) === 1;
    },

    settings: readSettings,

    async updateSettings(concertId, patch) {
      const settingsKey = keyOf(concertId, 'settings');
      const set: Record<string, string> = {};
      const unset: string[] = [];
      for (const field of [...settingFields, ...admissionFields]) {
        const value = patch[field];
        if (value === undefined) continue;
        if (value === null) unset.push(field);
        else set[field] = typeof value === 'boolean' ? (value ? '1' : '0') : String(value);
      }
      const tx = redis.multi();
      if (Object.keys(set).length > 0) tx.hset(settingsKey, set);
      if (unset.length > 0) tx.hdel(settingsKey, ...unset);
      tx.sadd(concertsKey, concertId);
      await tx.exec();
      registered.add(concertId);
      return readSettings(concertId);
    },

    admission: readAdmission,

    async concerts() {
      return redis.smembers(concertsKey);
    },

    async journaled(concertId, before, limit) {
      const entries = await redis.xrange(keyOf(concertId, 'journal'), '-', '+', 'COUNT', limit);
      const due: JournaledActivation[] = [];
      for (const [id, fields] of entries) {
        const entry = journalFields(fields);
        if (entry.at <= before) due.push({ id, ...entry });
      }
      return due;
    },

    async settleJournal(concertId, ids) {
      if (ids.length > 0) await redis.xdel(keyOf(concertId, 'journal'), ...ids);
    },
  };
}

/** A journal entry's fields as queue-admit-step.lua writes them: `u` the user, `t` the admission time. */
function journalFields(fields: string[]): { userId: string; at: number } {
  let userId = '';
  let at = Number.NaN;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] === 'u') userId = fields[i + 1]!;
    else if (fields[i] === 't') at = Number(fields[i + 1]);
  }
  return { userId, at };
}

function parseOverrides(values: Array<string | null>): QueueSettingsPatch {
  const [maxActive, admitPerSecond, activeTtlSeconds, idleTimeoutSeconds, paused, opensAt] = values;
  const patch: QueueSettingsPatch = {};
  if (maxActive != null) patch.maxActive = Number(maxActive);
  if (admitPerSecond != null) patch.admitPerSecond = Number(admitPerSecond);
  if (activeTtlSeconds != null) patch.activeTtlSeconds = Number(activeTtlSeconds);
  if (idleTimeoutSeconds != null) patch.idleTimeoutSeconds = Number(idleTimeoutSeconds);
  if (paused != null) patch.paused = paused === '1';
  if (opensAt != null) patch.opensAt = Number(opensAt);
  return patch;
}

function parseAdmission(values: Array<string | null>): AdmissionSettings {
  const [admission, min, max, change, reason, changedAt] = values;
  return resolveAdmission({
    ...(admission === 'adaptive' ? { admission } : {}),
    ...(min != null ? { minAdmitPerSecond: Number(min) } : {}),
    ...(max != null ? { maxAdmitPerSecond: Number(max) } : {}),
    ...(change === 'raise' || change === 'cut' ? { admissionChange: change } : {}),
    ...(reason != null ? { admissionReason: reason } : {}),
    ...(changedAt != null ? { admissionChangedAt: Number(changedAt) } : {}),
  });
}
