import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import { connectDatabase } from './connect.ts';
import { migrateToLatest } from './migrate.ts';

/**
 * `node index.mjs --migrate` of any function image: applies the pending migrations and exits, so the
 * cluster migrates once in a Job before the rollout instead of in every starting pod. Returns the exit code.
 */
export async function runMigrations(config: Config, logger: Logger): Promise<number> {
  let database: Awaited<ReturnType<typeof connectDatabase>> | undefined;
  try {
    database = await connectDatabase({
      url: config.DATABASE_URL,
      driver: config.DB_DRIVER,
      poolSize: 1,
      connectTimeoutMs: config.DB_CONNECT_TIMEOUT_MS,
      queryTimeoutMs: config.DB_QUERY_TIMEOUT_MS,
      dataDir: config.DATA_DIR,
      processName: 'migrate',
    });
    const { applied } = await migrateToLatest(database.db);
    logger.info(
      { applied },
      applied.length > 0 ? 'database migrations applied' : 'database already up to date',
    );
    return 0;
  } catch (error) {
    logger.fatal({ err: error instanceof Error ? error.message : String(error) }, 'migrations failed');
    return 1;
  } finally {
    await database?.close().catch(() => undefined);
  }
}
