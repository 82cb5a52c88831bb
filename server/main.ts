import { serveFunctions } from '../shared/serve.ts';
import { allMounts, startAllInOne } from './all-functions.ts';

/**
 * Every function and trigger in one process: the default way to try the API (embedded adapters, no
 * servers needed) and a single-node deployment when DATABASE_URL, REDIS_URL and KAFKA_BROKERS are set.
 */
await serveFunctions({
  name: 'all-in-one',
  mounts: allMounts,
  onStart: startAllInOne,
  workers: true,
  banner: (url, runtime, processes) => [
    '',
    `  Concert reservation API on ${url}`,
    // Per service: any one URL set used to read as "real services" while the database stayed embedded.
    `  Database:   ${runtime.adapters.database}`,
    `  Redis:      ${runtime.adapters.redis}`,
    `  Events:     ${runtime.adapters.events}`,
    `  Processes:  ${processes}`,
    `  API docs:   ${url}/docs`,
    `  Browser:    ${url}/   (operator console: ${url}/admin)`,
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
