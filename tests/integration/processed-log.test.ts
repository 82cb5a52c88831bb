import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../shared/db/connect.ts';
import { processedLog } from '../../shared/events/dedupe.ts';
import { freshMysqlDatabase } from '../support/real-services.ts';

/** The batched dedupe of notify on MariaDB: one lookup and one insert for many concurrent deliveries. */
describe('processedLog on MariaDB', () => {
  let database: Database;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    ({ database, drop } = await freshMysqlDatabase());
  });
  afterAll(() => drop());

  it('records ids once under concurrent batches that repeat them, and answers each lookup for its own id', async () => {
    // Two notify processes (each batches its own deliveries), the same ids reaching both at once, in
    // different orders: their multi-row inserts overlap and must neither deadlock nor lose a row.
    const pods = [processedLog(database.db, 'notify'), processedLog(database.db, 'notify')];
    const log = pods[0]!;
    const ids = Array.from({ length: 1200 }, (_, i) => `payment.completed:${i % 700}`);
    await Promise.all(
      [0, 1, 2, 3].map((wave) =>
        Promise.all((wave % 2 ? [...ids].reverse() : ids).map((id) => pods[wave % 2]!.add(id, wave))),
      ),
    );
    const rows = await database.db
      .selectFrom('processed_events')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('consumer', '=', 'notify')
      .executeTakeFirstOrThrow();
    expect(Number(rows.n)).toBe(700);
    const asked = ['payment.completed:0', 'payment.completed:699', 'payment.completed:700', 'other'];
    expect(await Promise.all(asked.map((id) => log.has(id)))).toEqual([true, true, false, false]);
    expect(await processedLog(database.db, 'release-seat').has('payment.completed:0')).toBe(false);
  });

  it('refuses an id the column cannot hold instead of storing it cut short', async () => {
    const log = processedLog(database.db, 'notify');
    await expect(log.add(`x:${'9'.repeat(80)}`, 1)).rejects.toThrow();
    expect(await log.has(`x:${'9'.repeat(62)}`)).toBe(false);
  });
});
