import { createHttpClient, mapLimit } from '../bench/lib/http.ts';
import {
  type Answer,
  type FanContext,
  type Journey,
  RunStop,
  send,
  sendPersistently,
  startFan,
} from './fan.ts';
import { type ArrivalOptions, type BehaviourMix, planFans } from './plan.ts';

/**
 * One opening against a running server: an admin creates the concert and sets its line (opensAt a few
 * seconds ahead), the wallets are funded, the fans come and go, a progress line is printed every second,
 * and afterwards the sales are checked (sold exactly once) through the API and, when the runner can reach
 * the database, in it.
 */

export interface OpeningOptions {
  fans: number;
  seats: number;
  price: number;
  seed: number;
  arrival: ArrivalOptions;
  mix: BehaviourMix;
  /** The longest the fans may take, from the opening; then every fan still busy is stopped. */
  durationSeconds: number;
  requestTimeoutMs: number;
  /** Keep going after the hall is full until every fan is done (or the duration is up), not stop the line's rest. */
  everyFan?: boolean;
  /** Sent as given in PUT /v1/admin/queues/{concertId} (besides opensAt). */
  queue: Record<string, string | number | boolean>;
}

export interface Target {
  url: string;
  /** A user JWT for the id (signed with the server's secret, or minted by its dev token endpoint). */
  token(userId: string, role: 'user' | 'admin'): Promise<string>;
  /** The sales as the database holds them, when the runner can read it. */
  database?: (scheduleIds: string[]) => Promise<DatabaseSales>;
}

export interface DatabaseSales {
  soldSeats: number;
  confirmedReservations: number;
  /** Seats with more than one confirmed reservation, or more than one payment per reservation. */
  doubleSold: string[];
}

export interface QueueSample {
  at: number;
  waiting: number;
  active: number;
  admittedTotal: number;
  admissionRatePerSecond: number;
  admitPerSecond: number;
}

export interface SalesCheck {
  /** Fans told their payment went through. */
  paidFans: number;
  /** Confirmed reservations the fans' own reservation lists show (each paying fan exactly one). */
  confirmedByApi: number;
  /** Fans whose list does not match what they were told: a paid fan without exactly one, or another with one. */
  mismatchedFans: string[];
  /** Seats two fans hold confirmed reservations for, by the fans' lists. */
  doubleSoldByApi: string[];
  /** SOLD on the seat map read after the run (null when the auditor could not read it). */
  soldOnSeatMap: number | null;
  heldOnSeatMap: number | null;
  database?: DatabaseSales;
  /** admittedTotal of the line against the fans who saw ACTIVE (with the auditor): more would be a second admission. */
  admittedByLine: number;
  admittedFans: number;
  ok: boolean;
  problems: string[];
}

export interface RunResult {
  label: string;
  options: OpeningOptions;
  concertId: string;
  scheduleIds: string[];
  /** The line's settings as the server answered the PUT. */
  settings: Record<string, unknown>;
  opensAt: number;
  endedAt: number;
  journeys: Journey[];
  answers: Answer[];
  samples: QueueSample[];
  sales: SalesCheck;
}

/** The admin API's limit of seats per schedule. */
export const maxSeatsPerSchedule = 1000;

/** The server refused the line's settings: the message says why and what to do. */
export class SettingsRefused extends Error {}

export async function rehearseOpening(
  target: Target,
  options: OpeningOptions,
  label: string,
  log: (line: string) => void,
): Promise<RunResult> {
  // Fresh user ids per run: a shared Redis keeps rate-limit buckets and line places by user.
  const tag = `${Date.now().toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`;
  const admin = { authorization: `Bearer ${await target.token(`rh${tag}ops`, 'admin')}` };
  const answers: Answer[] = [];
  const http = createHttpClient(target.url, Number.POSITIVE_INFINITY);
  const base = { baseUrl: target.url, http, requestTimeoutMs: options.requestTimeoutMs };
  // Setup waits out a server still starting its other processes (503 with Retry-After) for longer than a fan would.
  const setup = { ...base, stop: new RunStop(), record: () => undefined, attempts: 60 };
  const expect = async (
    status: number,
    what: string,
    reply: Awaited<ReturnType<typeof sendPersistently>>,
  ) => {
    if (reply.status !== status)
      throw new Error(`${what} answered ${reply.status} ${reply.code ?? ''}: ${JSON.stringify(reply.body)}`);
    return reply.body;
  };

  // A schedule has at most maxSeatsPerSchedule seats: a larger hall is several dates, split evenly.
  const dates = Math.ceil(options.seats / maxSeatsPerSchedule);
  const seatCounts = Array.from(
    { length: dates },
    (_, i) => Math.floor(options.seats / dates) + (i < options.seats % dates ? 1 : 0),
  );
  const created = await expect(
    201,
    'creating the concert',
    await sendPersistently(setup, 'enter', 'POST', '/v1/admin/concerts', admin, {
      title: `Rehearsal ${label} ${tag}`,
      venue: 'Rehearsal hall',
      schedules: seatCounts.map((seatCount, day) => ({
        startsAt: new Date(Date.now() + (30 + day) * 86_400_000).toISOString(),
        seatCount,
        price: options.price,
      })),
    }),
  );
  const concertId = String(created.id);
  const schedules = (created.schedules as Array<{ id: string; seatCount: number }>).map((s) => ({
    id: String(s.id),
    seatCount: Number(s.seatCount),
  }));
  const scheduleIds = schedules.map((s) => s.id);
  log(
    `concert ${concertId}: ${options.seats} seats at ${options.price} on ${schedules.length} date(s) (schedules ${scheduleIds.join(', ')})`,
  );

  const plans = planFans(options.fans, options.arrival, options.mix, options.seed);
  const users = await mapLimit(plans, 64, async (plan) => {
    const userId = `rh${tag}f${plan.index}`;
    return { userId, bearer: await target.token(userId, 'user') };
  });
  // Wallets before the opening: enough for one seat, or half of it for the fans short of points.
  const started = Date.now();
  await mapLimit(plans, 32, async (plan) => {
    const { userId, bearer } = users[plan.index]!;
    const amount = plan.shortOfPoints ? Math.floor(options.price / 2) : options.price;
    if (amount < 1) return;
    await expect(
      201,
      `funding ${userId}`,
      await sendPersistently(
        setup,
        'charge',
        'POST',
        '/v1/points/charges',
        { authorization: `Bearer ${bearer}`, 'idempotency-key': `wallet-${userId}` },
        { amount },
      ),
    );
  });
  log(`${plans.length} fans with tokens and wallets (${Date.now() - started} ms)`);

  // The line opens once the first fans' arrival time is still ahead.
  const leadMs = Math.max(3000, options.arrival.beforeSeconds * 1000 + 2000);
  const opensAt = Date.now() + leadMs;
  const put = await sendPersistently(setup, 'enter', 'PUT', `/v1/admin/queues/${concertId}`, admin, {
    ...options.queue,
    opensAt: new Date(opensAt).toISOString(),
  });
  if (put.status === 400) {
    const details = (put.body.error as { details?: Array<{ field: string; message: string }> } | undefined)
      ?.details;
    throw new SettingsRefused(
      `the server refused the queue settings ${JSON.stringify(options.queue)}: ${
        details?.map((d) => `${d.field}: ${d.message}`).join('; ') ?? JSON.stringify(put.body)
      }. A field it does not know (admission, minAdmitPerSecond, maxAdmitPerSecond) means this server has ` +
        'no adaptive admission yet: leave out --admission, --min-admit and --max-admit.',
    );
  }
  const settings = await expect(200, 'setting the line', put);
  log(`line settings: ${JSON.stringify(settings)}`);
  const activeTtlMs = Number(settings.activeTtlSeconds) * 1000;

  const stop = new RunStop();
  const deadline = opensAt + options.durationSeconds * 1000;
  const cap = setTimeout(() => stop.stop(), deadline - Date.now());
  const ctx: FanContext = {
    ...base,
    concertId,
    schedules,
    price: options.price,
    opensAt,
    activeTtlMs,
    stop,
    record: (answer) => answers.push(answer),
  };
  const fans = plans.map((plan) => {
    const { userId, bearer } = users[plan.index]!;
    return startFan(plan, userId, bearer, ctx);
  });
  const journeys = fans.map((f) => f.journey);
  let done = false;
  const running = Promise.all(fans.map((f) => f.done)).finally(() => {
    done = true;
  });
  const finished = (j: Journey) => j.outcome !== 'unfinished' && j.outcome !== 'not-arrived';
  /**
   * Every seat is held or sold and every admitted fan is done: the fans still in line wait for nothing (the
   * line does not know the hall is full), so the run ends here rather than at the cap.
   */
  const hallFull = () =>
    journeys.filter((j) => j.reservationId !== undefined).length >= options.seats &&
    journeys.every((j) => j.serverAdmittedAt === undefined || finished(j));
  let endedFull = false;

  const samples: QueueSample[] = [];
  // The line every second, from the newest admin view: a slow view (a busy server) does not hold it up.
  let viewing = false;
  let lastView = 'admin view pending';
  const readView = async () => {
    viewing = true;
    const view = await send(setup, 'status', 'GET', `/v1/admin/queues/${concertId}`, admin);
    viewing = false;
    if (view.status !== 200) {
      lastView = `admin view ${view.status} ${view.code ?? ''}`.trim();
      return;
    }
    const v = view.body as Record<string, number>;
    samples.push({
      at: Date.now(),
      waiting: v.waiting!,
      active: v.active!,
      admittedTotal: v.admittedTotal!,
      admissionRatePerSecond: v.admissionRatePerSecond!,
      admitPerSecond: v.admitPerSecond!,
    });
    lastView = `waiting ${v.waiting}  active ${v.active}  admitted ${v.admittedTotal}`;
  };
  const progress = (async () => {
    while (!done && !stop.stopped) {
      await stop.pause(1000);
      if (!done && !options.everyFan && hallFull()) {
        endedFull = true;
        stop.stop();
        break;
      }
      if (!viewing) void readView();
      const errors = answers.filter((a) => a.status === 0 || a.status >= 500).length;
      log(
        `t${formatOffset(Date.now() - opensAt)}  ${lastView}  sold ${journeysSoFar(journeys, 'paid')}  errors ${errors}`,
      );
    }
  })();
  await running;
  clearTimeout(cap);
  const capped = stop.stopped && !endedFull;
  stop.stop();
  await progress;
  const endedAt = Date.now();
  const unfinished = journeys.filter((j) => j.outcome === 'unfinished').length;
  const toCome = journeys.filter((j) => j.outcome === 'not-arrived').length;
  log(
    endedFull
      ? `every seat is taken and every admitted fan done: stopped ${unfinished} fans still in line and ${toCome} yet to come`
      : `fans done${capped && unfinished > 0 ? ` (${unfinished} stopped at the ${options.durationSeconds} s cap)` : ''}`,
  );
  log('checking the sales');

  const sales = await checkSales({ target, setup, admin, concertId, scheduleIds, journeys });
  http.close();
  return {
    label,
    options,
    concertId,
    scheduleIds,
    settings,
    opensAt,
    endedAt,
    journeys,
    answers,
    samples,
    sales,
  };
}

function journeysSoFar(journeys: Journey[], outcome: Journey['outcome']): number {
  let n = 0;
  for (const j of journeys) if (j.outcome === outcome) n++;
  return n;
}

function formatOffset(ms: number): string {
  const s = ms / 1000;
  return `${s < 0 ? '-' : '+'}${Math.abs(s).toFixed(0).padStart(3)}s`;
}

/**
 * Sold exactly once, seen from outside: each fan's own reservation list (a paying fan has exactly one
 * confirmed reservation, any other fan none, no seat twice), the seat map read by an auditor who queues
 * like a fan, the line's admission count, and the database when the runner reaches it.
 */
async function checkSales(o: {
  target: Target;
  setup: Parameters<typeof sendPersistently>[0];
  admin: Record<string, string>;
  concertId: string;
  scheduleIds: string[];
  journeys: Journey[];
}): Promise<SalesCheck> {
  const { target, setup, journeys } = o;
  const problems: string[] = [];
  const paid = journeys.filter((j) => j.outcome === 'paid');
  const mismatched: string[] = [];
  const seatsSold = new Map<string, string[]>();
  let confirmed = 0;
  // Only fans who held can have bought; each asks for its confirmed reservations.
  await mapLimit(
    journeys.filter((j) => j.reservationId !== undefined),
    16,
    async (j) => {
      const bearer = await target.token(j.userId, 'user');
      const reply = await sendPersistently(
        setup,
        'status',
        'GET',
        '/v1/reservations?status=CONFIRMED&limit=100',
        {
          authorization: `Bearer ${bearer}`,
        },
      );
      if (reply.status !== 200) {
        mismatched.push(`${j.userId}: reservation list answered ${reply.status}`);
        return;
      }
      const items = (reply.body.items as Array<{ seatId: string; scheduleId: string }>).filter((r) =>
        o.scheduleIds.includes(r.scheduleId),
      );
      confirmed += items.length;
      for (const r of items) seatsSold.set(r.seatId, [...(seatsSold.get(r.seatId) ?? []), j.userId]);
      const expected = j.outcome === 'paid' ? 1 : 0;
      if (items.length !== expected)
        mismatched.push(`${j.userId} (${j.outcome}): ${items.length} confirmed reservations`);
    },
  );
  const doubleSold = [...seatsSold]
    .filter(([, fans]) => fans.length > 1)
    .map(([seat, fans]) => `${seat}: ${fans.join(', ')}`);
  if (mismatched.length > 0)
    problems.push(`${mismatched.length} fans' reservations differ from what they were told`);
  if (doubleSold.length > 0) problems.push(`${doubleSold.length} seats confirmed to two fans`);

  // The sale is over: the line lets everyone in now, so the auditor need not wait behind fans who left
  // (at a fixed rate: an adaptive line refuses a rate outside its bounds).
  await sendPersistently(setup, 'status', 'PUT', `/v1/admin/queues/${o.concertId}`, o.admin, {
    admission: 'fixed',
    maxActive: 1_000_000,
    admitPerSecond: 100_000,
  });
  const map = await auditSeatMap(o);
  if (map.sold !== null && map.sold !== confirmed)
    problems.push(`the seat map shows ${map.sold} SOLD, the fans hold ${confirmed} confirmed reservations`);

  const view = await sendPersistently(setup, 'status', 'GET', `/v1/admin/queues/${o.concertId}`, o.admin);
  const admittedByLine = Number(view.body.admittedTotal ?? -1);
  const admittedFans =
    journeys.filter((j) => j.serverAdmittedAt !== undefined).length + (map.admitted ? 1 : 0);
  // Fans stopped by the cap may have been admitted without hearing of it: only a finished run is exact.
  if (journeys.every((j) => j.outcome !== 'unfinished') && admittedByLine !== admittedFans)
    problems.push(`the line admitted ${admittedByLine}, fans saw ${admittedFans} admissions`);

  let database: DatabaseSales | undefined;
  if (target.database) {
    database = await target.database(o.scheduleIds);
    if (database.doubleSold.length > 0)
      problems.push(`database: ${database.doubleSold.length} seats sold twice`);
    if (database.soldSeats !== paid.length || database.confirmedReservations !== paid.length)
      problems.push(
        `database: ${database.soldSeats} seats SOLD and ${database.confirmedReservations} reservations CONFIRMED, ${paid.length} fans paid`,
      );
  }
  if (confirmed !== paid.length)
    problems.push(`${confirmed} confirmed reservations, ${paid.length} fans paid`);
  return {
    paidFans: paid.length,
    confirmedByApi: confirmed,
    mismatchedFans: mismatched,
    doubleSoldByApi: doubleSold,
    soldOnSeatMap: map.sold,
    heldOnSeatMap: map.held,
    ...(database ? { database } : {}),
    admittedByLine,
    admittedFans,
    ok: problems.length === 0,
    problems,
  };
}

/** The seat map after the run, read by one more user who enters the line like a fan. */
async function auditSeatMap(o: {
  target: Target;
  setup: Parameters<typeof sendPersistently>[0];
  concertId: string;
  scheduleIds: string[];
}): Promise<{ admitted: boolean; sold: number | null; held: number | null }> {
  const auth = { authorization: `Bearer ${await o.target.token(`rh-audit-${o.concertId}`, 'user')}` };
  let status = await sendPersistently(o.setup, 'enter', 'POST', '/v1/queue/tokens', auth, {
    concertId: o.concertId,
  });
  const until = Date.now() + 30_000;
  while (status.status < 300 && status.body.status !== 'ACTIVE' && Date.now() < until) {
    await o.setup.stop.pause(1000);
    status = await sendPersistently(o.setup, 'status', 'GET', '/v1/queue/status', {
      ...auth,
      'x-queue-token': String(status.body.queueToken),
    });
  }
  if (status.body.status !== 'ACTIVE') return { admitted: false, sold: null, held: null };
  // The map is served from memory and may be a second old: the last payments must have reached it.
  await o.setup.stop.pause(1500);
  let sold = 0;
  let held = 0;
  for (const scheduleId of o.scheduleIds) {
    const map = await sendPersistently(o.setup, 'seat-map', 'GET', `/v1/schedules/${scheduleId}/seats`, {
      ...auth,
      'x-queue-token': String(status.body.accessToken),
    });
    if (map.status !== 200) return { admitted: true, sold: null, held: null };
    const items = map.body.items as Array<{ status: string }>;
    sold += items.filter((s) => s.status === 'SOLD').length;
    held += items.filter((s) => s.status === 'HELD').length;
  }
  return { admitted: true, sold, held };
}
