import type { Migration, MigrationProvider } from 'kysely';
import * as m0001 from './0001_initial.ts';
import * as m0002 from './0002_outbox_shards.ts';
import * as m0003 from './0003_hold_procedure.ts';
import * as m0004 from './0004_pay_procedure.ts';
import * as m0005 from './0005_queue_lines.ts';
import * as m0006 from './0006_seat_procedures.ts';
import * as m0007 from './0007_outbox_concert.ts';

/**
 * Numbered migrations, imported statically so each function bundles them into its single file (no
 * directory scan at cold start). Add a file `NNNN_name.ts` and list it here.
 */
const migrations: Record<string, Migration> = {
  '0001_initial': m0001,
  '0002_outbox_shards': m0002,
  '0003_hold_procedure': m0003,
  '0004_pay_procedure': m0004,
  '0005_queue_lines': m0005,
  '0006_seat_procedures': m0006,
  '0007_outbox_concert': m0007,
};

export const migrationProvider: MigrationProvider = {
  async getMigrations() {
    return migrations;
  },
};
