import { catalogStoreFor } from '../../shared/catalog/catalog-store.ts';
import { queueAccessFor } from '../../shared/queue/for-runtime.ts';
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
  });

if (isEntryPoint(import.meta.url)) await serveFunctions({ name: 'list-seats', mounts: [mount] });
