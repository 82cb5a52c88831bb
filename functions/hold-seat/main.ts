import { shopHealthFor } from '../../shared/admission/for-runtime.ts';
import { queueAccessFor } from '../../shared/queue/for-runtime.ts';
import { reportSeatProcedures } from '../../shared/seats/readiness.ts';
import { seatStoreFor } from '../../shared/seats/seat-store.ts';
import { isEntryPoint, type Mount, serveFunctions } from '../../shared/serve.ts';
import { reservationRoutes } from './app.ts';

export const mount: Mount = (rt) => {
  reportSeatProcedures(rt);
  return reservationRoutes({
    seats: seatStoreFor(rt.database.db),
    clock: rt.clock,
    holdTtlMs: rt.config.HOLD_TTL_SECONDS * 1000,
    guard: rt.holdGuard,
    seatCache: rt.seatCache,
    onOutcome: (outcome) => rt.metrics.holds.inc({ outcome }),
    userTokens: rt.userTokens,
    rateLimiter: rt.rateLimiter,
    queueAccess: queueAccessFor(rt),
    concertOfSchedule: rt.concertOfSchedule,
    health: shopHealthFor(rt).recording,
  });
};

if (isEntryPoint(import.meta.url)) await serveFunctions({ name: 'hold-seat', mounts: [mount] });
