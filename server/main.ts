import { mount as chargePoints } from '../functions/charge-points/main.ts';
import { seedDemoConcert } from '../shared/catalog/demo-seed.ts';
import { serveFunctions } from '../shared/serve.ts';

/**
 * Every function and trigger in one process: the default way to try the API (embedded adapters, no
 * servers needed) and a single-node deployment when DATABASE_URL, REDIS_URL and KAFKA_BROKERS are set.
 */
await serveFunctions({
  name: 'all-in-one',
  mounts: [chargePoints],
  async onStart(runtime) {
    if (runtime.config.seedDemo) {
      const id = await seedDemoConcert(runtime.database.db, runtime.clock.now());
      if (id) runtime.logger.info({ concertId: id }, 'demo concert seeded');
    }
    return undefined;
  },
  banner: (url, runtime) => [
    '',
    `  Concert reservation API on ${url}  (${runtime.config.embedded ? `embedded adapters, data in ${runtime.config.DATA_DIR}` : 'real services'})`,
    `  API docs:   ${url}/docs`,
    ...(runtime.config.devAuth
      ? [
          `  Dev token:  curl -s -X POST ${url}/v1/dev/tokens -H 'content-type: application/json' -d '{"userId":"42"}'`,
          '              or: npm run token -- 42',
          `  Try it:     curl -s ${url}/v1/points -H "Authorization: Bearer $TOKEN"`,
        ]
      : ['  Dev tokens are off (DEV_AUTH=0): use tokens from your identity provider.']),
    '',
  ],
});
