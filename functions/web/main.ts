import { isEntryPoint, type Mount, serveFunctions } from '../../shared/serve.ts';
import { webRoutes } from './app.tsx';
import { clientScript } from './assets.ts';

export const mount: Mount = (rt) => webRoutes({ devAuth: rt.config.devAuth, script: clientScript() });

if (isEntryPoint(import.meta.url)) await serveFunctions({ name: 'web', mounts: [mount] });
