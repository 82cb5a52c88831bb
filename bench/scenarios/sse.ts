import { type ChildProcess, fork } from 'node:child_process';
import { Redis } from 'ioredis';
import { queueKeys } from '../../shared/queue/redis-queue-store.ts';
import { mapLimit } from '../lib/http.ts';
import { groupRssKiB, openFiles, readProcs } from '../lib/proc.ts';
import { bundleServer } from '../lib/server-process.ts';
import type { DriverReport } from '../sse-driver.ts';
import type { Scenario } from './scenario.ts';

const fewStreams = 1_000;
/** Each driver process holds at most this many sockets (a process's open files are limited too). */
const perDriver = 10_000;
/** The issue's bounds: a status change reaches every stream within this, and a stream costs at most this. */
const deliveryBoundMs = 1_500;
const memoryBoundKiB = 10;
const openingLimitMs = 5 * 60_000;
/** How often the line's active set is counted while the line opens. */
const sampleMs = 50;
/** Seconds of each window in which Redis commands and server CPU are counted. */
const windowSeconds = 5;

/**
 * Live queue updates at scale: as many `GET /v1/queue/stream` connections as one server process may hold
 * (20,000, or fewer where its open-file limit is lower: the run says so), all WAITING in one line. It
 * counts the Redis commands of all streams together (INFO's total_commands_processed, with no stream,
 * with 1,000, with all), the server's memory per open stream, and, once the line opens to everyone, how
 * long each stream waits for its ACTIVE event. The streams come from bench/sse-driver.ts processes.
 */
export const sse: Scenario = {
  name: 'sse',
  about: `SSE streams (--streams, 20,000) on one server process: Redis commands per tick, memory per stream, delivery of a status change`,
  async run(ctx) {
    const { serverPid } = ctx.setup;
    const files = openFiles(serverPid);
    if (!files) throw new Error('sse: cannot read /proc (Linux only)');
    // One process is the point: with --workers the streams would spread over several.
    if (readProcs().filter((p) => p.pgrp === serverPid).length > 1) {
      ctx.log('  sse measures one server process: skipped with --workers > 1');
      return [];
    }
    const wantedStreams = ctx.options.streams;
    const headroom = 200;
    const streams = Math.min(wantedStreams, files.limit - files.open - headroom);
    const limitNote =
      streams < wantedStreams
        ? ` (asked ${wantedStreams.toLocaleString('en-US')}: this machine lets a process open ${files.limit} files)`
        : '';

    const users = await ctx.users('v', streams);
    const { concertId } = await ctx.createConcert(1, 1);
    const admin = await ctx.adminHeaders();
    await ctx.http.expect(200, 'PUT', `/v1/admin/queues/${concertId}`, {
      headers: admin,
      json: { maxActive: 1 },
    });
    const started = Date.now();
    const entries = await mapLimit(users, 64, async (user) => {
      const answer = await ctx.http.expect<{ status: string; queueToken: string; position: number }>(
        201,
        'POST',
        '/v1/queue/tokens',
        { headers: { authorization: `Bearer ${user.bearer}` }, json: { concertId } },
      );
      return answer.status === 'WAITING' ? { token: answer.queueToken, position: answer.position } : null;
    });
    // The line admits in order: the rank of a waiter is where its place stands among the others'.
    const waiting = entries
      .filter((e): e is { token: string; position: number } => e !== null)
      .sort((a, b) => a.position - b.position)
      .map((e, rank) => ({ token: e.token, rank }));
    ctx.log(`  ${users.length} users entered (${waiting.length} WAITING) in ${Date.now() - started} ms`);

    const redis = new Redis(ctx.setup.redisUrl, { maxRetriesPerRequest: 1 });
    const commands = async () =>
      Number(/total_commands_processed:(\d+)/.exec(await redis.info('stats'))?.[1] ?? Number.NaN);
    const activeKey = queueKeys(concertId)[1]!;
    const countActive = async () => {
      const type = await redis.type(activeKey);
      if (type === 'zset') return redis.zcard(activeKey);
      if (type === 'set') return redis.scard(activeKey);
      if (type === 'hash') return redis.hlen(activeKey);
      return 0;
    };
    let samplingDone = false;
    /** The size of the line's active set every sampleMs, with the time of each answer. */
    const sampleActive = async () => {
      const samples: Array<[at: number, active: number]> = [];
      while (!samplingDone) {
        const n = await countActive();
        samples.push([Date.now(), n]);
        await sleep(sampleMs);
      }
      return samples;
    };
    /** Redis commands a second over a window, and the server's CPU (% of a core) meanwhile. */
    const window = async () => {
      const before = await commands();
      const meter = ctx.setup.cpu.start(serverPid);
      await sleep(windowSeconds * 1000);
      const cpu = meter.stop();
      // The first INFO is one of the commands counted.
      return { perSecond: ((await commands()) - before - 1) / windowSeconds, cpu: cpu.server };
    };

    const bundle = await bundleServer(ctx.setup.buildDir, 'sse-driver');
    const drivers: Driver[] = [];
    try {
      const idle = await window();
      const rssBefore = groupRssKiB(serverPid);
      const liveBefore = await liveMemory(ctx);
      const count = (n: number) => n.toLocaleString('en-US');

      const driverCount = Math.ceil(waiting.length / perDriver);
      for (let i = 0; i < driverCount; i++) drivers.push(startDriver(bundle));
      const few = Math.min(fewStreams, Math.floor(waiting.length / 2));
      ctx.log(`  opening ${count(few)} streams …`);
      await openStreams(drivers.slice(0, 1), ctx.setup.baseUrl, [waiting.slice(0, few)]);
      await sleep(2000);
      const withFew = await window();
      ctx.log(`  opening ${count(waiting.length - few)} more (${driverCount} driver processes) …`);
      const rest = waiting.slice(few);
      // The first driver already holds `few`: it takes that many fewer of the rest.
      const slices = drivers.map((_, i) =>
        rest.slice(Math.max(0, i * perDriver - few), (i + 1) * perDriver - few),
      );
      const openStarted = Date.now();
      // A server that cannot keep up opens slowly: progress every 10 s, and the run goes on after 5 minutes.
      let opened = false;
      const opening = openStreams(drivers, ctx.setup.baseUrl, slices).then(() => {
        opened = true;
      });
      while (!opened && Date.now() - openStarted < openingLimitMs) {
        await Promise.race([opening, sleep(10_000)]);
        if (!opened) {
          const now = await reportOf(drivers);
          ctx.log(`  … ${count(now.open + now.active)} open, ${now.failed} failed`);
        }
      }
      const afterOpen = await reportOf(drivers);
      ctx.log(
        `  ${count(afterOpen.open)} streams open, ${afterOpen.failed} failed, in ${Date.now() - openStarted} ms`,
      );
      await sleep(2000);
      const withAll = await window();
      const rssAfter = groupRssKiB(serverPid);
      const liveAfter = await liveMemory(ctx);
      const open = (await reportOf(drivers)).open;

      // The status change: the line opens to everyone, and each stream should say ACTIVE within the bound.
      await Promise.all(drivers.map((d) => d.ask('mark', 'marked')));
      const activeBefore = await countActive();
      const sampling = sampleActive();
      const changedAt = Date.now();
      // A server overwhelmed by its streams may refuse it for a while (its Redis calls time out): retried.
      let change = await openLine(ctx, concertId, admin);
      for (let i = 0; i < 10 && change !== null; i++) {
        await sleep(1000);
        change = await openLine(ctx, concertId, admin);
      }
      const deadline = Date.now() + 30_000;
      let final = await reportOf(drivers);
      while (final.open > 0 && Date.now() < deadline) {
        await sleep(500);
        final = await reportOf(drivers);
      }
      samplingDone = true;
      const samples = await sampling;
      // Rank r was admitted once the active set held activeBefore + r + 1: after the last sample that held
      // fewer, so the time from that sample to its event is the delivery, overstated by one interval at most.
      const admittedAfter = (rank: number) => {
        let before = changedAt;
        for (const [at, n] of samples) {
          if (n >= activeBefore + rank + 1) return before;
          before = at;
        }
        return null;
      };
      const latencies = final.arrivals
        .map(([rank, at]) => {
          const admitted = admittedAfter(rank);
          return admitted === null ? null : at - admitted;
        })
        .filter((ms): ms is number => ms !== null)
        .sort((a, b) => a - b);
      const allAdmitted = samples.find(([, n]) => n >= activeBefore + open)?.[0];
      const lastEvent = Math.max(0, ...final.arrivals.map(([, at]) => at));
      const at = (q: number) =>
        latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
      const inTime = latencies.filter((ms) => ms <= deliveryBoundMs).length;

      const perTick = (w: { perSecond: number }) => Math.max(0, w.perSecond - idle.perSecond);
      const perStream = (kib: number) => (open > 0 ? kib / open : 0);
      const rssPerStream = perStream(rssAfter - rssBefore);
      const livePerStream = perStream((liveAfter.bytes - liveBefore.bytes) / 1024);
      const verdict = (met: boolean) => (met ? 'met' : 'missed');
      const lines = [
        `${count(open)} streams open on one server process${limitNote}; ${final.failed} failed` +
          (Object.keys(final.reasons).length > 0
            ? ` (${Object.entries(final.reasons)
                .map(([why, n]) => `${why} × ${count(n)}`)
                .join('; ')})`
            : ''),
        `Redis commands a second, all streams together: ${count(Math.round(idle.perSecond))} with none open (the server's own ` +
          `background), ${count(Math.round(withFew.perSecond))} with ${count(few)}, ${count(Math.round(withAll.perSecond))} with ${count(open)}; ` +
          `beyond the idle server, per 1 s tick: ${count(Math.round(perTick(withFew)))} and ${count(Math.round(perTick(withAll)))} ` +
          `(target: about one per concert per tick, independent of the number of streams: ` +
          `${verdict(perTick(withAll) <= 10)})`,
        `server CPU while the streams wait: ${idle.cpu} % of a core with none, ${withFew.cpu} % with ${count(few)}, ` +
          `${withAll.cpu} % with ${count(open)}`,
        `server memory per open stream: ${livePerStream.toFixed(1)} KiB live (JS heap and external memory ` +
          `${liveBefore.collected ? 'after a full collection' : 'without a collection (no --expose-gc)'}: ` +
          `${count(Math.round(liveBefore.bytes / 2 ** 20))} → ${count(Math.round(liveAfter.bytes / 2 ** 20))} MiB; ` +
          `target ≤ ${memoryBoundKiB} KB: ${verdict(livePerStream <= memoryBoundKiB)}), ${rssPerStream.toFixed(1)} KiB resident ` +
          `(${count(Math.round(rssBefore / 1024))} → ${count(Math.round(rssAfter / 1024))} MiB, garbage and kernel buffers included)`,
        ...(change === null ? [] : [`the line could not be opened to all: ${change}`]),
        `status change delivered: ${count(final.arrivals.length)} of ${count(open)} streams said ACTIVE; from the ` +
          `moment the line admitted each (its active set polled every ${sampleMs} ms: each figure is at most that much ` +
          `over) to its event: p50 ${at(0.5)} ms, p99 ${at(0.99)} ms, max ${latencies.at(-1) ?? 0} ms; within ` +
          `${deliveryBoundMs / 1000} s: ${count(inTime)} of ${count(open)} (${verdict(open > 0 && inTime === open)})`,
        `the line opened to all (maxActive raised): it admitted all ${count(open)} in ` +
          `${allAdmitted ? `${((allAdmitted - changedAt) / 1000).toFixed(1)} s` : 'more than the 30 s waited'}; ` +
          `the last ACTIVE event came ${((lastEvent - changedAt) / 1000).toFixed(1)} s after the change`,
      ];
      ctx.sections.push({
        title: 'SSE: queue streams',
        lines,
        ok: change === null && final.failed === 0 && open > 0 && final.arrivals.length === open,
      });
      for (const line of lines) ctx.log(`  ${line}`);
    } finally {
      await Promise.all(drivers.map((d) => d.close()));
      redis.disconnect();
    }
    return [];
  },
};

/** The server's live memory (bench/server.ts's GET /bench/memory): heap used plus external, in bytes. */
async function liveMemory(
  ctx: Parameters<Scenario['run']>[0],
): Promise<{ bytes: number; collected: boolean }> {
  const m = await ctx.http.expect<{ heapUsed: number; external: number; collected: boolean }>(
    200,
    'GET',
    '/bench/memory',
  );
  return { bytes: m.heapUsed + m.external, collected: m.collected };
}

/** Raises the line's limits so every waiter is admitted; null when done, else what the server answered. */
async function openLine(
  ctx: Parameters<Scenario['run']>[0],
  concertId: string,
  headers: Record<string, string>,
): Promise<string | null> {
  const answer = await ctx.http
    .request('PUT', `/v1/admin/queues/${concertId}`, {
      headers,
      json: { maxActive: 1_000_000, admitPerSecond: 100_000 },
    })
    .catch((error: unknown) => ({ status: 0, body: String(error) }));
  return answer.status === 200 ? null : `${answer.status} ${JSON.stringify(answer.body)}`;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Driver {
  ask(type: 'open' | 'mark' | 'report', reply: string, extra?: object): Promise<DriverReport>;
  close(): Promise<void>;
}

/** A bench/sse-driver.ts process (bundled), answering one request at a time over IPC. */
function startDriver(bundle: string): Driver {
  const child: ChildProcess = fork(bundle, [], {
    execArgv: [],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const waiting: Array<{ reply: string; resolve: (r: DriverReport) => void; reject: (e: Error) => void }> =
    [];
  child.on('message', (message: { type: string } & DriverReport) => {
    const at = waiting.findIndex((w) => w.reply === message.type);
    if (at >= 0) waiting.splice(at, 1)[0]!.resolve(message);
  });
  child.on('exit', (code) => {
    for (const w of waiting.splice(0)) w.reject(new Error(`sse driver exited (${code})`));
  });
  return {
    ask(type, reply, extra = {}) {
      return new Promise((resolve, reject) => {
        waiting.push({ reply, resolve, reject });
        child.send({ type, ...extra });
      });
    },
    close() {
      return new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.send({ type: 'close' });
        setTimeout(() => child.kill('SIGKILL'), 5000).unref();
      });
    },
  };
}

async function openStreams(
  drivers: Driver[],
  url: string,
  slices: Array<Array<{ token: string; rank: number }>>,
): Promise<void> {
  await Promise.all(
    drivers.map((d, i) => (slices[i]?.length ? d.ask('open', 'opened', { url, streams: slices[i] }) : null)),
  );
}

/** All drivers' figures added up. */
async function reportOf(drivers: Driver[]): Promise<DriverReport> {
  const reports = await Promise.all(drivers.map((d) => d.ask('report', 'report')));
  return {
    open: reports.reduce((a, r) => a + r.open, 0),
    failed: reports.reduce((a, r) => a + r.failed, 0),
    reasons: reports.reduce<Record<string, number>>((all, r) => {
      for (const [why, n] of Object.entries(r.reasons)) all[why] = (all[why] ?? 0) + n;
      return all;
    }, {}),
    active: reports.reduce((a, r) => a + r.active, 0),
    arrivals: reports.flatMap((r) => r.arrivals),
    events: reports.reduce((a, r) => a + r.events, 0),
  };
}
