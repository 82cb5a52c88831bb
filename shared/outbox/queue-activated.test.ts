import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { embeddedDatabase, manualClock } from '../../tests/support/harness.ts';
import type { Database } from '../db/connect.ts';
import { recordActivations } from './queue-activated.ts';

let database: Database;

beforeEach(async () => {
  database = await embeddedDatabase();
});
afterEach(async () => {
  await database.close();
});

const rows = () =>
  database.db.selectFrom('outbox').select(['event_id', 'event_key', 'topic']).orderBy('event_id').execute();

describe('queue.activated outbox rows', () => {
  it('writes the admissions of one event-loop turn together, one row per user', async () => {
    const clock = manualClock();
    const hook = recordActivations(database.db, clock);
    const now = clock.now();
    await Promise.all([
      hook('1', ['a', 'b'], clock.now()),
      hook('1', ['c'], clock.now()),
      hook('2', ['a'], clock.now()),
    ]);
    expect(await rows()).toEqual(
      [
        ['1', 'a'],
        ['1', 'b'],
        ['1', 'c'],
        ['2', 'a'],
      ].map(([concert, user]) => ({
        event_id: `queue.activated:${concert}:${user}:${now}`,
        event_key: user,
        topic: 'queue.activated',
      })),
    );
  });

  it('writes a fact once however often it is announced, and later turns on their own', async () => {
    const clock = manualClock();
    const hook = recordActivations(database.db, clock);
    await Promise.all([hook('1', ['a'], clock.now()), hook('1', ['a'], clock.now())]);
    await hook('1', ['a'], clock.now());
    clock.advance(1000);
    await hook('1', ['a'], clock.now());
    expect(await rows()).toHaveLength(2);
  });

  it('splits a large admission into several inserts', async () => {
    const clock = manualClock();
    const hook = recordActivations(database.db, clock);
    const users = Array.from({ length: 1234 }, (_, i) => `u${i}`);
    await hook('1', users, clock.now());
    expect(await rows()).toHaveLength(1234);
  });
});
