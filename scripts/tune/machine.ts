import os from 'node:os';
import { type ProcStat, readHost, readProcs, ticksPerSecond } from '../../bench/lib/proc.ts';

/** What the numbers were measured on, and who used the CPU while they were (Linux /proc; elsewhere null). */

export interface Machine {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  os: string;
  node: string;
  wrk: string | null;
  database: string | null;
  redis: string | null;
  loadAtStart: [number, number, number];
  /** CPU busy on the whole machine over one second before the run, in % of one core; null without /proc. */
  busyBefore?: number | null;
}

export function describeMachine(extra: {
  wrk: string | null;
  database: string | null;
  redis: string | null;
}): Machine {
  const cpus = os.cpus();
  return {
    cpuModel: (cpus[0]?.model ?? 'unknown CPU').trim(),
    cores: os.availableParallelism?.() ?? cpus.length,
    memoryGiB: os.totalmem() / 1024 ** 3,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    ...extra,
    loadAtStart: os.loadavg() as [number, number, number],
  };
}

/**
 * A 1-minute load average of half the cores or more. It lags by minutes, so it is only a hint; the CPU busy
 * sample before the run and the "other" CPU during it say whether other work actually ran.
 */
export function loadIsHigh(load1: number, cores: number): boolean {
  return load1 >= cores * 0.5;
}

/** The machine's CPU busy over `ms`, in % of one core (2 cores fully busy = 200). */
export async function busyOver(ms = 1000): Promise<number | null> {
  const a = readHost();
  await new Promise((r) => setTimeout(r, ms));
  const b = readHost();
  if (!a || !b) return null;
  return ((b.busy - a.busy) / ticksPerSecond / (ms / 1000)) * 100;
}

export interface CpuShare {
  /** Percent of one core over the interval; null when /proc is not readable. */
  fn: number | null;
  db: number | null;
  redis: number | null;
  wrk: number | null;
  /** Everything else on the machine (Kafka, other people's work). */
  other: number | null;
  /** Idle, in percent of one core (2 cores all idle = 200). */
  idle: number | null;
}

interface Snapshot {
  at: number;
  host: { busy: number; idle: number } | null;
  fn: number;
  db: number;
  redis: number;
  wrk: number;
}

/** CPU of the function's process group, the database and Redis servers, and wrk, over an interval. */
export function cpuMeter(fnGroup: number) {
  const snapshot = (wrkPid: number | undefined): Snapshot => {
    const procs = readProcs();
    const sum = (pred: (p: ProcStat) => boolean) => procs.filter(pred).reduce((a, p) => a + p.ticks, 0);
    return {
      at: performance.now(),
      host: readHost(),
      fn: sum((p) => p.pgrp === fnGroup),
      db: sum((p) => p.comm === 'mariadbd' || p.comm === 'mysqld'),
      redis: sum((p) => p.comm === 'redis-server'),
      wrk: wrkPid === undefined ? 0 : sum((p) => p.pgrp === wrkPid),
    };
  };
  const share = (first: Snapshot | undefined, last: Snapshot): CpuShare => {
    if (!first?.host || !last.host) {
      return { fn: null, db: null, redis: null, wrk: null, other: null, idle: null };
    }
    const seconds = (last.at - first.at) / 1000;
    const pct = (ticks: number) => Math.max(0, (ticks / ticksPerSecond / seconds) * 100);
    const fn = pct(last.fn - first.fn);
    const db = pct(last.db - first.db);
    const redis = pct(last.redis - first.redis);
    const wrk = pct(last.wrk - first.wrk);
    const busy = pct(last.host.busy - first.host.busy);
    return {
      fn,
      db,
      redis,
      wrk,
      other: Math.max(0, busy - fn - db - redis - wrk),
      idle: pct(last.host.idle - first.host.idle),
    };
  };
  return {
    /**
     * One interval inside a wrk run of `seconds`: it opens when wrk has started and closes a little before
     * wrk should end, while wrk's own ticks can still be read.
     */
    start(seconds: number) {
      let wrkPid: number | undefined;
      let first: Snapshot | undefined;
      let last: Snapshot | undefined;
      let timer: NodeJS.Timeout | undefined;
      return {
        wrkStarted(pid: number) {
          wrkPid = pid;
          first = snapshot(wrkPid);
          const ms = Math.max(200, seconds * 1000 - 250);
          timer = setTimeout(() => {
            last = snapshot(wrkPid);
          }, ms);
        },
        result(): CpuShare {
          clearTimeout(timer);
          return share(first, last ?? snapshot(wrkPid));
        },
      };
    },
  };
}
