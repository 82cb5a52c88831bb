import { describe, expect, it } from 'vitest';
import { DatabaseTimeoutError } from './bounded-pool.ts';
import { asDatabaseOutage } from './connect.ts';

/** Which driver errors mean "the database is not there" (503, retry) rather than a fault of ours (500). */
describe('asDatabaseOutage', () => {
  const closed = Object.assign(new Error("Can't add new command when connection is in closed state"), {
    fatal: true,
  });

  it('treats the code-less error of a rollback on a dead connection as an outage', () => {
    expect(asDatabaseOutage(closed)).toMatchObject({ status: 503, extra: { retryAfterSeconds: 2 } });
  });

  it('treats a timeout of the bounded pool and a wrapped connection loss as outages', () => {
    expect(asDatabaseOutage(new DatabaseTimeoutError('a database statement', 1000))?.status).toBe(503);
    const lost = Object.assign(new Error('Connection lost'), { code: 'PROTOCOL_CONNECTION_LOST' });
    expect(asDatabaseOutage(new Error('charge failed', { cause: lost }))?.status).toBe(503);
  });

  it('leaves other errors alone', () => {
    expect(asDatabaseOutage(new Error('bug'))).toBeNull();
    expect(asDatabaseOutage(Object.assign(new Error('dup'), { code: 'ER_DUP_ENTRY' }))).toBeNull();
    expect(asDatabaseOutage(null)).toBeNull();
  });
});
