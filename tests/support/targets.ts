import { connectEmbedded, type Database } from '../../shared/db/connect.ts';
import { migrateToLatest } from '../../shared/db/migrate.ts';
import { freshMysqlDatabase } from './real-services.ts';

export interface DatabaseTarget {
  name: string;
  open(options?: { poolSize?: number }): Promise<{ database: Database; close(): Promise<void> }>;
}

/** The same suites run against each of these: the embedded adapter is held to the real one's contract. */
export const databaseTargets: DatabaseTarget[] = [
  {
    name: 'embedded SQLite',
    async open() {
      const database = await connectEmbedded(':memory:');
      await migrateToLatest(database.db);
      return { database, close: () => database.close() };
    },
  },
  {
    name: 'MariaDB',
    async open(options) {
      const fresh = await freshMysqlDatabase(options);
      return { database: fresh.database, close: fresh.drop };
    },
  },
];
