import { describe, expect, it } from 'vitest';
import { embeddedDatabase } from '../../tests/support/harness.ts';
import { processedLog } from './dedupe.ts';

describe('processedLog', () => {
  it('answers each caller for its own id when many ask at once, and records each id once', async () => {
    const database = await embeddedDatabase();
    const log = processedLog(database.db, 'notify');
    const other = processedLog(database.db, 'release-seat');
    await Promise.all(['a', 'b', 'c'].map((id) => log.add(id, 1)));
    await other.add('z', 1);
    const ids = ['a', 'x', 'b', 'y', 'c', 'z', 'a'];
    expect(await Promise.all(ids.map((id) => log.has(id)))).toEqual([
      true,
      false,
      true,
      false,
      true,
      false,
      true,
    ]);
    // Recording again, twice in one batch, changes nothing and does not fail.
    await Promise.all([log.add('a', 2), log.add('a', 3), log.add('d', 2)]);
    const rows = await database.db
      .selectFrom('processed_events')
      .select(['consumer', 'event_id', 'processed_at'])
      .orderBy('consumer')
      .orderBy('event_id')
      .execute();
    expect(rows).toEqual([
      { consumer: 'notify', event_id: 'a', processed_at: 1 },
      { consumer: 'notify', event_id: 'b', processed_at: 1 },
      { consumer: 'notify', event_id: 'c', processed_at: 1 },
      { consumer: 'notify', event_id: 'd', processed_at: 2 },
      { consumer: 'release-seat', event_id: 'z', processed_at: 1 },
    ]);
    await database.close();
  });

  it('fails every caller of a batch the database refused', async () => {
    const database = await embeddedDatabase();
    const log = processedLog(database.db, 'notify');
    await database.db.schema.dropTable('processed_events').execute();
    const results = await Promise.allSettled([log.add('a', 1), log.add('b', 1), log.has('c')]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    await database.close();
  });
});
