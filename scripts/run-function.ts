import { readdirSync } from 'node:fs';
import type { Mount } from '../shared/serve.ts';
import { serveFunctions } from '../shared/serve.ts';

/** `npm run function -- <name>`: serves one function alone on $PORT, as its Knative container does. */
const name = process.argv[2];
const root = new URL('../', import.meta.url);
const available = ['functions', 'triggers'].flatMap((dir) => {
  try {
    return readdirSync(new URL(`${dir}/`, root), { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => `${dir}/${d.name}`);
  } catch {
    return [];
  }
});
const match = available.find((path) => path.endsWith(`/${name}`));
if (!name || !match) {
  console.error(
    `usage: npm run function -- <name>\navailable: ${available.map((p) => p.split('/')[1]).join(', ')}`,
  );
  process.exit(64);
}
const module = (await import(new URL(`${match}/main.ts`, root).href)) as {
  mount?: Mount;
  startStandaloneRelay?: NonNullable<Parameters<typeof serveFunctions>[0]['onStart']>;
  startStandaloneDispatcher?: NonNullable<Parameters<typeof serveFunctions>[0]['onStart']>;
};
// Background work a function's own entry starts (the relay loop, the dispatcher) starts here too.
const onStart = module.startStandaloneDispatcher ?? module.startStandaloneRelay;
await serveFunctions({ name, mounts: module.mount ? [module.mount] : [], ...(onStart ? { onStart } : {}) });
