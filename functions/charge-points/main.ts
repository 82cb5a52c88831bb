import { walletStoreFor } from '../../shared/points/wallet-store.ts';
import { isEntryPoint, type Mount, serveFunctions } from '../../shared/serve.ts';
import { pointsRoutes } from './app.ts';

export const mount: Mount = (rt) =>
  pointsRoutes({
    wallets: walletStoreFor(rt.database.db),
    clock: rt.clock,
    userTokens: rt.userTokens,
    rateLimiter: rt.rateLimiter,
  });

if (isEntryPoint(import.meta.url)) await serveFunctions({ name: 'charge-points', mounts: [mount] });
