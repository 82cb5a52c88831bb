import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU time from /proc (Linux), for the CPU shares both `npm run bench` and `npm run tune` print: each
 * process's ticks with its process group (a server and the workers it forked count together), and the
 * machine's busy and idle ticks. Where /proc cannot be read, the readers answer empty or null.
 */

export const ticksPerSecond = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

export interface ProcStat {
  pid: number;
  comm: string;
  pgrp: number;
  ticks: number;
}

export function readProcs(): ProcStat[] {
  const out: ProcStat[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const comm = stat.slice(stat.indexOf('(') + 1, close);
      const f = stat
        .slice(close + 2)
        .split(' ')
        .map(Number);
      // After "(comm) ": state(0) ppid(1) pgrp(2) ... utime(11) stime(12)
      out.push({ pid: Number(entry), comm, pgrp: f[2]!, ticks: f[11]! + f[12]! });
    } catch {
      // the process ended while we looked
    }
  }
  return out;
}

export function readHost(): { busy: number; idle: number } | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    const idle = (f[3] ?? 0) + (f[4] ?? 0);
    const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
    return { busy: total - idle, idle };
  } catch {
    return null;
  }
}

/** Resident memory (KiB) of every process in a process group: a server with its cluster workers. */
export function groupRssKiB(pgrp: number): number {
  let total = 0;
  for (const p of readProcs()) {
    if (p.pgrp !== pgrp) continue;
    try {
      const status = readFileSync(`/proc/${p.pid}/status`, 'utf8');
      total += Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0);
    } catch {
      // the process ended while we looked
    }
  }
  return total;
}

/** How many files a process may open (its soft limit; Node raises it to the hard one) and has open. */
export function openFiles(pid: number): { limit: number; open: number } | null {
  try {
    const limits = readFileSync(`/proc/${pid}/limits`, 'utf8');
    const soft = /^Max open files\s+(\d+)/m.exec(limits)?.[1];
    return { limit: Number(soft), open: readdirSync(`/proc/${pid}/fd`).length };
  } catch {
    return null;
  }
}
