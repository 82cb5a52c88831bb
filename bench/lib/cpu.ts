import { readFileSync } from 'node:fs';
import { readHost, readProcs, ticksPerSecond } from './proc.ts';

/**
 * Who used the machine's CPU during a measured run, from /proc (Linux): the server's processes (its
 * process group), MariaDB, Redis, the load generator, and the rest (anything else running). On a 2-core
 * machine where load generator, server and databases share the cores, this says what the ceiling was.
 */
export interface CpuShare {
  /** Percent of one core, so a 2-core machine has 200. */
  server: number;
  mariadb: number;
  redis: number;
  /** The load generator: wrk (a child the bench has reaped) and the bench process itself. */
  load: number;
  /** Everything else on the machine (other programs: a shared machine's noise). */
  other: number;
  idle: number;
  cores: number;
  /** CPU seconds the server's processes used during the run: divided by its answers, the cost of one. */
  serverSeconds: number;
}

interface Sample {
  at: number;
  total: number;
  idle: number;
  byRole: Record<'server' | 'mariadb' | 'redis' | 'load', number>;
}

export function createCpuMeter(roles: { redisPort: string }) {
  const isRedis = (pid: number) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(`:${roles.redisPort}`);
    } catch {
      return false;
    }
  };
  const sample = (serverGroup: number): Sample => {
    const host = readHost() ?? { busy: 0, idle: 0 };
    // The bench's own time plus that of its reaped children (wrk, once it exited): fields 14-17.
    const self = readFileSync('/proc/self/stat', 'utf8');
    const own = self
      .slice(self.lastIndexOf(')') + 2)
      .split(' ')
      .slice(11, 15)
      .map(Number);
    const byRole = { server: 0, mariadb: 0, redis: 0, load: own.reduce((a, b) => a + b, 0) };
    for (const p of readProcs()) {
      if (p.pgrp === serverGroup) byRole.server += p.ticks;
      else if (p.comm === 'mariadbd' || p.comm === 'mysqld') byRole.mariadb += p.ticks;
      else if (p.comm === 'redis-server' && isRedis(p.pid)) byRole.redis += p.ticks;
    }
    return { at: Date.now(), total: host.busy + host.idle, idle: host.idle, byRole };
  };

  return {
    /** serverGroup: the process group of the server under load. */
    start(serverGroup: number) {
      const first = sample(serverGroup);
      return {
        stop(): CpuShare {
          const last = sample(serverGroup);
          const cores = Math.max(
            1,
            Math.round((last.total - first.total) / (((last.at - first.at) / 1000) * ticksPerSecond)),
          );
          const seconds = (last.total - first.total) / cores / ticksPerSecond;
          const pct = (ticks: number) => Math.round((100 * ticks) / ticksPerSecond / Math.max(seconds, 1e-9));
          const server = pct(last.byRole.server - first.byRole.server);
          const mariadb = pct(last.byRole.mariadb - first.byRole.mariadb);
          const redis = pct(last.byRole.redis - first.byRole.redis);
          const load = pct(last.byRole.load - first.byRole.load);
          const idle = pct(last.idle - first.idle);
          const other = Math.max(0, cores * 100 - idle - server - mariadb - redis - load);
          const serverSeconds = (last.byRole.server - first.byRole.server) / ticksPerSecond;
          return { server, mariadb, redis, load, other, idle, cores, serverSeconds };
        },
      };
    },
  };
}
