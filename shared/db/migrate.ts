import { type Kysely, Migrator } from 'kysely';
import { migrationProvider } from './migrations/index.ts';
import type { DB } from './schema.ts';

// Migrations are written against no fixed schema; the application's typed handle is narrowed away here.
const untyped = (db: Kysely<DB>) => db as unknown as Kysely<unknown>;

export interface MigrationOutcome {
  applied: string[];
}

/** Brings the schema up to date. Kysely holds a database lock meanwhile, so replicas may start together. */
export async function migrateToLatest(db: Kysely<DB>): Promise<MigrationOutcome> {
  const migrator = new Migrator({ db: untyped(db), provider: migrationProvider });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`migration ${failed} failed: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
  return { applied: (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName) };
}

export async function appliedMigrations(db: Kysely<DB>): Promise<string[]> {
  const migrator = new Migrator({ db: untyped(db), provider: migrationProvider });
  const all = await migrator.getMigrations();
  return all.filter((m) => m.executedAt !== undefined).map((m) => m.name);
}
