import { catalogStoreFor } from '../../shared/catalog/catalog-store.ts';
import { recentEvents } from '../../shared/outbox/recent-events.ts';
import { queueAccessFor } from '../../shared/queue/for-runtime.ts';
import { seatStoreFor } from '../../shared/seats/seat-store.ts';
import { isEntryPoint, type Mount, serveFunctions } from '../../shared/serve.ts';
import { catalogRoutes } from './app.ts';

const seatCacheTtlMs = 300_000;

export const mount: Mount = (rt) =>
  catalogRoutes({
    catalog: catalogStoreFor({ primary: rt.database.db, read: rt.database.read }),
    clock: rt.clock,
    seatCache: rt.seatCache,
    seatCacheTtlMs,
    userTokens: rt.userTokens,
    rateLimiter: rt.rateLimiter,
    queueAccess: queueAccessFor(rt),
    concertOfSchedule: rt.concertOfSchedule,
    // Console reads: a replica a moment behind is fine, and keeps the polling off the primary.
    sales: seatStoreFor(rt.database.read),
    recentEvents: (concertId, limit) => recentEvents(rt.database.read, concertId, limit),
  });

if (isEntryPoint(import.meta.url)) await serveFunctions({ name: 'list-seats', mounts: [mount] });
