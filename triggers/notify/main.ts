import type { Runtime } from '../../shared/runtime.ts';
import { isEntryPoint, type Mount, serveFunctions } from '../../shared/serve.ts';
import { notifyRoutes } from './app.ts';
import type { NotifyDeps } from './notify.ts';

export const notifyDeps = (rt: Runtime): NotifyDeps => ({
  db: rt.database.db,
  clock: rt.clock,
  logger: rt.logger,
  webhookUrl: rt.config.NOTIFY_WEBHOOK_URL,
  webhookSecret: rt.config.NOTIFY_WEBHOOK_SECRET,
  timeoutMs: rt.config.NOTIFY_TIMEOUT_MS,
  onResult: (result) => rt.metrics.notifications.inc({ result }),
});

export const mount: Mount = (rt) => notifyRoutes(notifyDeps(rt));

if (isEntryPoint(import.meta.url)) await serveFunctions({ name: 'notify', mounts: [mount] });
