import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createPool, type Pool } from 'mysql2/promise';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafkaBus } from '../../shared/events/kafka-bus.ts';
import { allTopics, subscriptions } from '../../shared/events/subscriptions.ts';
import { releaseConsumer } from '../../triggers/release-seat/release.ts';
import {
  activationsWithoutEvent,
  doubleLiveReservations,
  eventProblems,
  missingAcknowledged,
  readSnapshot,
  type Snapshot,
  summarize,
  unbalancedWallets,
  type WireEvent,
} from '../support/fault-audit.ts';
import {
  type Answer,
  answerKey,
  expectedAnswers,
  FaultLoad,
  isOutageAnswer,
  type Op,
} from '../support/fault-load.ts';
import { type AppServer, errorSummary, startAppServer, tail } from '../support/fault-servers.ts';
import { type FaultServices, type ServiceName, startFaultServices } from '../support/fault-services.ts';
import { bearer, testSecret } from '../support/harness.ts';

/**
 * Two server processes on MariaDB, Redis and Kafka of this suite's own, under a mixed load (buyers
 * holding seats of their own and paying, a stampede on three hot seats, wallet charges). During it
 * MariaDB is killed with SIGKILL and restarted, then Redis, then Kafka is stopped for half a minute. Afterwards
 * the database, the Kafka topics, the notification webhook and the release-seat trigger's processed log
 * are compared with what the clients were told. The run is bounded: every phase has a deadline and every
 * process is stopped by pid, also when an assertion fails or the hook times out.
 */

/** The scenario's own limit; the hook's timeout and the clean-up come on top, within the suite's limit. */
const budgetMs = 165_000;
const warmMs = 3_000;
const downMs = 4_000;
const kafkaDownMs = 30_000;
const recoverMs = 5_000;
const slowestAllowedMs = 10_000;

interface Fault {
  name: string;
  service: ServiceName;
  signal: NodeJS.Signals;
  downAt: number;
  backAt: number;
  /** Operations that cannot succeed without this dependency. */
  needs: readonly Op[];
  /** For Kafka, the first outbox row published after it is back (requests do not need it). */
  firstPublishedAt?: number | null;
}

interface Run {
  answers: Answer[];
  load: FaultLoad;
  faults: Fault[];
  snapshot: Snapshot;
  wire: Map<string, WireEvent>;
  webhook: Map<string, number>;
  steps: string[];
}

const everyOp: readonly Op[] = ['enter', 'charge', 'hold', 'hot-hold', 'pay', 'cancel'];
const databaseOps: readonly Op[] = ['charge', 'hold', 'hot-hold', 'pay', 'cancel'];
const log = (line: string) => process.stdout.write(`[fault] ${line}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const sleepUntil = (at: number) => sleep(Math.max(0, at - Date.now()));

describe('fault suite: two servers under load while MariaDB, Redis and Kafka fail', () => {
  const started = Date.now();
  const deadline = started + budgetMs;
  let services: FaultServices | undefined;
  const servers: AppServer[] = [];
  let receiver: Server | undefined;
  let pool: Pool | undefined;
  let run: Run | undefined;

  beforeAll(async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'concert-fault-'));
    services = await startFaultServices(dir, { lifetimeSeconds: 240, log: (line) => log(line) });
    const urls = services.urls;
    log(
      `services up in ${Date.now() - started} ms: ${urls.databaseUrl} ${urls.redisUrl} ${urls.kafkaBrokers}`,
    );

    const webhook = new Map<string, number>();
    receiver = createServer((req, res) => {
      const id = String(req.headers['x-concert-event-id']);
      req.resume();
      req.on('end', () => {
        webhook.set(id, (webhook.get(id) ?? 0) + 1);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver?.listen(0, '127.0.0.1', resolve));

    const env = {
      DATABASE_URL: urls.databaseUrl,
      REDIS_URL: urls.redisUrl,
      KAFKA_BROKERS: urls.kafkaBrokers,
      KAFKA_TOPIC_PARTITIONS: '2',
      AUTH_JWT_SECRET: testSecret,
      QUEUE_TOKEN_SECRET: 'queue-secret-that-is-long-enough-0123456789',
      DEV_AUTH: '0',
      SEED_DEMO: '0',
      LOG_LEVEL: 'warn',
      RATE_LIMIT_PER_SECOND: '100000',
      RATE_LIMIT_BURST: '100000',
      QUEUE_MAX_ACTIVE: '100000',
      QUEUE_ACTIVE_TTL_SECONDS: '3600',
      HOLD_TTL_SECONDS: '10',
      EXPIRE_HOLDS_INTERVAL_SECONDS: '2',
      DB_CONNECT_TIMEOUT_MS: '2000',
      DB_QUERY_TIMEOUT_MS: '3000',
      NOTIFY_WEBHOOK_URL: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`,
      NOTIFY_WEBHOOK_SECRET: 'webhook-secret-0123456789',
    };
    // Together: migrations run under a database lock, so the second finds them applied.
    const starting = ['a', 'b'].map((name) =>
      startAppServer(
        { ...env, DATA_DIR: path.join(dir, `server-${name}`) },
        path.join(dir, `server-${name}.log`),
      ),
    );
    const outcomes = await Promise.allSettled(starting);
    for (const outcome of outcomes) {
      if (outcome.status === 'fulfilled') {
        services.track(outcome.value.pid, 'server/main.ts');
        servers.push(outcome.value);
      }
    }
    const refused = outcomes.find((o) => o.status === 'rejected');
    if (refused) throw refused.reason;
    log(`servers up at ${Date.now() - started} ms: ${servers.map((s) => s.url).join(' ')}`);

    const plan = await createConcert(servers[0]!.url);
    const load = new FaultLoad({
      ...plan,
      servers: servers.map((s) => s.url),
      price: 1000,
      buyers: 6,
      stampeders: 12,
      chargers: 6,
      runId: Date.now().toString(36),
    });
    const steps: string[] = [];
    const faults: Fault[] = [];
    load.start();
    await sleep(warmMs);

    const fail = async (
      name: string,
      service: ServiceName,
      signal: NodeJS.Signals,
      down: number,
      needs: readonly Op[],
    ) => {
      const downAt = Date.now();
      try {
        await services!.stopService(service, signal);
        steps.push(`${name}: stopped in ${Date.now() - downAt} ms`);
        await sleepUntil(downAt + down);
        await services!.restart(Math.max(5_000, deadline - 45_000 - Date.now()));
        steps.push(`${name}: restarted in ${Date.now() - downAt - down} ms`);
      } catch (error) {
        steps.push(`${name}: ${error instanceof Error ? error.message : String(error)}`);
      }
      const fault: Fault = { name, service, signal, downAt, backAt: Date.now(), needs };
      faults.push(fault);
      log(`${name}: down ${((fault.backAt - downAt) / 1000).toFixed(1)} s`);
      await sleep(recoverMs);
      return fault;
    };
    // Each fault needs its outage, a restart and the recovery window; one that cannot fit is skipped (and
    // the first assertion says so) rather than overrunning the suite's time limit.
    const fits = (outage: number) => Date.now() + outage + 15_000 + recoverMs < deadline - 15_000;
    if (fits(downMs)) await fail('MariaDB kill -9', 'mariadb', 'SIGKILL', downMs, databaseOps);
    if (fits(downMs)) await fail('Redis kill -9', 'redis', 'SIGKILL', downMs, everyOp);
    if (fits(kafkaDownMs)) await fail('Kafka stopped 30 s', 'kafka', 'SIGTERM', kafkaDownMs, []);
    await load.stop();
    log(`load stopped at ${Date.now() - started} ms after ${load.answers.length} requests`);

    pool = createPool({ uri: urls.databaseUrl, connectionLimit: 2 });
    const query = async (sql: string) => (await pool!.query(sql))[0] as Record<string, unknown>[];
    // After Kafka returns, the dispatchers' consumer groups rejoin only once the members that crashed
    // during the outage time out (kafkajs' session timeout), so deliveries resume that late.
    await quiesce(query, webhook, Math.min(deadline - 12_000, Date.now() + 50_000), steps);
    await Promise.all(servers.map((s) => s.stop()));
    for (const s of servers) services.untrack(s.pid);

    const snapshot = await readSnapshot(query);
    const kafka = faults.find((f) => f.service === 'kafka');
    if (kafka) {
      const sent = snapshot.outbox
        .map((o) => o.sentAt)
        .filter((at): at is number => at !== null && at >= kafka.backAt);
      kafka.firstPublishedAt = sent.length > 0 ? Math.min(...sent) : null;
    }
    const wire = await readWire(
      urls.kafkaBrokers,
      new Set(snapshot.outbox.map((o) => o.eventId)),
      Math.min(deadline - 3_000, Date.now() + 15_000),
    );
    run = { answers: load.answers, load, faults, snapshot, wire, webhook, steps };
    printReport(run, servers);
  }, budgetMs + 2_000);

  afterAll(async () => {
    await Promise.allSettled(servers.map((s) => s.stop()));
    await pool?.end().catch(() => undefined);
    await new Promise<void>((resolve) => (receiver ? receiver.close(() => resolve()) : resolve()));
    await services?.stop();
    log(`whole run ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }, 15_000);

  const current = (): Run => {
    if (!run) throw new Error('the run did not complete');
    return run;
  };

  it('every fault was injected and each dependency came back', () => {
    const { faults, steps } = current();
    expect(faults.map((f) => f.name)).toEqual(['MariaDB kill -9', 'Redis kill -9', 'Kafka stopped 30 s']);
    expect(steps.filter((s) => !/stopped in|restarted in|^quiet after/.test(s))).toEqual([]);
  });

  it('no seat has two live reservations', () => {
    expect(summarize([doubleLiveReservations(current().snapshot)])).toEqual([]);
  });

  it('every 201 the clients received (hold, payment, charge), and every cancel, is in the database', () => {
    const { snapshot, load } = current();
    expect(load.acknowledged.payments.size).toBeGreaterThan(0);
    expect(summarize([missingAcknowledged(snapshot, load.acknowledged)])).toEqual([]);
  });

  it('every balance equals the sum of its ledger', () => {
    expect(summarize([unbalancedWallets(current().snapshot)])).toEqual([]);
  });

  it('while a dependency is down: only the normal answers or 503 with Retry-After, none slower than 10 s', () => {
    const problems: string[] = [];
    for (const fault of current().faults) {
      for (const answer of during(current().answers, fault)) {
        const key = answerKey(answer);
        if (!expectedAnswers[answer.op].includes(key) && !isOutageAnswer(answer))
          problems.push(`${fault.name}: ${answer.op} answered ${describeAnswer(answer)}`);
        if (answer.doneAt - answer.sentAt > slowestAllowedMs)
          problems.push(`${fault.name}: ${answer.op} took ${answer.doneAt - answer.sentAt} ms`);
      }
    }
    expect(countedProblems(problems)).toEqual([]);
  });

  it('once a dependency is back, requests that need it succeed again before the next fault', () => {
    const problems: string[] = [];
    for (const fault of current().faults) {
      const seconds = secondsToFirstSuccess(current().answers, fault);
      if (seconds === null || seconds > recoverMs / 1000)
        problems.push(
          `${fault.name}: first success ${seconds === null ? 'never' : `after ${seconds.toFixed(1)} s`}`,
        );
    }
    expect(problems).toEqual([]);
  });

  it('at no time an answer the load cannot legitimately get (no 500, no lost queue slot, no hang)', () => {
    const problems = current()
      .answers.filter((a) => !expectedAnswers[a.op].includes(answerKey(a)) && !isOutageAnswer(a))
      .map((a) => `${a.op} answered ${describeAnswer(a)} at ${phaseOf(current(), a)}`);
    expect(countedProblems(problems)).toEqual([]);
  });

  it('every event is delivered once per fact after Kafka returns (Kafka, webhook, release-seat log)', () => {
    const { snapshot, wire, webhook } = current();
    const problems = eventProblems(snapshot, wire, webhook, {
      notify: subscriptions.notify,
      release: subscriptions['release-seat'],
      releaseConsumer,
    });
    expect(problems).toEqual([]);
  });

  it('every user the queue told ACTIVE has a queue.activated event', () => {
    const { snapshot, load } = current();
    expect(summarize([activationsWithoutEvent(snapshot, load.acknowledged)])).toEqual([]);
  });
});

/** A concert with two large schedules for buyers (a seat each) and a small one for the stampede. */
async function createConcert(url: string) {
  const admin = { ...(await bearer('fault-admin', 'admin')), 'content-type': 'application/json' };
  const created = await fetch(`${url}/v1/admin/concerts`, {
    method: 'POST',
    headers: admin,
    body: JSON.stringify({
      title: 'Fault',
      venue: 'Hall',
      schedules: [
        { startsAt: '2030-01-01T19:00:00Z', seatCount: 1000, price: 1000 },
        { startsAt: '2030-01-02T19:00:00Z', seatCount: 1000, price: 1000 },
        { startsAt: '2030-01-03T19:00:00Z', seatCount: 3, price: 1000 },
      ],
    }),
  });
  const concert = (await created.json()) as { id: string; schedules: { id: string }[] };
  if (created.status !== 201)
    throw new Error(`creating the concert: ${created.status} ${JSON.stringify(concert)}`);
  const user = { ...(await bearer('fault-setup')), 'content-type': 'application/json' };
  const entered = await fetch(`${url}/v1/queue/tokens`, {
    method: 'POST',
    headers: user,
    body: JSON.stringify({ concertId: concert.id }),
  });
  const access = ((await entered.json()) as { accessToken?: string }).accessToken ?? '';
  const seatsOf = async (scheduleId: string) => {
    const res = await fetch(`${url}/v1/schedules/${scheduleId}/seats`, {
      headers: { ...user, 'x-queue-token': access },
    });
    if (res.status !== 200) throw new Error(`seat map of ${scheduleId}: ${res.status} ${await res.text()}`);
    return ((await res.json()) as { items: { id: string }[] }).items.map((seat) => seat.id);
  };
  const [first, second, hot] = concert.schedules.map((s) => s.id) as [string, string, string];
  return {
    concertId: concert.id,
    distinct: [
      { scheduleId: first, seatIds: await seatsOf(first) },
      { scheduleId: second, seatIds: await seatsOf(second) },
    ],
    hot: { scheduleId: hot, seatIds: await seatsOf(hot) },
  };
}

/**
 * Waits until nothing is left to happen: no hold still HELD (lapsed ones turned EXPIRED by the sweeper),
 * nothing pending in the outbox, and every event its consumers subscribe to delivered. Gives up at
 * `until`; the assertions then show what was missing.
 */
async function quiesce(
  query: (sql: string) => Promise<Record<string, unknown>[]>,
  webhook: Map<string, number>,
  until: number,
  steps: string[],
) {
  const from = Date.now();
  let state = 'not read';
  let told = from;
  while (Date.now() < until) {
    if (Date.now() - told >= 5_000) {
      told = Date.now();
      log(`waiting for quiet: ${state}`);
    }
    try {
      const [held] = await query("SELECT COUNT(*) AS n FROM reservations WHERE status = 'HELD'");
      const [pending] = await query('SELECT COUNT(*) AS n FROM outbox WHERE sent_at IS NULL');
      const notify = await query(
        `SELECT event_id FROM outbox WHERE topic IN (${subscriptions.notify.map((t) => `'${t}'`).join(',')})`,
      );
      const [unreleased] = await query(
        `SELECT COUNT(*) AS n FROM outbox o WHERE o.topic IN (${subscriptions['release-seat'].map((t) => `'${t}'`).join(',')})
           AND NOT EXISTS (SELECT 1 FROM processed_events p WHERE p.consumer = '${releaseConsumer}' AND p.event_id = o.event_id)`,
      );
      const unnotified = notify.filter((row) => !webhook.has(String(row.event_id))).length;
      state = `held ${held?.n}, unsent ${pending?.n}, not notified ${unnotified}, not released ${unreleased?.n}`;
      if (
        Number(held?.n) === 0 &&
        Number(pending?.n) === 0 &&
        unnotified === 0 &&
        Number(unreleased?.n) === 0
      ) {
        steps.push(`quiet after ${Date.now() - from} ms`);
        return;
      }
    } catch (error) {
      state = `database: ${error instanceof Error ? error.message : String(error)}`;
    }
    await sleep(500);
  }
  steps.push(`not quiet after ${Date.now() - from} ms: ${state}`);
}

/** Every record on the topics, read from the beginning by a fresh group, until `expected` ids are seen. */
async function readWire(
  brokers: string,
  expected: Set<string>,
  until: number,
): Promise<Map<string, WireEvent>> {
  const wire = new Map<string, WireEvent>();
  const bus = createKafkaBus({
    brokers: brokers.split(','),
    clientId: 'fault-audit',
    partitions: 2,
    replicationFactor: 1,
    logger: pino({ level: 'silent' }),
  });
  try {
    const subscription = await bus.subscribe({
      groupId: `fault-audit-${Date.now().toString(36)}`,
      topics: [...allTopics],
      fromBeginning: true,
      handler: async (record) => {
        const id = record.headers?.ce_id ?? `(no ce_id) ${record.topic}:${record.offset}`;
        const seen = wire.get(id);
        if (seen) seen.copies += 1;
        else wire.set(id, { topic: record.topic, data: JSON.parse(record.value || '{}'), copies: 1 });
      },
    });
    while (Date.now() < until && [...expected].some((id) => !wire.has(id))) await sleep(250);
    await subscription.stop();
  } catch (error) {
    log(`reading Kafka failed: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    await bus.close().catch(() => undefined);
  }
  return wire;
}

/** Requests in flight at any moment of the outage. */
function during(answers: Answer[], fault: Fault): Answer[] {
  return answers.filter((a) => a.sentAt < fault.backAt && a.doneAt >= fault.downAt);
}

function secondsToFirstSuccess(answers: Answer[], fault: Fault): number | null {
  if (fault.service === 'kafka') {
    return fault.firstPublishedAt ? (fault.firstPublishedAt - fault.backAt) / 1000 : null;
  }
  const first = answers
    .filter(
      (a) => fault.needs.includes(a.op) && a.status >= 200 && a.status < 300 && a.doneAt >= fault.backAt,
    )
    .reduce((min, a) => Math.min(min, a.doneAt), Number.POSITIVE_INFINITY);
  return Number.isFinite(first) ? (first - fault.backAt) / 1000 : null;
}

function describeAnswer(answer: Answer): string {
  const extra = answer.status === 503 ? ` (Retry-After ${answer.retryAfter ?? 'missing'})` : '';
  return `${answerKey(answer)}${extra}${answer.error ? ` [${answer.error}]` : ''}`;
}

function countedProblems(problems: string[]): string[] {
  const counts = new Map<string, number>();
  for (const p of problems.map((p) => p.replace(/took \d+ ms/, 'took over 10 s')))
    counts.set(p, (counts.get(p) ?? 0) + 1);
  return [...counts].map(([p, n]) => `${p} ×${n}`);
}

function phaseOf(run: Run, answer: Answer): string {
  for (const fault of run.faults) {
    if (during([answer], fault).length > 0) return `${fault.name} (down)`;
    if (answer.sentAt >= fault.backAt && answer.sentAt < fault.backAt + recoverMs)
      return `${fault.name} (after)`;
  }
  return 'normal load';
}

function byStatus(answers: Answer[]): string {
  const counts = new Map<string, number>();
  for (const a of answers) counts.set(answerKey(a), (counts.get(answerKey(a)) ?? 0) + 1);
  return [...counts]
    .sort((a, b) => b[1] - a[1])
    .map(([key, n]) => `${key}×${n}`)
    .join(', ');
}

function printReport(run: Run, servers: AppServer[]): void {
  const rows = run.faults.map((fault) => {
    const window = during(run.answers, fault);
    const slowest = window.reduce((max, a) => Math.max(max, a.doneAt - a.sentAt), 0);
    const first = secondsToFirstSuccess(run.answers, fault);
    return [
      fault.name,
      `${((fault.backAt - fault.downAt) / 1000).toFixed(1)} s`,
      String(window.length),
      byStatus(window) || '-',
      `${slowest} ms`,
      first === null
        ? 'never'
        : `${first.toFixed(1)} s${fault.service === 'kafka' ? ' (first publish)' : ''}`,
    ];
  });
  const header = ['fault', 'down', 'requests', 'answers by status', 'slowest', 'first success after back'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  const ack = run.load.acknowledged;
  const out = [
    '',
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
    '',
    `whole run: ${run.answers.length} requests: ${byStatus(run.answers)}`,
    `acknowledged: ${ack.holds.size} holds, ${ack.payments.size} payments, ${ack.charges.size} charges, ${ack.cancels.size} cancels, ${ack.activated.size} users ACTIVE`,
    `database: ${run.snapshot.reservations.length} reservations, ${run.snapshot.payments.length} payments, ${run.snapshot.outbox.length} outbox rows; Kafka: ${run.wire.size} ids (${[...run.wire.values()].filter((e) => e.copies > 1).length} sent more than once); webhook: ${run.webhook.size} ids (${[...run.webhook.values()].filter((n) => n > 1).length} more than once)`,
    ...run.steps.map((s) => `step: ${s}`),
    ...servers.flatMap((s, i) => {
      const errors = [...errorSummary(s.logFile)].sort((a, b) => b[1] - a[1]).slice(0, 8);
      return errors.length > 0
        ? [`server ${i} error log lines:`, ...errors.map(([msg, n]) => `  ${n}× ${msg}`)]
        : [`server ${i}: no error log lines; last lines:\n${tail(s.logFile, 3)}`];
    }),
    '',
  ];
  process.stdout.write(`${out.join('\n')}\n`);
}
