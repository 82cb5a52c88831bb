import { maxPollSeconds } from './estimate.ts';

/**
 * The waiting room's storage port. Real: Redis sorted sets per concert, one Lua script per operation
 * (redis-queue-store.ts). Embedded: the same rules in process (memory-queue-store.ts). Both pass
 * tests/contract/queue.contract.test.ts.
 *
 * Every operation takes `now` (ms) from the caller's Clock instead of the server's time, so tests are
 * deterministic and every replica reasons on the same kind of timestamp.
 */

/** Process-wide defaults (QUEUE_* config); an admin may override each per concert. */
export interface QueueDefaults {
  maxActive: number;
  admitPerSecond: number;
  activeTtlSeconds: number;
  idleTimeoutSeconds: number;
}

export interface QueueSettings extends QueueDefaults {
  paused: boolean;
  /** ms; users who enter before it are placed in random order at opening. null: open now. */
  opensAt: number | null;
}

/**
 * How the line's rate is chosen. `fixed`: admitPerSecond is the operator's. `adaptive`: the admit trigger
 * moves admitPerSecond within [minAdmitPerSecond, maxAdmitPerSecond] from the shop's health (AIMD, see
 * shared/admission/aimd.ts). The scripts read only admitPerSecond, so either mode admits the same way.
 */
export type AdmissionMode = 'fixed' | 'adaptive';
export type AdmissionChange = 'raise' | 'cut';

export interface AdmissionSettings {
  admission: AdmissionMode;
  /** null: not set; adaptive admission needs both bounds. */
  minAdmitPerSecond: number | null;
  maxAdmitPerSecond: number | null;
  /** The controller's last change of admitPerSecond: its direction, why, and when (ms). null before one. */
  admissionChange: AdmissionChange | null;
  admissionReason: string | null;
  admissionChangedAt: number | null;
}

/** What an admin (or the admission controller) may change; `null` clears a value back to its default. */
export type QueueSettingsPatch = Partial<QueueSettings> & {
  [K in keyof AdmissionSettings]?: AdmissionSettings[K] | null;
};

/**
 * Where a user stands. PRE: entered before opensAt, not placed yet. NONE: not in the line (never entered,
 * dropped out when idle, access expired or released).
 */
export type QueueState = 'WAITING' | 'ACTIVE' | 'PRE' | 'NONE';

/** Admissions of waiting users counted over a recent window: the ETA's measured rate. */
export interface AdmissionRate {
  count: number;
  windowMs: number;
}

export interface QueueView {
  state: QueueState;
  /** WAITING: users ahead plus one. PRE: users registered before the opening (the worst place). Else 0. */
  position: number;
  /** ACTIVE: when the access ends (ms). Else 0. */
  activeUntil: number;
  /**
   * WAITING: the sequence number that orders the line; ACTIVE at once on enter: the one it took. Else 0.
   * Never below a number handed out before, even after the line's data was lost (see nextSeq).
   */
  seq: number;
  /**
   * The line's incarnation: a random id set when the line first gets a user and lost only with the line's
   * data. Tokens carry it, so a token of an earlier incarnation whose entry is gone is known to have lost
   * it (restore), while one of this incarnation lost it by the rules (idle, expiry, payment). '' when none.
   */
  epoch: string;
  settings: QueueSettings;
  rate: AdmissionRate;
  /** Users this call made ACTIVE (the admission step, or the caller at once): emit queue.activated. */
  admitted: string[];
}

export interface QueueSnapshot {
  waiting: number;
  /** Registered before opensAt, placed at the opening. */
  preRegistered: number;
  active: number;
  admittedTotal: number;
  settings: QueueSettings;
  rate: AdmissionRate;
  admitted: string[];
}

/** The line as a process's snapshot reads it once a tick (line-snapshot.ts). */
export interface LineRead extends QueueSnapshot {
  epoch: string;
  /** The lowest waiting sequence number (the admitted frontier), or 0 when nobody waits. */
  head: number;
  /** Sequence numbers of the waiting users above the caller's `afterSeq`, ascending, at most lineReadCap. */
  tail: number[];
}

/** Most sequence numbers one line read returns: a longer line is read over several ticks. */
export const lineReadCap = 100_000;

export interface QueueCounts {
  waiting: number;
  preRegistered: number;
  active: number;
}

/** A token's claim to a place or an access, for `restore`. */
export type RestoreClaim =
  | { kind: 'place'; epoch: string; seq: number }
  | { kind: 'access'; epoch: string; activeUntil: number };

export interface QueueStore {
  /** Joins the line, or returns the place already held (idempotent per user and concert). */
  enter(concertId: string, userId: string, now: number): Promise<QueueView>;
  /** Where the user stands; counts as a poll for the idle timeout. NONE when the place lapsed. */
  status(concertId: string, userId: string, now: number): Promise<QueueView>;
  /** Runs the admission step alone (the periodic trigger, the admin view) and counts the line. */
  admit(concertId: string, now: number): Promise<QueueSnapshot>;
  /**
   * One tick of a process's line snapshot: first counts a poll for each of `polled` that is still
   * WAITING or PRE (heartbeats written in one batch; a later time never goes back), then runs the
   * admission step like `admit`, then reads the frontier and the waiting sequence numbers above `afterSeq`.
   */
  line(concertId: string, now: number, afterSeq: number, polled: string[]): Promise<LineRead>;
  /** Counts the line without changing it (gauges): actives whose slot ended by `now` are not counted. */
  counts(concertId: string, now: number): Promise<QueueCounts>;
  /** The ACTIVE slot's end (ms) or null: the [queue] guard's one lookup. Callers compare with now. */
  activeUntil(concertId: string, userId: string): Promise<number | null>;
  /**
   * Puts a user back whose entry the line lost with its data: only for a claim of an earlier incarnation
   * (`epoch`). A place goes back at its own sequence (once per incarnation and user, and the counter is
   * raised to it); an access goes back until its activeUntil. False when the claim is of this incarnation
   * or already used here. The caller checks first that the database does not say the token was used.
   */
  restore(concertId: string, userId: string, claim: RestoreClaim, now: number): Promise<boolean>;
  /** The line's incarnation ('' before its first user, or after its data was lost). */
  epoch(concertId: string): Promise<string>;
  /** Ends an ACTIVE slot (after payment); true when there was one. */
  release(concertId: string, userId: string): Promise<boolean>;
  settings(concertId: string): Promise<QueueSettings>;
  updateSettings(concertId: string, patch: QueueSettingsPatch): Promise<QueueSettings>;
  /** How admitPerSecond is chosen, and the admission controller's last change (patched by updateSettings). */
  admission(concertId: string): Promise<AdmissionSettings>;
  /** Concerts that ever had a queue: what the admit trigger walks. */
  concerts(): Promise<string[]>;
  /**
   * Admissions the journal still holds that happened at or before `before` (ms), oldest first, at most
   * `limit`. Every admission is journaled by the step that makes it, so its event can be written even when
   * the answer that carried it was lost (see shared/queue/activation-journal.ts).
   */
  journaled(concertId: string, before: number, limit: number): Promise<JournaledActivation[]>;
  /** Forgets journal entries whose events are written. */
  settleJournal(concertId: string, ids: string[]): Promise<void>;
}

export interface JournaledActivation {
  id: string;
  userId: string;
  /** The `now` of the call that admitted the user. */
  at: number;
}

/**
 * Entries a journal keeps at most when nothing drains it; the oldest go first. queue-admit-step.lua writes
 * the same number (a script cannot import it).
 */
export const journalCap = 200_000;

/** Where a store learns whether a line it starts had been started before (a loss), outside Redis. */
export interface LineRegistry {
  lineStarted(concertId: string, now: number): Promise<boolean>;
}

export interface QueueStoreOptions {
  preKey?: PreKeySource;
  /** Without one, every line that starts counts as new. */
  registry?: LineRegistry;
  /** Incarnation ids; tests pass a deterministic source. */
  newEpoch?: () => string;
}

/**
 * After a loss, admissions (from the line and at once on enter) wait this long, so the old fans come back
 * to their places before newcomers take the free slots: a client obeying pollAfterSeconds has polled
 * again by then, and an active fan's next [queue] request restores the access.
 */
export const recoveryWindowMs = maxPollSeconds * 1000;

/**
 * Sequence numbers never go back: each is at least the caller's clock (ms) times seqPerMs, so a counter
 * lost with the line restarts above every number handed out before, unless users entered faster than
 * seqPerMs a millisecond (far beyond what one Redis runs) or the callers' clocks disagree by more than
 * the time since the loss. Restoring a place also raises the counter to that place's number.
 */
export const seqPerMs = 1000;

/** Bounds of one admission step, so a single call never blocks Redis for long. */
export const admitCap = 1000;
export const idleDropCap = 1000;
/** The measured admission rate uses two consecutive buckets of this size. */
export const rateBucketMs = 10_000;

/**
 * Sort keys for users who enter before the opening: drawn in Node from crypto randomness (never Lua's
 * math.random), so the order at opening is a uniformly random permutation. Below 2^48: exact as a
 * sorted-set score.
 */
export type PreKeySource = () => number;

export const fixedAdmission: AdmissionSettings = {
  admission: 'fixed',
  minAdmitPerSecond: null,
  maxAdmitPerSecond: null,
  admissionChange: null,
  admissionReason: null,
  admissionChangedAt: null,
};

export function resolveAdmission(overrides: QueueSettingsPatch): AdmissionSettings {
  return {
    admission: overrides.admission ?? fixedAdmission.admission,
    minAdmitPerSecond: overrides.minAdmitPerSecond ?? null,
    maxAdmitPerSecond: overrides.maxAdmitPerSecond ?? null,
    admissionChange: overrides.admissionChange ?? null,
    admissionReason: overrides.admissionReason ?? null,
    admissionChangedAt: overrides.admissionChangedAt ?? null,
  };
}

export function resolveSettings(defaults: QueueDefaults, overrides: QueueSettingsPatch): QueueSettings {
  return {
    maxActive: overrides.maxActive ?? defaults.maxActive,
    admitPerSecond: overrides.admitPerSecond ?? defaults.admitPerSecond,
    activeTtlSeconds: overrides.activeTtlSeconds ?? defaults.activeTtlSeconds,
    idleTimeoutSeconds: overrides.idleTimeoutSeconds ?? defaults.idleTimeoutSeconds,
    paused: overrides.paused ?? false,
    opensAt: overrides.opensAt ?? null,
  };
}
