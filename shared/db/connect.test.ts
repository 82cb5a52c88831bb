import { describe, expect, it } from 'vitest';
import { DatabaseTimeoutError } from './bounded-pool.ts';
import { asDatabaseOutage, certificateAuthorities, mysqlTls } from './connect.ts';

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

describe('TLS options for mysql2', () => {
  it('turns ssl-mode into a TLS setting that checks the chain, and takes it out of the URL', () => {
    const url = 'mysql://u:p@proxy.example:3306/concert?ssl-mode=VERIFY_IDENTITY&charset=utf8mb4';
    expect(mysqlTls(url, 'PEM')).toEqual({
      uri: 'mysql://u:p@proxy.example:3306/concert?charset=utf8mb4',
      ssl: { rejectUnauthorized: true, verifyIdentity: true, ca: 'PEM' },
    });
    expect(mysqlTls(url.replace('IDENTITY', 'CA'), undefined).ssl).toEqual({
      rejectUnauthorized: true,
      verifyIdentity: false,
    });
    expect(mysqlTls('mysql://u:p@db/c', undefined)).toEqual({ uri: 'mysql://u:p@db/c' });
  });

  it('knows the RDS and RDS Proxy CAs by name', async () => {
    const bundle = await certificateAuthorities('aws-rds');
    expect(Array.isArray(bundle) && bundle.length).toBeGreaterThan(1);
    expect(await certificateAuthorities(undefined)).toBeUndefined();
  });
});
