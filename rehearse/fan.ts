import http from 'node:http';
import type { HttpClient } from '../bench/lib/http.ts';
import { type FanPlan, hotSectionShare, seededRandom } from './plan.ts';

/**
 * One fan at the opening: an independent client of the public API (docs/api.md), as a phone or a browser
 * tab would be. It comes at its planned time, enters the line, waits on the stream or by polling, reads
 * the seat map, holds a seat (another one when it is taken), tops up when short of points, and pays, and it
 * writes down what happened to it. Every request has a timeout and the whole run one end, so no
 * fan can keep the rehearsal waiting.
 */

/** Recorded for a request sent again at once because its kept-alive connection had just been closed. */
export const staleConnectionCode = 'STALE_CONNECTION';

export type Op = 'enter' | 'status' | 'stream' | 'seat-map' | 'hold' | 'pay' | 'charge';

/** One answer the server gave (or did not: status 0 is a timeout or a refused connection). */
export interface Answer {
  op: Op;
  sentAt: number;
  doneAt: number;
  status: number;
  code?: string;
}

export type Outcome =
  | 'paid'
  | 'sold-out'
  | 'left-at-seat-map'
  | 'left-at-payment'
  | 'gave-up'
  | 'failed'
  | 'unfinished'
  | 'not-arrived';

export interface Journey {
  index: number;
  userId: string;
  plan: FanPlan;
  outcome: Outcome;
  /** When the fan sent its entry (epoch ms), and when the answer came: its place was taken in between. */
  arrivedAt?: number;
  enteredAt?: number;
  /** Entered before the opening (the line draws these fans' order at opensAt). */
  early?: boolean;
  /** When the fan learned it was admitted. */
  admittedAt?: number;
  /** When the line admitted it, by the server's clock (activeUntil minus the slot's length). */
  serverAdmittedAt?: number;
  seatMapAt?: number;
  heldAt?: number;
  scheduleId?: string;
  seatId?: string;
  reservationId?: string;
  paidAt?: number;
  /** Payments whose answer the fan dropped on purpose (a client timeout), then sent again with the same key. */
  lostPayAnswers: number;
  /** Replayed answers (Idempotent-Replayed: true) to those retries. */
  replayedPayments: number;
  toppedUp: boolean;
  /** What went wrong, per `status code` (e.g. `409 SEAT_TAKEN`, `503 DEPENDENCY_UNAVAILABLE`, `0 TIMEOUT`). */
  errors: Record<string, number>;
  failure?: string;
}

export interface FanContext {
  baseUrl: string;
  /** Keep-alive sockets shared by the fans, unbounded: each fan is its own client, none waits for another. */
  http: HttpClient;
  concertId: string;
  /** The concert's dates; a fan tries its favourite first and the others when that one is sold out. */
  schedules: Array<{ id: string; seatCount: number }>;
  price: number;
  opensAt: number;
  /** The slot's length, to read the server's admission time out of `activeUntil`. */
  activeTtlMs: number;
  requestTimeoutMs: number;
  stop: RunStop;
  record(answer: Answer): void;
}

interface Reply {
  status: number;
  code?: string;
  body: Record<string, unknown>;
  replayed: boolean;
  retryAfterMs?: number;
}

type Json = Record<string, unknown>;

const maxAttempts = 8;
const maxHoldAttempts = 50;
/** Seats found taken in a row before the fan looks at the seat map again. */
const takenBeforeLookingAgain = 3;

/**
 * The end of the run, as every fan waits for it: pauses that end early and requests that are cut when the
 * run stops. Tens of thousands of fans wait at once, so they register in sets (constant time) rather than
 * as listeners of one AbortSignal, whose every new listener is checked against all the others.
 */
export class RunStop {
  private readonly sleepers = new Set<() => void>();
  private readonly requests = new Set<AbortController>();
  private ended = false;

  get stopped(): boolean {
    return this.ended;
  }

  stop(): void {
    this.ended = true;
    for (const wake of [...this.sleepers]) wake();
    for (const request of [...this.requests]) request.abort();
  }

  /** Resolves after ms, or at once when the run stops. */
  pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.ended || ms <= 0) return resolve();
      const wake = () => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleepers.add(wake);
    });
  }

  /**
   * A request's abort signal: aborted when the run stops, after timeoutMs unless `answered()` came first,
   * or by `abort()`. `release()` once the request is over.
   */
  controller(timeoutMs: number) {
    const controller = new AbortController();
    let late = false;
    const timer = setTimeout(() => {
      late = true;
      controller.abort();
    }, timeoutMs);
    this.requests.add(controller);
    if (this.ended) controller.abort();
    return {
      signal: controller.signal,
      timedOut: () => late,
      answered: () => clearTimeout(timer),
      abort: () => controller.abort(),
      release: () => {
        clearTimeout(timer);
        this.requests.delete(controller);
      },
    };
  }
}

/**
 * The server closed a kept-alive connection just as the request went out on it (its idle timeout; a fan
 * polling every five seconds meets the server's five-second keep-alive). The server never read the
 * request, so sending it again is safe, and browsers do so without telling anyone.
 */
function staleConnection(error: unknown): boolean {
  const code = (error as { code?: string } | undefined)?.code;
  return code === 'ECONNRESET' || code === 'EPIPE';
}

/** One request of the fan's, bounded by its own timeout and by the run. */
export async function send(
  ctx: Pick<FanContext, 'http' | 'requestTimeoutMs' | 'stop' | 'record'>,
  op: Op,
  method: string,
  path: string,
  headers: Record<string, string>,
  json?: unknown,
  again = true,
): Promise<Reply> {
  const sentAt = Date.now();
  let reply: Reply;
  const request = ctx.stop.controller(ctx.requestTimeoutMs);
  try {
    const res = await ctx.http.request(method, path, {
      headers,
      ...(json === undefined ? {} : { json }),
      signal: request.signal,
      // The run's own timer aborts first; this only keeps a silent socket from outliving it.
      timeoutMs: ctx.requestTimeoutMs + 1000,
    });
    const body: Json =
      res.body !== null && typeof res.body === 'object' ? (res.body as Json) : { text: res.body };
    const code = (body.error as Json | undefined)?.code;
    const retryAfter = Number(res.headers['retry-after']);
    reply = {
      status: res.status,
      body,
      replayed: res.headers['idempotent-replayed'] === 'true',
      ...(typeof code === 'string' ? { code } : {}),
      ...(retryAfter > 0 ? { retryAfterMs: retryAfter * 1000 } : {}),
    };
  } catch (error) {
    const timeout = request.timedOut() || (error instanceof Error && error.name === 'TimeoutError');
    // Cut short by the end of the run: not the server's doing, and not an answer.
    if (ctx.stop.stopped && !timeout) return { status: 0, code: 'STOPPED', body: {}, replayed: false };
    if (again && !timeout && staleConnection(error)) {
      ctx.record({ op, sentAt, doneAt: Date.now(), status: 0, code: staleConnectionCode });
      return send(ctx, op, method, path, headers, json, false);
    }
    reply = { status: 0, code: timeout ? 'TIMEOUT' : 'NO_ANSWER', body: {}, replayed: false };
  } finally {
    request.release();
  }
  ctx.record({
    op,
    sentAt,
    doneAt: Date.now(),
    status: reply.status,
    ...(reply.code ? { code: reply.code } : {}),
  });
  return reply;
}

/** Worth the same request again: no answer, an outage, the rate limit, or the same key still running. */
function transient(reply: Reply): boolean {
  return (
    reply.status === 0 ||
    reply.status === 429 ||
    reply.status === 503 ||
    reply.code === 'IDEMPOTENCY_IN_PROGRESS'
  );
}

/**
 * The request again after transient failures (waiting Retry-After, else a growing pause), a bounded
 * number of times; `note` hears of every answer that was not a success.
 */
export async function sendPersistently(
  ctx: Pick<FanContext, 'http' | 'requestTimeoutMs' | 'stop' | 'record'> & { attempts?: number },
  op: Op,
  method: string,
  path: string,
  headers: Record<string, string>,
  json?: unknown,
  note: (reply: Reply) => void = () => undefined,
): Promise<Reply> {
  let reply = await send(ctx, op, method, path, headers, json);
  const attempts = ctx.attempts ?? maxAttempts;
  for (let attempt = 1; attempt < attempts && transient(reply) && !ctx.stop.stopped; attempt++) {
    note(reply);
    await ctx.stop.pause(reply.retryAfterMs ?? Math.min(5000, 250 * 2 ** attempt));
    reply = await send(ctx, op, method, path, headers, json);
  }
  if (reply.status >= 300) note(reply);
  return reply;
}

/** Starts a fan: its journey is filled in as it goes, and done once the fan has finished or been stopped. */
export function startFan(
  plan: FanPlan,
  userId: string,
  bearer: string,
  ctx: FanContext,
): { journey: Journey; done: Promise<Journey> } {
  const fan = new Fan(plan, userId, bearer, ctx);
  return { journey: fan.journey, done: fan.run() };
}

class Fan {
  readonly journey: Journey;
  private queueToken = '';
  private accessToken = '';
  private readonly random: () => number;

  constructor(
    readonly plan: FanPlan,
    readonly userId: string,
    private readonly bearer: string,
    private readonly ctx: FanContext,
  ) {
    this.random = seededRandom(plan.seed);
    this.journey = {
      index: plan.index,
      userId,
      plan,
      outcome: 'not-arrived',
      lostPayAnswers: 0,
      replayedPayments: 0,
      toppedUp: false,
      errors: {},
    };
  }

  private get auth() {
    return { authorization: `Bearer ${this.bearer}` };
  }

  private get access() {
    return { ...this.auth, 'x-queue-token': this.accessToken };
  }

  private noteError(reply: Reply): void {
    const key = `${reply.status} ${reply.code ?? ''}`.trim();
    this.journey.errors[key] = (this.journey.errors[key] ?? 0) + 1;
  }

  private persist(op: Op, method: string, path: string, headers: Record<string, string>, json?: unknown) {
    return sendPersistently(this.ctx, op, method, path, headers, json, (reply) => this.noteError(reply));
  }

  async run(): Promise<Journey> {
    const { ctx, journey } = this;
    try {
      await ctx.stop.pause(ctx.opensAt + this.plan.arriveAt - Date.now());
      if (ctx.stop.stopped) return journey;
      journey.outcome = 'unfinished';
      if (!(await this.enter())) return journey;
      if (!(await this.waitForAdmission())) return journey;
      await this.shop();
    } catch (error) {
      journey.outcome = 'failed';
      journey.failure = `client error: ${error instanceof Error ? error.message : String(error)}`;
    }
    return journey;
  }

  private fail(why: string, reply?: Reply): false {
    if (this.ctx.stop.stopped) return false;
    this.journey.outcome = 'failed';
    this.journey.failure = reply ? `${why}: ${reply.status} ${reply.code ?? ''}`.trim() : why;
    return false;
  }

  private async enter(): Promise<boolean> {
    this.journey.arrivedAt = Date.now();
    const reply = await this.persist('enter', 'POST', '/v1/queue/tokens', this.auth, {
      concertId: this.ctx.concertId,
    });
    if (reply.status !== 201) return this.fail('entering the line', reply);
    this.journey.enteredAt = Date.now();
    this.journey.early = typeof reply.body.opensAt === 'string';
    this.take(reply.body);
    return true;
  }

  /** Keeps the newest queue token, and notes the admission (the fan stops asking once admitted). */
  private take(status: Json): void {
    if (typeof status.queueToken === 'string') this.queueToken = status.queueToken;
    if (status.status !== 'ACTIVE' || typeof status.accessToken !== 'string') return;
    this.journey.admittedAt = Date.now();
    this.journey.serverAdmittedAt = Date.parse(String(status.activeUntil)) - this.ctx.activeTtlMs;
    this.accessToken = status.accessToken;
  }

  private async waitForAdmission(): Promise<boolean> {
    const { ctx } = this;
    while (!this.accessToken && !ctx.stop.stopped) {
      if (this.plan.waitBy === 'sse') {
        await this.stream();
        if (this.accessToken || ctx.stop.stopped) break;
        // The stream ended without ACTIVE (it closes after a few minutes, or failed): look, then reconnect.
        await ctx.stop.pause(1000);
      }
      const reply = await this.persist('status', 'GET', '/v1/queue/status', {
        ...this.auth,
        'x-queue-token': this.queueToken,
      });
      if (reply.status !== 200) return this.fail('polling the line', reply);
      this.take(reply.body);
      if (!this.accessToken && this.plan.waitBy === 'poll') {
        await ctx.stop.pause(Number(reply.body.pollAfterSeconds ?? 5) * 1000);
      }
    }
    return this.accessToken !== '';
  }

  /** GET /v1/queue/stream until the ACTIVE event, the stream's end, an error event, or the run's end. */
  private stream(): Promise<void> {
    const { ctx } = this;
    const sentAt = Date.now();
    // The answer's head must come within the request timeout; the stream itself then lasts as it will.
    const local = ctx.stop.controller(ctx.requestTimeoutMs);
    let status = 0;
    let code: string | undefined;
    let buffer = '';
    return new Promise((resolve) => {
      let settled = false;
      const finish = (why?: string) => {
        if (settled) return;
        settled = true;
        if (why && !ctx.stop.stopped) code ??= why;
        local.release();
        req.destroy();
        const reply = { status, ...(code ? { code } : {}) };
        if (code) this.noteError({ ...reply, body: {}, replayed: false });
        ctx.record({ op: 'stream', sentAt, doneAt: Date.now(), ...reply });
        resolve();
      };
      const req = http.get(
        `${ctx.baseUrl}/v1/queue/stream?queueToken=${encodeURIComponent(this.queueToken)}`,
        { agent: ctx.http.agent, headers: { accept: 'text/event-stream' }, signal: local.signal },
        (res) => {
          local.answered();
          status = res.statusCode ?? 0;
          res.setEncoding('utf8');
          res.on('error', () => finish('STREAM_CUT'));
          // The server closes the stream after a few minutes: the fan looks, then reconnects.
          res.on('end', () => finish());
          if (status !== 200) {
            res.on('data', (text: string) => {
              code = /"code":"([A-Z_]+)"/.exec(text)?.[1] ?? code;
            });
            return;
          }
          res.on('data', (chunk: string) => {
            buffer += chunk;
            let end = buffer.indexOf('\n\n');
            while (end >= 0 && !settled) {
              const event = buffer.slice(0, end);
              buffer = buffer.slice(end + 2);
              end = buffer.indexOf('\n\n');
              const name = /^event: (.*)$/m.exec(event)?.[1];
              const data = /^data: (.*)$/m.exec(event)?.[1];
              if (!data) continue;
              const payload = JSON.parse(data) as Json;
              if (name === 'error')
                return finish(String((payload.error as Json | undefined)?.code ?? 'error event'));
              this.take(payload);
              if (this.accessToken) return finish();
            }
          });
        },
      );
      // No answer in time, none at all, or a stream cut before ACTIVE.
      req.on('error', () =>
        finish(status === 0 ? (local.timedOut() ? 'TIMEOUT' : 'NO_ANSWER') : 'STREAM_CUT'),
      );
    });
  }

  private async seatMap(scheduleId: string): Promise<Array<{ id: string; number: number }> | null> {
    const reply = await this.persist('seat-map', 'GET', `/v1/schedules/${scheduleId}/seats`, this.access);
    if (reply.status !== 200) return this.fail('reading the seat map', reply) || null;
    this.journey.seatMapAt ??= Date.now();
    const items = reply.body.items as Array<{ id: string; number: number; status: string }>;
    return items.filter((s) => s.status === 'AVAILABLE');
  }

  /** The seat this fan wants among those it still believes free: the hot section first if it prefers it. */
  private choose(free: Array<{ id: string; number: number }>, seatCount: number) {
    const hotUpTo = Math.ceil(seatCount * hotSectionShare);
    const hot = free.filter((s) => s.number <= hotUpTo);
    const pool = this.plan.wantsHotSection && hot.length > 0 ? hot : free;
    return pool[Math.floor(this.random() * pool.length)]!;
  }

  private async shop(): Promise<void> {
    const { ctx, journey } = this;
    const { schedules } = ctx;
    const favourite = this.plan.seed % schedules.length;
    for (let k = 0; k < schedules.length && !ctx.stop.stopped; k++) {
      const schedule = schedules[(favourite + k) % schedules.length]!;
      const outcome = await this.holdIn(schedule, k === 0);
      if (outcome !== 'sold-out') break;
    }
    if (journey.outcome !== 'unfinished' || ctx.stop.stopped) return;
    if (!journey.reservationId) {
      journey.outcome = 'sold-out';
      return;
    }
    if (this.plan.abandon === 'payment') {
      journey.outcome = 'left-at-payment';
      return;
    }
    await this.pay();
  }

  /** Holds a seat of one date; 'sold-out' when none is left there (the fan may try another date). */
  private async holdIn(
    schedule: { id: string; seatCount: number },
    first: boolean,
  ): Promise<'held' | 'sold-out' | 'done'> {
    const { ctx, journey } = this;
    const taken = new Set<string>();
    let free = await this.seatMap(schedule.id);
    if (!free) return 'done';
    if (first && this.plan.abandon === 'seat-map') {
      journey.outcome = 'left-at-seat-map';
      return 'done';
    }
    let staleReads = 0;
    let takenInARow = 0;
    for (let attempt = 0; attempt < maxHoldAttempts && !ctx.stop.stopped; attempt++) {
      free = free.filter((s) => !taken.has(s.id));
      if (free.length === 0 || takenInARow >= takenBeforeLookingAgain) {
        // The map may be a second old: seats it still shows free were taken under this fan's eyes.
        const fresh = await this.seatMap(schedule.id);
        if (!fresh) return 'done';
        takenInARow = 0;
        free = fresh.filter((s) => !taken.has(s.id));
        if (free.length === 0) {
          if (fresh.length === 0 || ++staleReads > 3) return 'sold-out';
          await ctx.stop.pause(500);
          continue;
        }
      }
      const seat = this.choose(free, schedule.seatCount);
      const reply = await this.persist('hold', 'POST', '/v1/reservations', this.access, {
        scheduleId: schedule.id,
        seatId: seat.id,
      });
      if (reply.status === 201) {
        journey.heldAt = Date.now();
        journey.scheduleId = schedule.id;
        journey.seatId = seat.id;
        journey.reservationId = String(reply.body.id);
        return 'held';
      }
      if (reply.code === 'SEAT_TAKEN') {
        taken.add(seat.id);
        takenInARow += 1;
        continue;
      }
      this.fail('holding a seat', reply);
      return 'done';
    }
    if (!ctx.stop.stopped) journey.outcome = 'gave-up';
    return 'done';
  }

  private async pay(): Promise<void> {
    const { ctx, journey } = this;
    const path = `/v1/reservations/${journey.reservationId}/payments`;
    const headers = { ...this.access, 'idempotency-key': `pay-${journey.reservationId}` };
    const payOnce = async () => {
      const reply = await this.persist('pay', 'POST', path, headers, {});
      if (reply.status !== 201 || !this.plan.retryPay || journey.lostPayAnswers > 0 || ctx.stop.stopped)
        return reply;
      // The payment went through but its answer is lost on the way (the client timed out): the same
      // request again with the same key must replay it, not pay twice.
      journey.lostPayAnswers += 1;
      const again = await this.persist('pay', 'POST', path, headers, {});
      if (again.replayed) journey.replayedPayments += 1;
      return again;
    };
    let reply = await payOnce();
    if (reply.code === 'INSUFFICIENT_POINTS') {
      const top = await this.persist(
        'charge',
        'POST',
        '/v1/points/charges',
        { ...this.auth, 'idempotency-key': `top-up-${journey.reservationId}` },
        { amount: ctx.price },
      );
      if (top.status !== 201) return void this.fail('topping up', top);
      journey.toppedUp = true;
      reply = await payOnce();
    }
    if (reply.status !== 201) return void this.fail('paying', reply);
    journey.paidAt = Date.now();
    journey.outcome = 'paid';
  }
}
