import { shopHealthFor } from '../../shared/admission/for-runtime.ts';
import { queueAccessFor } from '../../shared/queue/for-runtime.ts';
import { reportSeatProcedures } from '../../shared/seats/readiness.ts';
import { seatStoreFor } from '../../shared/seats/seat-store.ts';
import { isEntryPoint, type Mount, serveFunctions } from '../../shared/serve.ts';
import { paymentRoutes } from './app.ts';

export const mount: Mount = (rt) => {
  reportSeatProcedures(rt);
  return paymentRoutes({
    seats: seatStoreFor(rt.database.db),
    clock: rt.clock,
    seatCache: rt.seatCache,
    onOutcome: (outcome) => rt.metrics.payments.inc({ outcome }),
    userTokens: rt.userTokens,
    rateLimiter: rt.rateLimiter,
    queueAccess: queueAccessFor(rt),
    concertOfSchedule: rt.concertOfSchedule,
    health: shopHealthFor(rt).recording,
  });
};

if (isEntryPoint(import.meta.url)) await serveFunctions({ name: 'pay', mounts: [mount] });
