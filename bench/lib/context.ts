import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { createUserTokens } from '../../shared/auth/user-tokens.ts';
import type { DB } from '../../shared/db/schema.ts';
import { summariseProfile } from '../profile-summary.ts';
import type { Section } from '../scenarios/scenario.ts';
import type { CpuShare, createCpuMeter } from './cpu.ts';
import { type HttpClient, mapLimit } from './http.ts';
import { type LoadResult, type PlannedRequest, runLoad, writeRequestFile } from './wrk.ts';

export interface BenchOptions {
  durationSeconds: number;
  warmupSeconds: number;
  connections: number;
  threads: number;
  /** SSE streams the sse scenario opens. */
  streams: number;
}

/** A bench user: its bearer token and, per concert it entered, its queue and access tokens. */
export interface BenchUser {
  id: string;
  bearer: string;
  queue: Map<string, { queueToken: string; accessToken: string }>;
}

export interface Measured {
  /** The measured run (after the warm-up). */
  run: LoadResult;
  warmup: LoadResult;
  /** Who used the CPU during the measured run. */
  cpu: CpuShare;
  /** CPU profiles of the server's processes during the measured run (--profile). */
  profiles: string[];
}

export interface BenchSetup {
  runId: string;
  baseUrl: string;
  /** The server's process group (for CPU accounting). */
  serverPid: number;
  http: HttpClient;
  /** The bench's own connection to the run's database (setup lookups and correctness checks). */
  db: Kysely<DB>;
  databaseUrl: string;
  redisUrl: string;
  options: BenchOptions;
  generator: 'wrk' | 'autocannon';
  /** Request lists, logs. */
  workDir: string;
  /** Where server bundles go (inside the repo, so they resolve node_modules). */
  buildDir: string;
  cpu: ReturnType<typeof createCpuMeter>;
  /** Profiles each measured run of the server (--profile). */
  profiler?: { start(): void; stop(label: string): Promise<string[]> } | undefined;
  authJwtSecret: string;
  log: (line: string) => void;
}

/** What scenarios use: the running server, the run's database, tokens, and the load generator. */
export class BenchContext {
  readonly concerts: string[] = [];
  /** Figures a scenario reports beside its rows (the SSE streams); main takes them after each scenario. */
  readonly sections: Section[] = [];
  readonly runId: string;
  readonly http: HttpClient;
  readonly db: Kysely<DB>;
  readonly options: BenchOptions;
  readonly log: (line: string) => void;
  private readonly tokens;

  constructor(readonly setup: BenchSetup) {
    ({ runId: this.runId, http: this.http, db: this.db, options: this.options, log: this.log } = setup);
    this.tokens = createUserTokens({
      secret: setup.authJwtSecret,
      issuer: 'concert-auth',
      audience: 'concert-api',
    });
  }

  /** Users named after this run, so their rate-limit and queue entries are new in a shared Redis. */
  async users(kind: string, count: number): Promise<BenchUser[]> {
    const started = Date.now();
    const users = await mapLimit(
      Array.from({ length: count }, (_, i) => `${this.runId}${kind}${i}`),
      256,
      async (id) => ({ id, bearer: await this.tokens.sign({ id, role: 'user' }), queue: new Map() }),
    );
    this.log(`  signed ${count} user tokens (${kind}) in ${Date.now() - started} ms`);
    return users;
  }

  async adminHeaders(): Promise<Record<string, string>> {
    const token = await this.tokens.sign({ id: `${this.runId}admin`, role: 'admin' });
    return { authorization: `Bearer ${token}` };
  }

  /** POST /v1/admin/concerts; returns the schedules with their seat ids (read from the database). */
  async createConcert(schedules: number, seatsPerSchedule: number, price = 1000) {
    const started = Date.now();
    const startsAt = new Date(Date.now() + 30 * 86_400_000).toISOString();
    const created = await this.http.expect<{ id: string; schedules: Array<{ id: string }> }>(
      201,
      'POST',
      '/v1/admin/concerts',
      {
        headers: await this.adminHeaders(),
        json: {
          title: `Bench ${this.runId}`,
          venue: 'Bench hall',
          schedules: Array.from({ length: schedules }, () => ({
            startsAt,
            seatCount: seatsPerSchedule,
            price,
          })),
        },
      },
    );
    this.concerts.push(created.id);
    const scheduleIds = created.schedules.map((s) => Number(s.id));
    const seats = await this.db
      .selectFrom('seats')
      .select(['id', 'schedule_id'])
      .where('schedule_id', 'in', scheduleIds)
      .orderBy('id')
      .execute();
    this.log(
      `  created concert ${created.id}: ${schedules} schedule(s) × ${seatsPerSchedule} seats in ${Date.now() - started} ms`,
    );
    return {
      concertId: created.id,
      scheduleIds,
      seats: seats.map((s) => ({ id: Number(s.id), scheduleId: Number(s.schedule_id) })),
    };
  }

  /** Each user enters the concert's queue over HTTP; with QUEUE_MAX_ACTIVE large all are ACTIVE at once. */
  async enterQueue(users: BenchUser[], concertId: string): Promise<void> {
    const started = Date.now();
    await mapLimit(users, 64, async (user) => {
      const answer = await this.http.expect<{ status: string; queueToken: string; accessToken?: string }>(
        201,
        'POST',
        '/v1/queue/tokens',
        { headers: { authorization: `Bearer ${user.bearer}` }, json: { concertId } },
      );
      if (answer.status !== 'ACTIVE' || !answer.accessToken) {
        throw new Error(
          `user ${user.id} is ${answer.status} in concert ${concertId}: is QUEUE_MAX_ACTIVE large?`,
        );
      }
      user.queue.set(concertId, { queueToken: answer.queueToken, accessToken: answer.accessToken });
    });
    this.log(
      `  ${users.length} users entered the queue of concert ${concertId} in ${Date.now() - started} ms`,
    );
  }

  /** Writes the request list and runs wrk: warm-up, then the measured run continuing the same list. */
  async load(
    name: string,
    users: Array<Record<string, string>>,
    requests: PlannedRequest[],
    target: { url: string; pid: number; profiled?: boolean } = {
      url: this.setup.baseUrl,
      pid: this.setup.serverPid,
      profiled: true,
    },
  ): Promise<Measured> {
    const file = join(this.setup.workDir, `${name}.requests`);
    writeRequestFile(file, users, requests);
    const { connections, threads } = this.options;
    const common = {
      url: target.url,
      file,
      connections,
      threads,
      // Long enough that a slow baseline answer is measured rather than dropped as a timeout.
      timeoutSeconds: 15,
      generator: this.setup.generator,
    };
    this.log(
      `  wrk: ${connections} connections, ${threads} threads, ${requests.length} requests in the list`,
    );
    this.log(`  warm-up ${this.options.warmupSeconds} s …`);
    const warmup = await runLoad({ ...common, seconds: this.options.warmupSeconds });
    this.log(`  measuring ${this.options.durationSeconds} s …`);
    const profiler = target.profiled ? this.setup.profiler : undefined;
    profiler?.start();
    const meter = this.setup.cpu.start(target.pid);
    const run = await runLoad({
      ...common,
      seconds: this.options.durationSeconds,
      start: warmup.threadStarts,
    });
    const cpu = meter.stop();
    const profiles = (await profiler?.stop(name)) ?? [];
    for (const file of profiles) for (const line of summariseProfile(file, 15)) this.log(`  ${line}`);
    return { warmup, run, cpu, profiles };
  }
}

export const bearerOf = (user: BenchUser) => ({ Authorization: `Bearer ${user.bearer}` });

/** Headers of a user for [queue] endpoints of one concert. */
export function accessHeaders(user: BenchUser, concertId: string): Record<string, string> {
  const entry = user.queue.get(concertId);
  if (!entry) throw new Error(`user ${user.id} has not entered concert ${concertId}`);
  return { ...bearerOf(user), 'X-Queue-Token': entry.accessToken };
}

export const json = { 'Content-Type': 'application/json' };
