import { ConfigError } from '../../shared/config.ts';
import { deadLetterTopic, startDispatcher, urlTarget } from '../../shared/events/dispatcher.ts';
import { reportKafkaReadiness } from '../../shared/events/readiness.ts';
import { startScheduler } from '../../shared/events/scheduler.ts';
import { allTopics, ordering, subscriptions } from '../../shared/events/subscriptions.ts';
import type { Runtime } from '../../shared/runtime.ts';
import { isEntryPoint, serveFunctions } from '../../shared/serve.ts';

/** `name=url,name=url`: where each trigger of this deployment listens. */
export function parseTargets(text: string | undefined, key: string): Map<string, string> {
  const targets = new Map<string, string>();
  for (const part of (text ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const [name, url] = part.split('=', 2);
    if (!name || !url || !/^https?:\/\//.test(url))
      throw new ConfigError([`${key}: "${part}" is not name=http(s)://url`]);
    targets.set(name, url);
  }
  return targets;
}

/**
 * The local stand-in for Knative's KafkaSource and PingSource, as its own process (in the all-in-one server
 * the same parts run in process): consumes the topics and POSTs binary-mode CloudEvents to the triggers
 * named in DISPATCH_TARGETS, and pings those in SCHEDULE_TARGETS.
 */
export async function startStandaloneDispatcher(rt: Runtime): Promise<() => Promise<void>> {
  const delivery = parseTargets(rt.config.DISPATCH_TARGETS, 'DISPATCH_TARGETS');
  const pings = parseTargets(rt.config.SCHEDULE_TARGETS, 'SCHEDULE_TARGETS');
  reportKafkaReadiness(rt, 'unavailable');
  // Kafka down at start: serve /readyz (503) and join the groups when it is back, rather than exit.
  await rt.bus.ensureTopics([...allTopics, deadLetterTopic]).catch(() => undefined);
  const targets = [...delivery].map(([name, url]) => {
    const topics = subscriptions[name as keyof typeof subscriptions];
    if (!topics)
      throw new ConfigError([
        `DISPATCH_TARGETS: no subscription named ${name} (known: ${Object.keys(subscriptions).join(', ')})`,
      ]);
    return {
      name,
      topics: [...topics],
      deliver: urlTarget(url),
      ordering: ordering[name as keyof typeof ordering],
    };
  });
  const everyMs: Record<string, number> = {
    'expire-holds': rt.config.EXPIRE_HOLDS_INTERVAL_SECONDS * 1000,
    'admit-queue': rt.config.ADMIT_QUEUE_INTERVAL_MS,
    'outbox-relay': 60_000,
  };
  const stopDispatcher = await startDispatcher(
    {
      bus: rt.bus,
      logger: rt.logger,
      metrics: rt.metrics,
      maxAttempts: rt.config.DISPATCH_MAX_ATTEMPTS,
      backoffMs: rt.config.DISPATCH_BACKOFF_MS,
    },
    targets,
  );
  const stopScheduler = startScheduler(
    [...pings].map(([name, url]) => ({ name, everyMs: everyMs[name] ?? 60_000, deliver: urlTarget(url) })),
    rt.logger,
  );
  rt.logger.info({ deliveries: [...delivery.keys()], pings: [...pings.keys()] }, 'dispatcher started');
  return async () => {
    await stopScheduler();
    await stopDispatcher();
  };
}

if (isEntryPoint(import.meta.url)) {
  await serveFunctions({ name: 'dispatcher', mounts: [], onStart: startStandaloneDispatcher });
}
