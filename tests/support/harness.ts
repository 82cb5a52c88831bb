import { SignJWT } from 'jose';
import { pino } from 'pino';
import { createUserTokens } from '../../shared/auth/user-tokens.ts';
import type { Clock } from '../../shared/clock.ts';
import { connectEmbedded, type Database } from '../../shared/db/connect.ts';
import { migrateToLatest } from '../../shared/db/migrate.ts';
import type { HttpAppOptions } from '../../shared/http/create-http-app.ts';
import { createMetrics } from '../../shared/metrics.ts';

export const testSecret = 'test-secret-that-is-long-enough-0123456789';
export const tokenOptions = { issuer: 'concert-auth', audience: 'concert-api' };

export function testTokens() {
  return createUserTokens({ secret: testSecret, ...tokenOptions });
}

export async function bearer(
  userId: string,
  role: 'user' | 'admin' = 'user',
): Promise<Record<string, string>> {
  return { authorization: `Bearer ${await testTokens().sign({ id: userId, role })}` };
}

/** A clock the test moves by hand. */
export function manualClock(start = 1_800_000_000_000): Clock & { advance(ms: number): void } {
  let now = start;
  return {
    now: () => now,
    advance(ms) {
      now += ms;
    },
  };
}

export async function embeddedDatabase(): Promise<Database> {
  const database = await connectEmbedded(':memory:');
  await migrateToLatest(database.db);
  return database;
}

export function httpOptions(): Omit<HttpAppOptions, 'routes' | 'name'> {
  return { logger: pino({ level: 'silent' }), metrics: createMetrics(), maxBodyBytes: 65_536, readiness: [] };
}

/** Tokens a client could forge or replay, each of which must be refused. */
export async function badTokens(userId: string): Promise<Record<string, string>> {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const claims = { sub: userId, iss: tokenOptions.issuer, aud: tokenOptions.audience, exp: 4_000_000_000 };
  const other = new TextEncoder().encode('another-secret-that-is-long-enough-99999');
  const key = new TextEncoder().encode(testSecret);
  return {
    forged: await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(userId)
      .setIssuer(claims.iss)
      .setAudience(claims.aud)
      .setExpirationTime('1h')
      .sign(other),
    algNone: `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`,
    expired: await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(userId)
      .setIssuer(claims.iss)
      .setAudience(claims.aud)
      .setIssuedAt(1_000_000)
      .setExpirationTime(1_000_100)
      .sign(key),
    wrongAudience: await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(userId)
      .setIssuer(claims.iss)
      .setAudience('someone-else')
      .setExpirationTime('1h')
      .sign(key),
    garbage: 'not-a-jwt',
  };
}
