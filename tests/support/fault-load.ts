import { bearer } from './harness.ts';

/**
 * The fault suite's clients: buyers (enter the queue, charge, hold a seat of their own, pay), a stampede
 * on a few hot seats (hold, then cancel or let the hold lapse) and wallet chargers, spread over both
 * servers. Every answer is recorded with its timing; what the clients were told succeeded is kept apart
 * so the test can look for it in the database afterwards. Clients retry a 503 with the same
 * Idempotency-Key, as a client honouring Retry-After would, only sooner, so recovery is seen quickly.
 */

export type Op = 'enter' | 'charge' | 'hold' | 'hot-hold' | 'pay' | 'cancel';

export interface Answer {
  op: Op;
  server: number;
  sentAt: number;
  doneAt: number;
  /** Zero when there was no HTTP answer (connection refused or reset, or the client's own timeout). */
  status: number;
  code: string | undefined;
  retryAfter: string | null;
  error?: string;
}

export interface LoadPlan {
  servers: string[];
  concertId: string;
  distinct: { scheduleId: string; seatIds: string[] }[];
  hot: { scheduleId: string; seatIds: string[] };
  price: number;
  buyers: number;
  stampeders: number;
  chargers: number;
  runId: string;
}

/** Answers each operation may legitimately get from this load (besides 503 with Retry-After). */
export const expectedAnswers: Record<Op, readonly string[]> = {
  enter: ['201'],
  charge: ['201', '409 IDEMPOTENCY_IN_PROGRESS'],
  hold: ['201', '409 SEAT_TAKEN'],
  'hot-hold': ['201', '409 SEAT_TAKEN'],
  pay: ['201', '409 HOLD_EXPIRED', '409 IDEMPOTENCY_IN_PROGRESS'],
  cancel: ['200', '409 HOLD_EXPIRED'],
};

export function answerKey(answer: Pick<Answer, 'status' | 'code'>): string {
  if (answer.status === 0) return 'no answer';
  return answer.status < 300 ? String(answer.status) : `${answer.status} ${answer.code ?? '(no code)'}`;
}

export function isOutageAnswer(answer: Answer): boolean {
  return answer.status === 503 && answer.code === 'DEPENDENCY_UNAVAILABLE' && Number(answer.retryAfter) > 0;
}

export interface Acknowledged {
  holds: Map<string, { seatId: string; scheduleId: string; userId: string }>;
  payments: Map<string, { reservationId: string; userId: string; amount: number }>;
  charges: Map<string, { userId: string; amount: number; balance: number }>;
  cancels: Map<string, { userId: string }>;
  /** Users told ACTIVE by the queue (each is a queue.activated fact). */
  activated: Set<string>;
}

type Json = Record<string, unknown>;

const requestTimeoutMs = 15_000;

/** Worth the same request again: an outage, no answer, or the same key still running elsewhere. */
function retryable(answer: Answer): boolean {
  return answer.status === 503 || answer.status === 0 || answer.code === 'IDEMPOTENCY_IN_PROGRESS';
}
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class FaultLoad {
  readonly answers: Answer[] = [];
  readonly acknowledged: Acknowledged = {
    holds: new Map(),
    payments: new Map(),
    charges: new Map(),
    cancels: new Map(),
    activated: new Set(),
  };
  private stopping = false;
  private workers: Promise<void>[] = [];
  private nextSeat = 0;
  private turn = 0;

  constructor(private readonly plan: LoadPlan) {}

  start(): void {
    const { buyers, stampeders, chargers } = this.plan;
    for (let i = 0; i < buyers; i++) this.workers.push(this.guard(this.buyer(i)));
    for (let i = 0; i < stampeders; i++) this.workers.push(this.guard(this.stampeder(i)));
    for (let i = 0; i < chargers; i++) this.workers.push(this.guard(this.charger(i)));
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.workers);
  }

  /** A worker's own bug must not go unseen nor stop the others. */
  private async guard(work: Promise<void>): Promise<void> {
    try {
      await work;
    } catch (error) {
      this.answers.push({
        op: 'enter',
        server: -1,
        sentAt: Date.now(),
        doneAt: Date.now(),
        status: 0,
        code: undefined,
        retryAfter: null,
        error: `client crashed: ${error instanceof Error ? error.message : String(error)}`,
      });
    }
  }

  private async send(
    op: Op,
    method: string,
    path: string,
    headers: Record<string, string>,
    body?: unknown,
  ): Promise<{ answer: Answer; body: Json }> {
    const server = this.turn++ % this.plan.servers.length;
    const sentAt = Date.now();
    let status = 0;
    let parsed: Json = {};
    let retryAfter: string | null = null;
    let error: string | undefined;
    try {
      const res = await fetch(`${this.plan.servers[server]}${path}`, {
        method,
        headers: { 'content-type': 'application/json', ...headers },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(requestTimeoutMs),
      });
      status = res.status;
      retryAfter = res.headers.get('retry-after');
      const text = await res.text();
      try {
        parsed = text ? (JSON.parse(text) as Json) : {};
      } catch {
        parsed = { raw: text.slice(0, 200) };
      }
    } catch (caught) {
      status = 0;
      error = caught instanceof Error ? `${caught.name}: ${caught.message}` : String(caught);
    }
    const code = (parsed.error as { code?: string } | undefined)?.code;
    const answer: Answer = { op, server, sentAt, doneAt: Date.now(), status, code, retryAfter };
    if (error) answer.error = error;
    this.answers.push(answer);
    return { answer, body: parsed };
  }

  /** Until ACTIVE (or stopping); returns the access token. */
  private async enter(userId: string, auth: Record<string, string>): Promise<string | undefined> {
    while (!this.stopping) {
      const { answer, body } = await this.send('enter', 'POST', '/v1/queue/tokens', auth, {
        concertId: this.plan.concertId,
      });
      if (answer.status === 201 && body.status === 'ACTIVE' && typeof body.accessToken === 'string') {
        this.acknowledged.activated.add(userId);
        return body.accessToken;
      }
      await sleep(250);
    }
    return undefined;
  }

  private takeSeat(): { scheduleId: string; seatId: string } | undefined {
    let index = this.nextSeat++;
    for (const schedule of this.plan.distinct) {
      if (index < schedule.seatIds.length)
        return { scheduleId: schedule.scheduleId, seatId: schedule.seatIds[index]! };
      index -= schedule.seatIds.length;
    }
    return undefined;
  }

  private async buyer(worker: number): Promise<void> {
    for (let cycle = 0; !this.stopping; cycle++) {
      const userId = `b${this.plan.runId}-${worker}-${cycle}`;
      const auth = await bearer(userId);
      let access = await this.enter(userId, auth);
      if (!access) return;
      const withQueue = () => ({ ...auth, 'x-queue-token': access ?? '' });

      let charged = false;
      while (!this.stopping && !charged) {
        const { answer, body } = await this.send(
          'charge',
          'POST',
          '/v1/points/charges',
          { ...auth, 'idempotency-key': `c-${userId}` },
          { amount: this.plan.price },
        );
        if (answer.status === 201) {
          this.acknowledged.charges.set(String(body.chargeId), {
            userId,
            amount: this.plan.price,
            balance: Number(body.balance),
          });
          charged = true;
        } else if (retryable(answer)) await sleep(250);
        else break;
      }
      if (!charged) continue;

      let reservationId: string | undefined;
      let seat = this.takeSeat();
      while (!this.stopping && seat && !reservationId) {
        const { answer, body } = await this.send('hold', 'POST', '/v1/reservations', withQueue(), seat);
        if (answer.status === 201) {
          reservationId = String(body.id);
          this.acknowledged.holds.set(reservationId, { ...seat, userId });
        } else if (answer.code === 'SEAT_TAKEN') seat = this.takeSeat();
        else if (answer.status === 403) access = await this.enter(userId, auth);
        else if (retryable(answer)) await sleep(250);
        else break;
      }
      if (!reservationId) continue;

      let settled = false;
      while (!this.stopping && !settled) {
        const { answer, body } = await this.send(
          'pay',
          'POST',
          `/v1/reservations/${reservationId}/payments`,
          { ...withQueue(), 'idempotency-key': `p-${userId}` },
          {},
        );
        if (answer.status === 201) {
          this.acknowledged.payments.set(String(body.paymentId), {
            reservationId,
            userId,
            amount: Number(body.amount),
          });
          settled = true;
        } else if (answer.status === 403) access = await this.enter(userId, auth);
        else if (retryable(answer)) await sleep(250);
        else settled = true;
      }
      await sleep(20);
    }
  }

  private async stampeder(worker: number): Promise<void> {
    const userId = `s${this.plan.runId}-${worker}`;
    const auth = await bearer(userId);
    let access = await this.enter(userId, auth);
    const { scheduleId, seatIds } = this.plan.hot;
    for (let round = 0; !this.stopping && access; round++) {
      const seatId = seatIds[(worker + round) % seatIds.length]!;
      const { answer, body } = await this.send(
        'hot-hold',
        'POST',
        '/v1/reservations',
        { ...auth, 'x-queue-token': access },
        { scheduleId, seatId },
      );
      if (answer.status === 201) {
        const reservationId = String(body.id);
        this.acknowledged.holds.set(reservationId, { scheduleId, seatId, userId });
        await sleep(300 + ((worker * 37 + round * 11) % 500));
        // Most winners give the seat back; the others let the hold lapse, so the next winner takes it over.
        if (round % 3 !== 0) await this.cancel(userId, auth, reservationId);
      } else if (answer.status === 403) access = await this.enter(userId, auth);
      else await sleep(answer.status === 409 ? 30 + (round % 4) * 10 : 250);
    }
  }

  private async cancel(userId: string, auth: Record<string, string>, reservationId: string): Promise<void> {
    for (let attempt = 0; attempt < 40 && !this.stopping; attempt++) {
      const { answer } = await this.send('cancel', 'DELETE', `/v1/reservations/${reservationId}`, auth);
      if (answer.status === 200) {
        this.acknowledged.cancels.set(reservationId, { userId });
        return;
      }
      if (!retryable(answer)) return;
      await sleep(250);
    }
  }

  private async charger(worker: number): Promise<void> {
    const userId = `w${this.plan.runId}-${worker}`;
    const auth = await bearer(userId);
    for (let n = 0; !this.stopping; n++) {
      let done = false;
      while (!this.stopping && !done) {
        const { answer, body } = await this.send(
          'charge',
          'POST',
          '/v1/points/charges',
          { ...auth, 'idempotency-key': `k${n}` },
          { amount: 100 },
        );
        if (answer.status === 201) {
          this.acknowledged.charges.set(String(body.chargeId), {
            userId,
            amount: 100,
            balance: Number(body.balance),
          });
          done = true;
        } else if (retryable(answer)) await sleep(250);
        else done = true;
      }
      await sleep(30);
    }
  }
}
