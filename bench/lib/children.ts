import type { ChildProcess } from 'node:child_process';

/**
 * Every process the bench starts, so none outlives it: on exit (normal, error or Ctrl-C) each one still
 * running is killed by its pid — the server by its process group, which holds its cluster workers.
 */
const live = new Map<ChildProcess, { group: boolean }>();

export function track<C extends ChildProcess>(child: C, options: { group?: boolean } = {}): C {
  live.set(child, { group: options.group ?? false });
  child.once('exit', () => live.delete(child));
  return child;
}

/** Kills what still runs; `groups: false` spares process groups (the server, which stops gracefully). */
export function killTracked(signal: NodeJS.Signals, options: { groups?: boolean } = {}): void {
  for (const [child, { group }] of live) {
    if (child.pid === undefined || (group && options.groups === false)) continue;
    try {
      process.kill(group ? -child.pid : child.pid, signal);
    } catch {
      // already gone
    }
  }
}

process.on('exit', () => killTracked('SIGKILL'));
