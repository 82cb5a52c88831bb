import type { OpenAPIHono } from '@hono/zod-openapi';
import { appTarget, type Deliver, deadLetterTopic, startDispatcher } from '../shared/events/dispatcher.ts';
import { reportKafkaReadiness } from '../shared/events/readiness.ts';
import { startScheduler } from '../shared/events/scheduler.ts';
import { allTopics, ordering, subscriptions } from '../shared/events/subscriptions.ts';
import { createHttpApp } from '../shared/http/create-http-app.ts';
import type { AppEnv } from '../shared/http/env.ts';
import type { Runtime } from '../shared/runtime.ts';
import { outboxActivations, startAdmitScheduler } from '../triggers/admit-queue/main.ts';
import { expireHoldsRoutes } from '../triggers/expire-holds/app.ts';
import { expireDeps, watchLapsedBacklog } from '../triggers/expire-holds/main.ts';
import { notifyRoutes } from '../triggers/notify/app.ts';
import { notifyDeps } from '../triggers/notify/main.ts';
import { startRelay } from '../triggers/outbox-relay/main.ts';
import { outboxBacklog } from '../triggers/outbox-relay/relay.ts';
import { releaseSeatRoutes } from '../triggers/release-seat/app.ts';
import { releaseDeps } from '../triggers/release-seat/main.ts';

/**
 * Everything after a request, inside the all-in-one server: the outbox relay loop, each trigger as its
 * own in-process Hono app, the dispatcher delivering bus records to them as binary-mode CloudEvents (as
 * KafkaSource would), and the scheduler posting PingSource events. The same trigger apps run alone in
 * Knative; only the delivery differs.
 */
export async function startEvents(rt: Runtime): Promise<() => Promise<void>> {
  reportKafkaReadiness(rt, 'degraded');
  // Kafka down is no reason not to serve: the bus creates the topics when it next reaches Kafka.
  await rt.bus.ensureTopics([...allTopics, deadLetterTopic]).catch(() => undefined);
  const inProcess = (name: string, routes: OpenAPIHono<AppEnv>): Deliver => {
    return appTarget(
      createHttpApp({
        name,
        logger: rt.logger,
        metrics: rt.metrics,
        maxBodyBytes: rt.config.MAX_BODY_BYTES,
        readiness: [],
        routes: [routes],
      }),
    );
  };

  const stopRelay = startRelay(rt);
  const stopDispatcher = await startDispatcher(
    {
      bus: rt.bus,
      logger: rt.logger,
      metrics: rt.metrics,
      maxAttempts: rt.config.DISPATCH_MAX_ATTEMPTS,
      backoffMs: rt.config.DISPATCH_BACKOFF_MS,
    },
    [
      {
        name: 'release-seat',
        topics: [...subscriptions['release-seat']],
        deliver: inProcess('release-seat', releaseSeatRoutes(releaseDeps(rt))),
        ordering: ordering['release-seat'],
      },
      {
        name: 'notify',
        topics: [...subscriptions.notify],
        deliver: inProcess('notify', notifyRoutes(notifyDeps(rt))),
        ordering: ordering.notify,
      },
    ],
  );
  watchLapsedBacklog(rt);
  const stopScheduler = startScheduler(
    [
      {
        name: 'expire-holds',
        everyMs: rt.config.EXPIRE_HOLDS_INTERVAL_SECONDS * 1000,
        deliver: inProcess('expire-holds', expireHoldsRoutes(expireDeps(rt))),
      },
    ],
    rt.logger,
  );
  const stopAdmit = startAdmitScheduler(rt, {
    intervalMs: rt.config.ADMIT_QUEUE_INTERVAL_MS,
    ...outboxActivations,
  });
  const stopGauges = startEventGauges(rt);

  return async () => {
    stopGauges();
    await stopAdmit();
    await stopScheduler();
    await stopDispatcher();
    await stopRelay();
  };
}

function startEventGauges(rt: Runtime): () => void {
  const groups = Object.entries(subscriptions).map(([name, topics]) => ({
    group: `dispatcher-${name}`,
    topics: [...topics],
  }));
  const timer = setInterval(async () => {
    try {
      const backlog = await outboxBacklog(rt.database.db, rt.clock.now());
      rt.metrics.outboxBacklog.set(backlog.pending);
      rt.metrics.outboxOldestAge.set(backlog.oldestAgeSeconds);
      for (const { group, topics } of groups) {
        for (const row of await rt.bus.lag(group, topics)) {
          rt.metrics.consumerLag.set({ group, topic: row.topic, partition: String(row.partition) }, row.lag);
        }
      }
    } catch {
      // A dependency is down: the gauges keep their last values and /readyz reports the outage.
    }
  }, 5000);
  timer.unref();
  return () => clearInterval(timer);
}
