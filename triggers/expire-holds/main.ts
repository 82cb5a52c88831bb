import type { Runtime } from '../../shared/runtime.ts';
import { isEntryPoint, type Mount, serveFunctions } from '../../shared/serve.ts';
import { expireHoldsRoutes } from './app.ts';
import type { ExpireDeps } from './expire.ts';

export const expireDeps = (rt: Runtime): ExpireDeps => ({
  db: rt.database.db,
  clock: rt.clock,
  seatCache: rt.seatCache,
});

export const mount: Mount = (rt) => expireHoldsRoutes(expireDeps(rt));

if (isEntryPoint(import.meta.url)) await serveFunctions({ name: 'expire-holds', mounts: [mount] });
