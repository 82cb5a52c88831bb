import type { Runtime } from '../../shared/runtime.ts';
import { seatStoreFor } from '../../shared/seats/seat-store.ts';
import { isEntryPoint, type Mount, serveFunctions } from '../../shared/serve.ts';
import { releaseSeatRoutes } from './app.ts';
import type { ReleaseDeps } from './release.ts';

export const releaseDeps = (rt: Runtime): ReleaseDeps => ({
  seats: seatStoreFor(rt.database.db),
  clock: rt.clock,
  seatCache: rt.seatCache,
  guard: rt.holdGuard,
});

export const mount: Mount = (rt) => releaseSeatRoutes(releaseDeps(rt));

if (isEntryPoint(import.meta.url)) await serveFunctions({ name: 'release-seat', mounts: [mount] });
