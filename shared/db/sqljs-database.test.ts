import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { credit, readBalance } from '../points/wallet-store.ts';
import { connectEmbedded } from './connect.ts';
import { appliedMigrations, migrateToLatest } from './migrate.ts';

describe('embedded database file', () => {
  it('keeps committed data across a restart, and not a rolled-back transaction', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'concert-')), 'db.sqlite');
    const first = await connectEmbedded(file);
    await migrateToLatest(first.db);
    await first.db
      .transaction()
      .execute((trx) => credit(trx, { userId: 'u', amount: 70, type: 'CHARGE', now: 1 }));
    await first.db
      .transaction()
      .execute(async (trx) => {
        await credit(trx, { userId: 'u', amount: 5, type: 'CHARGE', now: 2 });
        throw new Error('abort');
      })
      .catch(() => undefined);
    await first.close();

    const second = await connectEmbedded(file);
    expect(await appliedMigrations(second.db)).toEqual([
      '0001_initial',
      '0002_outbox_shards',
      '0003_hold_procedure',
      '0004_pay_procedure',
      '0005_queue_lines',
      '0006_seat_procedures',
      '0007_outbox_concert',
    ]);
    expect(await readBalance(second.db, 'u')).toBe(70);
    await second.close();
  });
});
