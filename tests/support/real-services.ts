import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { inject } from 'vitest';
import { connectDatabase, type Database } from '../../shared/db/connect.ts';
import { migrateToLatest } from '../../shared/db/migrate.ts';

export function serviceUrls() {
  return inject('services');
}

export function uniqueSuffix(): string {
  return `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
}

/**
 * A fresh MariaDB/MySQL database for one test file, migrated to latest: tests are isolated by a new
 * database (or fresh ids), never by truncating shared tables.
 */
export async function freshMysqlDatabase(options: { poolSize?: number } = {}): Promise<{
  database: Database;
  url: string;
  drop(): Promise<void>;
}> {
  const base = new URL(serviceUrls().databaseUrl);
  const name = `concert_t${uniqueSuffix()}`;
  const { createConnection } = await import('mysql2/promise');
  const admin = await createConnection({ uri: base.toString() });
  await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
  const url = new URL(base);
  url.pathname = `/${name}`;
  const database = await connectDatabase({
    url: url.toString(),
    driver: 'mysql2',
    poolSize: options.poolSize ?? 10,
    connectTimeoutMs: 3000,
    dataDir: '/nonexistent',
  });
  await migrateToLatest(database.db);
  return {
    database,
    url: url.toString(),
    async drop() {
      await database.close();
      await admin.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await admin.end();
    },
  };
}

export function realRedis(): Redis {
  return new Redis(serviceUrls().redisUrl, { lazyConnect: false, maxRetriesPerRequest: 1 });
}
