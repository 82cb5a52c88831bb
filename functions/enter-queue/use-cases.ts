import type { Clock } from '../../shared/clock.ts';
import type { Logger } from '../../shared/logger.ts';
import { announceActivated, type OnActivated } from '../../shared/queue/activated.ts';
import { admissionRate, estimate } from '../../shared/queue/estimate.ts';
import type { LineSnapshots } from '../../shared/queue/line-snapshot.ts';
import type { QueueRecords } from '../../shared/queue/queue-records.ts';
import type {
  AdmissionChange,
  AdmissionMode,
  QueueSettingsPatch,
  QueueStore,
  QueueView,
} from '../../shared/queue/queue-store.ts';
import type { QueueTicket, QueueTokens } from '../../shared/queue/queue-tokens.ts';
import { restoreFromToken } from '../../shared/queue/restore-from-token.ts';
import { ok, type Refused, type Result, refused } from '../../shared/result.ts';

export interface QueueDeps {
  store: QueueStore;
  tokens: QueueTokens;
  clock: Clock;
  logger?: Logger;
  /** Called with every user that became ACTIVE (to emit queue.activated); never delays the answer. */
  onActivated?: OnActivated;
  /** When given, unknown concerts answer 404; without it any decimal id has a queue. */
  concertExists?: (concertId: string) => Promise<boolean>;
  /** Says whether a queue token was already used for a payment; without it none counts as used. */
  records?: Pick<QueueRecords, 'paidSince'>;
  /**
   * This process's line snapshot: waiting users' polls and streams answer from it (at most its maxAgeMs
   * old). Without it every poll asks the store.
   */
  lines?: LineSnapshots;
}

export interface QueueAnswer {
  queueToken: string;
  status: 'WAITING' | 'ACTIVE';
  position: number;
  etaSeconds: number;
  pollAfterSeconds: number;
  /** The organiser stopped admissions for now: the place is kept, the line does not move. */
  paused: boolean;
  accessToken?: string;
  activeUntil?: string;
  /** Only before the opening: places are drawn at random then. */
  opensAt?: string;
}

export interface QueueAdminView {
  concertId: string;
  waiting: number;
  preRegistered: number;
  active: number;
  admittedTotal: number;
  admissionRatePerSecond: number;
  maxActive: number;
  admitPerSecond: number;
  activeTtlSeconds: number;
  idleTimeoutSeconds: number;
  paused: boolean;
  opensAt: string | null;
  admission: AdmissionMode;
  minAdmitPerSecond: number | null;
  maxAdmitPerSecond: number | null;
  /** Adaptive admission's last change of admitPerSecond: raise or cut, why, and when. */
  admissionChange: AdmissionChange | null;
  admissionReason: string | null;
  admissionChangedAt: string | null;
}

export async function answer(
  deps: QueueDeps,
  view: QueueView,
  ticket: { userId: string; concertId: string },
  queueToken: string,
  now: number,
): Promise<QueueAnswer> {
  const { etaSeconds, pollAfterSeconds } = estimate(view, now);
  if (view.state === 'ACTIVE') {
    const accessToken = await deps.tokens.issueAccessToken(
      {
        userId: ticket.userId,
        concertId: ticket.concertId,
        activeUntil: view.activeUntil,
        epoch: view.epoch,
      },
      now,
    );
    return {
      queueToken,
      status: 'ACTIVE',
      position: 0,
      etaSeconds,
      pollAfterSeconds,
      paused: view.settings.paused,
      accessToken,
      activeUntil: new Date(view.activeUntil).toISOString(),
    };
  }
  const result: QueueAnswer = {
    queueToken,
    status: 'WAITING',
    position: view.position,
    etaSeconds,
    pollAfterSeconds,
    paused: view.settings.paused,
  };
  if (view.state === 'PRE' && view.settings.opensAt !== null)
    result.opensAt = new Date(view.settings.opensAt).toISOString();
  return result;
}

/** Announces users a store call admitted, and keeps the line snapshot from placing them from an older read. */
function admittedHere(
  deps: QueueDeps,
  concertId: string,
  step: { admitted: string[]; settings: { activeTtlSeconds: number } },
  now: number,
): void {
  announceActivated(deps, concertId, step.admitted, now);
  if (step.admitted.length > 0) {
    deps.lines?.admitted(concertId, step.admitted, now + step.settings.activeTtlSeconds * 1000);
  }
}

/** A concert the deps do not know, as the refusal; null when it exists (or any concert may have a queue). */
async function unknownConcert(deps: QueueDeps, concertId: string): Promise<Refused<'NOT_FOUND'> | null> {
  if (deps.concertExists && !(await deps.concertExists(concertId))) {
    return refused('NOT_FOUND', `Concert ${concertId} does not exist`);
  }
  return null;
}

/** POST /v1/queue/tokens: a place in line (the same one on every call), or ACTIVE at once when there is room. */
export async function enterQueue(
  deps: QueueDeps,
  input: { userId: string; concertId: string },
): Promise<Result<QueueAnswer, 'NOT_FOUND'>> {
  const unknown = await unknownConcert(deps, input.concertId);
  if (unknown) return unknown;
  const now = deps.clock.now();
  const view = await deps.store.enter(input.concertId, input.userId, now);
  deps.lines?.follow(input.concertId);
  admittedHere(deps, input.concertId, view, now);
  const queueToken = await deps.tokens.issueQueueToken({ ...input, seq: view.seq, epoch: view.epoch }, now);
  return ok(await answer(deps, view, input, queueToken, now));
}

/** Checks a queue token for the caller; the user id is the bearer's (or, for the stream, the token's). */
export async function readTicket(
  deps: QueueDeps,
  queueToken: string | undefined,
  userId?: string,
): Promise<Result<QueueTicket, 'QUEUE_TOKEN_REQUIRED' | 'QUEUE_TOKEN_INVALID'>> {
  if (!queueToken) {
    return refused('QUEUE_TOKEN_REQUIRED', 'A queue token from POST /v1/queue/tokens is required');
  }
  const ticket = await deps.tokens.verifyQueueToken(queueToken, deps.clock.now());
  if (ticket.ok && userId !== undefined && ticket.value.userId !== userId) {
    return refused('QUEUE_TOKEN_INVALID', 'This queue token belongs to another user');
  }
  return ticket;
}

/**
 * A queue token whose place the line lost with its data (the token is of an earlier incarnation) gets it
 * back at its own sequence, unless the database says the holder paid for this concert since it was issued.
 */
async function restorePlace(deps: QueueDeps, ticket: QueueTicket, epoch: string, now: number) {
  return restoreFromToken(deps, ticket, epoch, { kind: 'place', epoch: ticket.epoch, seq: ticket.seq }, now);
}

/** GET /v1/queue/status: where the ticket's holder stands now; counts as a poll. */
export async function queueStatus(
  deps: QueueDeps,
  ticket: QueueTicket,
  queueToken: string,
): Promise<Result<QueueAnswer, 'QUEUE_TOKEN_INVALID'>> {
  const now = deps.clock.now();
  let view = await deps.store.status(ticket.concertId, ticket.userId, now);
  admittedHere(deps, ticket.concertId, view, now);
  if (view.state === 'NONE' && (await restorePlace(deps, ticket, view.epoch, now))) {
    view = await deps.store.status(ticket.concertId, ticket.userId, now);
    admittedHere(deps, ticket.concertId, view, now);
  }
  if (view.state === 'NONE') {
    return refused(
      'QUEUE_TOKEN_INVALID',
      'Your place in the queue has lapsed (not polled in time, or your access ended): enter the queue again',
    );
  }
  // A token of an earlier incarnation, or one given before the place was drawn, is replaced by one that
  // says where the holder stands now.
  const current =
    view.epoch !== ticket.epoch || (view.state === 'WAITING' && view.seq !== ticket.seq)
      ? await deps.tokens.issueQueueToken(
          {
            userId: ticket.userId,
            concertId: ticket.concertId,
            seq: view.state === 'WAITING' ? view.seq : ticket.seq,
            epoch: view.epoch,
          },
          now,
        )
      : queueToken;
  return ok(await answer(deps, view, ticket, current, now));
}

/**
 * GET /v1/queue/status as a poll: a waiting holder the line snapshot can place is answered from it (its
 * heartbeat goes with the snapshot's next read); anyone else, from the store.
 */
export async function pollStatus(
  deps: QueueDeps,
  ticket: QueueTicket,
  queueToken: string,
): Promise<Result<QueueAnswer, 'QUEUE_TOKEN_INVALID'>> {
  const placed = deps.lines?.lookup(ticket);
  if (deps.lines && placed?.kind === 'placed') {
    deps.lines.polled(ticket.concertId, ticket.userId);
    return ok(await answer(deps, placed.view, ticket, queueToken, deps.clock.now()));
  }
  return queueStatus(deps, ticket, queueToken);
}

export async function queueAdminView(
  deps: QueueDeps,
  concertId: string,
): Promise<Result<QueueAdminView, 'NOT_FOUND'>> {
  const unknown = await unknownConcert(deps, concertId);
  if (unknown) return unknown;
  const now = deps.clock.now();
  const [snapshot, admission] = await Promise.all([
    deps.store.admit(concertId, now),
    deps.store.admission(concertId),
  ]);
  admittedHere(deps, concertId, snapshot, now);
  const { settings } = snapshot;
  const changedAt = admission.admissionChangedAt;
  return ok({
    concertId,
    waiting: snapshot.waiting + snapshot.preRegistered,
    preRegistered: snapshot.preRegistered,
    active: snapshot.active,
    admittedTotal: snapshot.admittedTotal,
    admissionRatePerSecond: Math.round(admissionRate(snapshot) * 100) / 100,
    maxActive: settings.maxActive,
    admitPerSecond: settings.admitPerSecond,
    activeTtlSeconds: settings.activeTtlSeconds,
    idleTimeoutSeconds: settings.idleTimeoutSeconds,
    paused: settings.paused,
    opensAt: settings.opensAt === null ? null : new Date(settings.opensAt).toISOString(),
    admission: admission.admission,
    minAdmitPerSecond: admission.minAdmitPerSecond,
    maxAdmitPerSecond: admission.maxAdmitPerSecond,
    admissionChange: admission.admissionChange,
    admissionReason: admission.admissionReason,
    admissionChangedAt: changedAt === null ? null : new Date(changedAt).toISOString(),
  });
}

/**
 * Admission settings checked against what the line has: adaptive needs both bounds, min ≤ max, and a rate
 * set by hand within them. A rate outside new bounds is brought into them; a change of mode forgets the
 * controller's last change.
 */
async function checkAdmission(
  store: QueueStore,
  concertId: string,
  patch: QueueSettingsPatch,
): Promise<Result<QueueSettingsPatch, 'VALIDATION_FAILED'>> {
  const { admission, minAdmitPerSecond, maxAdmitPerSecond, admitPerSecond } = patch;
  if ([admission, minAdmitPerSecond, maxAdmitPerSecond, admitPerSecond].every((v) => v === undefined))
    return ok(patch);
  const [current, settings] = await Promise.all([store.admission(concertId), store.settings(concertId)]);
  const mode = admission === undefined ? current.admission : (admission ?? 'fixed');
  const min = minAdmitPerSecond === undefined ? current.minAdmitPerSecond : minAdmitPerSecond;
  const max = maxAdmitPerSecond === undefined ? current.maxAdmitPerSecond : maxAdmitPerSecond;
  const details = [];
  if (min !== null && max !== null && min > max)
    details.push({ field: 'minAdmitPerSecond', message: `must not exceed maxAdmitPerSecond (${max})` });
  if (mode === 'adaptive') {
    if (min === null)
      details.push({ field: 'minAdmitPerSecond', message: 'is required for adaptive admission' });
    if (max === null)
      details.push({ field: 'maxAdmitPerSecond', message: 'is required for adaptive admission' });
    if (
      admitPerSecond != null &&
      min !== null &&
      max !== null &&
      (admitPerSecond < min || admitPerSecond > max)
    )
      details.push({
        field: 'admitPerSecond',
        message: `must be within ${min}..${max} for adaptive admission`,
      });
  }
  if (details.length > 0) {
    const message = details.map((d) => `${d.field} ${d.message}`).join('; ');
    return refused('VALIDATION_FAILED', message, { details });
  }
  const next = { ...patch };
  if (mode === 'adaptive' && admitPerSecond == null && min !== null && max !== null) {
    const clamped = Math.min(max, Math.max(min, settings.admitPerSecond));
    if (clamped !== settings.admitPerSecond) next.admitPerSecond = clamped;
  }
  if (admission !== undefined && mode !== current.admission)
    Object.assign(next, { admissionChange: null, admissionReason: null, admissionChangedAt: null });
  return ok(next);
}

export async function updateQueueSettings(
  deps: QueueDeps,
  concertId: string,
  patch: QueueSettingsPatch,
): Promise<Result<QueueAdminView, 'NOT_FOUND' | 'VALIDATION_FAILED'>> {
  const unknown = await unknownConcert(deps, concertId);
  if (unknown) return unknown;
  const checked = await checkAdmission(deps.store, concertId, patch);
  if (!checked.ok) return checked;
  await deps.store.updateSettings(concertId, checked.value);
  await deps.lines?.invalidate(concertId);
  return queueAdminView({ ...deps, concertExists: undefined }, concertId);
}
