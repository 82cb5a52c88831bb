import { type ChildProcess, fork } from 'node:child_process';
import { Redis } from 'ioredis';
import { mapLimit } from '../lib/http.ts';
import { groupRssKiB, openFiles, readProcs } from '../lib/proc.ts';
import { bundleServer } from '../lib/server-process.ts';
import type { DriverReport } from '../sse-driver.ts';
import type { Scenario } from './scenario.ts';

const fewStreams = 1_000;
/** Each driver process holds at most this many sockets (a process's open files are limited too). */
const perDriver = 10_000;
/** The bounds: a status change reaches every stream within this, and a stream costs at most this. */
const deliveryBoundMs = 1_500;
const memoryBoundKiB = 10;
const openingLimitMs = 5 * 60_000;
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
    const tokens = await mapLimit(users, 64, async (user) => {
      const answer = await ctx.http.expect<{ status: string; queueToken: string }>(
        201,
        'POST',
        '/v1/queue/tokens',
        { headers: { authorization: `Bearer ${user.bearer}` }, json: { concertId } },
      );
      return answer.status === 'WAITING' ? answer.queueToken : null;
    });
    const waiting = tokens.filter((t): t is string => t !== null);
    ctx.log(`  ${users.length} users entered (${waiting.length} WAITING) in ${Date.now() - started} ms`);

    const redis = new Redis(ctx.setup.redisUrl, { maxRetriesPerRequest: 1 });
    const commands = async () =>
      Number(/total_commands_processed:(\d+)/.exec(await redis.info('stats'))?.[1] ?? Number.NaN);
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
      const open = (await reportOf(drivers)).open;

      // The status change: the line opens to everyone, and each stream should say ACTIVE within the bound.
      await Promise.all(drivers.map((d) => d.ask('mark', 'marked')));
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
      const latencies = final.sinceMark.sort((a, b) => a - b);
      const at = (q: number) =>
        latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
      const inTime = latencies.filter((ms) => ms <= deliveryBoundMs).length;

      const perTick = (w: { perSecond: number }) => Math.max(0, w.perSecond - idle.perSecond);
      const kibPerStream = open > 0 ? (rssAfter - rssBefore) / open : 0;
      const verdict = (met: boolean) => (met ? 'met' : 'missed');
      const lines = [
        `${count(open)} streams open on one server process${limitNote}; ${final.failed} failed` +
          (final.reasons.length > 0 ? ` (${final.reasons.slice(0, 3).join('; ')})` : ''),
        `Redis commands a second, all streams together: ${count(Math.round(idle.perSecond))} with none open (the server's own ` +
          `background), ${count(Math.round(withFew.perSecond))} with ${count(few)}, ${count(Math.round(withAll.perSecond))} with ${count(open)}; ` +
          `beyond the idle server, per 1 s tick: ${count(Math.round(perTick(withFew)))} and ${count(Math.round(perTick(withAll)))} ` +
          `(target: about one per concert per tick, independent of the number of streams: ` +
          `${verdict(perTick(withAll) <= 10)})`,
        `server CPU while the streams wait: ${idle.cpu} % of a core with none, ${withFew.cpu} % with ${count(few)}, ` +
          `${withAll.cpu} % with ${count(open)}`,
        `server memory per open stream: ${kibPerStream.toFixed(1)} KiB (resident ${count(Math.round(rssBefore / 1024))} → ` +
          `${count(Math.round(rssAfter / 1024))} MiB; target ≤ ${memoryBoundKiB} KB: ${verdict(kibPerStream <= memoryBoundKiB)})`,
        ...(change === null ? [] : [`the line could not be opened to all: ${change}`]),
        `status change (the line opened to all) delivered to ${count(latencies.length)} of ${count(open)} streams: ` +
          `p50 ${at(0.5)} ms, p99 ${at(0.99)} ms, max ${latencies.at(-1) ?? 0} ms; within ${deliveryBoundMs / 1000} s: ` +
          `${count(inTime)} (${verdict(open > 0 && inTime === open)})`,
      ];
      ctx.sections.push({
        title: 'SSE: queue streams',
        lines,
        ok: change === null && final.failed === 0 && open > 0 && latencies.length === open,
      });
      for (const line of lines) ctx.log(`  ${line}`);
    } finally {
      await Promise.all(drivers.map((d) => d.close()));
      redis.disconnect();
    }
    return [];
  },
};

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

async function openStreams(drivers: Driver[], url: string, slices: string[][]): Promise<void> {
  await Promise.all(
    drivers.map((d, i) => (slices[i]?.length ? d.ask('open', 'opened', { url, tokens: slices[i] }) : null)),
  );
}

/** All drivers' figures added up. */
async function reportOf(drivers: Driver[]): Promise<DriverReport> {
  const reports = await Promise.all(drivers.map((d) => d.ask('report', 'report')));
  return {
    open: reports.reduce((a, r) => a + r.open, 0),
    failed: reports.reduce((a, r) => a + r.failed, 0),
    reasons: reports.flatMap((r) => r.reasons),
    active: reports.reduce((a, r) => a + r.active, 0),
    sinceMark: reports.flatMap((r) => r.sinceMark),
    events: reports.reduce((a, r) => a + r.events, 0),
  };
}
