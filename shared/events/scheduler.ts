import type { Logger } from '../logger.ts';
import { pingEvent, toHttpBinary } from './cloudevents.ts';
import type { Deliver } from './dispatcher.ts';

export interface PingJob {
  name: string;
  everyMs: number;
  deliver: Deliver;
}

/**
 * The local stand-in for PingSource: posts a PingSource-shaped CloudEvent to each job on its interval,
 * never overlapping a job with itself. (PingSource's cron is minute-granular; locally the interval is
 * finer, which only makes the backstops run more often.)
 */
export function startScheduler(
  jobs: PingJob[],
  logger: Logger,
  now: () => number = Date.now,
): () => Promise<void> {
  const running = new Map<string, Promise<void>>();
  const timers = jobs.map((job) => {
    const timer = setInterval(() => {
      if (running.has(job.name)) return;
      const run = job
        .deliver(toHttpBinary(pingEvent(`/local/pingsources/${job.name}`, now())))
        .then((answer) => {
          if (answer.status < 200 || answer.status >= 300)
            logger.warn(
              { job: job.name, status: answer.status, body: (answer.body ?? '').slice(0, 200) },
              'scheduled run failed',
            );
        })
        .catch((error: unknown) => logger.warn({ job: job.name, err: String(error) }, 'scheduled run failed'))
        .finally(() => running.delete(job.name));
      running.set(job.name, run);
    }, job.everyMs);
    timer.unref();
    return timer;
  });
  return async () => {
    for (const t of timers) clearInterval(t);
    await Promise.all(running.values());
  };
}
