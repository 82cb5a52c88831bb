import { startTestServer, type TestServer } from './embedded-server.ts';
import { freshMysqlDatabase, serviceUrls, uniqueSuffix } from './real-services.ts';

export interface ServerTarget {
  name: string;
  /** Real MariaDB and Redis: TTLs kept by Redis run on its own clock, not on the test's manual clock. */
  real: boolean;
  /**
   * A place to start all-in-one servers in process: every server of one `open()` shares one database (a
   * fresh one on MariaDB) and gets Redis keys of its own; `close()` closes them all and drops the database.
   */
  open(): Promise<{ start(env?: Record<string, string>): Promise<TestServer>; close(): Promise<void> }>;
}

/** HTTP contract suites run the same cases on each: the embedded adapters, and real MariaDB + Redis. */
export const serverTargets: ServerTarget[] = [
  {
    name: 'embedded adapters',
    real: false,
    async open() {
      const servers: TestServer[] = [];
      return {
        async start(env = {}) {
          const server = await startTestServer(env);
          servers.push(server);
          return server;
        },
        async close() {
          await Promise.all(servers.map((s) => s.close()));
        },
      };
    },
  },
  {
    name: 'MariaDB + Redis',
    real: true,
    async open() {
      const fresh = await freshMysqlDatabase({ poolSize: 2 });
      const servers: TestServer[] = [];
      return {
        async start(env = {}) {
          const server = await startTestServer({
            DATABASE_URL: fresh.url,
            REDIS_URL: serviceUrls().redisUrl,
            REDIS_KEY_PREFIX: `http-${uniqueSuffix()}:`,
            ...env,
          });
          servers.push(server);
          return server;
        },
        async close() {
          await Promise.all(servers.map((s) => s.close()));
          await fresh.drop();
        },
      };
    },
  },
];
