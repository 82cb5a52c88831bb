import { createHmac } from 'node:crypto';
import { jwtVerify, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { AppError } from '../errors.ts';
import { orThrow, type Result } from '../result.ts';
import { createQueueTokens, queueAudience } from './queue-tokens.ts';

const secret = 'queue-secret-that-is-long-enough-0123456789';
const tokens = createQueueTokens({ secret });
const now = 1_800_000_000_000;
const key = new TextEncoder().encode(secret);
// The verifiers' refusals, thrown as the HTTP edge would, keep these checks as plain as the values.
const edge = <T>(result: Promise<Result<T>>) => result.then(orThrow);
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

async function codeOf(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (error) {
    return error instanceof AppError ? error.code : String(error);
  }
  return 'accepted';
}

describe('queue tokens', () => {
  it("carries the line's incarnation and the issue time, through a fresh verifier as from the cache", async () => {
    const at = now + 1234;
    const queueToken = await tokens.issueQueueToken(
      { userId: 'u1', concertId: '7', seq: 5, epoch: 'e1' },
      at,
    );
    const access = await tokens.issueAccessToken(
      { userId: 'u1', concertId: '7', activeUntil: now + 600_000, epoch: 'e1' },
      at,
    );
    const fresh = createQueueTokens({ secret, verifiedCacheSize: 0 });
    for (const verifier of [tokens, fresh]) {
      expect(await edge(verifier.verifyQueueToken(queueToken, at))).toMatchObject({
        epoch: 'e1',
        issuedAt: now + 1000,
      });
      expect(await edge(verifier.verifyAccessToken(access, at))).toMatchObject({
        epoch: 'e1',
        issuedAt: now + 1000,
      });
    }
    // A token without an incarnation (signed before tokens carried one) can never be restored.
    const plain = await fresh.issueQueueToken({ userId: 'u1', concertId: '7', seq: 5 }, at);
    expect((await edge(fresh.verifyQueueToken(plain, at))).epoch).toBe('');
    // The same place in another incarnation is another token.
    const again = await tokens.issueQueueToken({ userId: 'u1', concertId: '7', seq: 5, epoch: 'e2' }, at);
    expect(again).not.toBe(queueToken);
  });

  it('round-trips a queue token and an access token', async () => {
    const queueToken = await tokens.issueQueueToken({ userId: 'u1', concertId: '7', seq: 42 }, now);
    expect(await edge(tokens.verifyQueueToken(queueToken, now + 1000))).toMatchObject({
      userId: 'u1',
      concertId: '7',
      seq: 42,
    });
    const access = await tokens.issueAccessToken(
      { userId: 'u1', concertId: '7', activeUntil: now + 600_500 },
      now,
    );
    expect(await edge(tokens.verifyAccessToken(access, now))).toMatchObject({
      userId: 'u1',
      concertId: '7',
      expiresAt: now + 601_000,
      expired: false,
    });
  });

  it('signs one token per grant, each grant with its own jti', async () => {
    const ticket = { userId: 'u', concertId: '1', seq: 1 };
    const first = await tokens.issueQueueToken(ticket, now);
    expect(await tokens.issueQueueToken(ticket, now + 60_000)).toBe(first);
    const a = await edge(tokens.verifyQueueToken(first, now));
    const b = await edge(
      tokens.verifyQueueToken(await tokens.issueQueueToken({ ...ticket, seq: 2 }, now), now),
    );
    expect(a).toMatchObject(ticket);
    expect(a.jti).not.toBe(b.jti);
    // Another process (no shared memory) verifies it the full way and reads the same jti.
    const elsewhere = createQueueTokens({ secret, verifiedCacheSize: 0 });
    expect((await edge(elsewhere.verifyQueueToken(first, now))).jti).toBe(a.jti);
  });

  it('reuses a queue token only in the first half of its life, so a re-entry leaves with a long one', async () => {
    const short = createQueueTokens({ secret, queueTokenTtlSeconds: 100 });
    const ticket = { userId: 'u', concertId: '1', seq: 1 };
    const first = await short.issueQueueToken(ticket, now);
    const later = await short.issueQueueToken(ticket, now + 200_000);
    expect(later).not.toBe(first);
    await expect(edge(short.verifyQueueToken(later, now + 200_000 + 49_000))).resolves.toMatchObject(ticket);
  });

  it('hands the same access token to every poll of one activation, a new one for the next', async () => {
    const grant = { userId: 'u1', concertId: '7', activeUntil: now + 600_000 };
    const first = await tokens.issueAccessToken(grant, now);
    expect(await tokens.issueAccessToken(grant, now + 5_000)).toBe(first);
    expect(await tokens.issueAccessToken({ ...grant, activeUntil: now + 900_000 }, now)).not.toBe(first);
  });

  it('refuses forged, alg none, wrong audience, wrong issuer and expired queue tokens', async () => {
    const claims = {
      sub: 'u1',
      cid: '7',
      seq: 1,
      typ: 'queue',
      iss: 'concert-queue',
      aud: queueAudience,
      jti: 'j',
    };
    const sign = (payload: Record<string, unknown>, k = key) =>
      new SignJWT(payload)
        .setProtectedHeader({ alg: 'HS256' })
        .setExpirationTime(now / 1000 + 3600)
        .sign(k);
    const other = new TextEncoder().encode('another-secret-that-is-long-enough-99999');
    const cases = {
      forged: await sign(claims, other),
      algNone: `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ ...claims, exp: now / 1000 + 3600 })}.`,
      wrongAudience: await sign({ ...claims, aud: 'concert-api' }),
      wrongIssuer: await sign({ ...claims, iss: 'someone' }),
      expired: await tokens.issueQueueToken({ userId: 'u1', concertId: '7', seq: 1 }, now - 25 * 3600 * 1000),
      accessTokenAsQueueToken: await tokens.issueAccessToken(
        { userId: 'u1', concertId: '7', activeUntil: now + 1e6 },
        now,
      ),
      badConcertId: await sign({ ...claims, cid: '../7' }),
      garbage: 'not-a-jwt',
    };
    for (const [kind, token] of Object.entries(cases)) {
      expect(`${kind}: ${await codeOf(edge(tokens.verifyQueueToken(token, now)))}`).toBe(
        `${kind}: QUEUE_TOKEN_INVALID`,
      );
    }
    expect(await codeOf(edge(tokens.verifyQueueToken(await sign(claims), now)))).toBe('accepted');
  });

  it('reports a genuine but expired access token as expired, and refuses a queue token as access', async () => {
    const access = await tokens.issueAccessToken(
      { userId: 'u1', concertId: '7', activeUntil: now + 10_000 },
      now,
    );
    expect((await edge(tokens.verifyAccessToken(access, now + 10_000))).expired).toBe(true);
    const queueToken = await tokens.issueQueueToken({ userId: 'u1', concertId: '7', seq: 1 }, now);
    expect(await codeOf(edge(tokens.verifyAccessToken(queueToken, now)))).toBe('QUEUE_TOKEN_INVALID');
    const forged = await createQueueTokens({ secret: `${secret}-other` }).issueAccessToken(
      { userId: 'u1', concertId: '7', activeUntil: now - 1 },
      now - 1000,
    );
    expect(await codeOf(edge(tokens.verifyAccessToken(forged, now)))).toBe('QUEUE_TOKEN_INVALID');
  });

  it('remembers verified tokens but still expires them, and verifies anything else in full', async () => {
    const small = createQueueTokens({ secret, verifiedCacheSize: 2 });
    const queueToken = await small.issueQueueToken({ userId: 'u1', concertId: '7', seq: 3 }, now);
    expect((await edge(small.verifyQueueToken(queueToken, now))).seq).toBe(3);
    expect((await edge(small.verifyQueueToken(queueToken, now + 1000))).seq).toBe(3);
    expect(await codeOf(edge(small.verifyQueueToken(queueToken, now + 25 * 3600_000)))).toBe(
      'QUEUE_TOKEN_INVALID',
    );
    const tampered = `${queueToken.slice(0, -3)}abc`;
    expect(await codeOf(edge(small.verifyQueueToken(tampered, now)))).toBe('QUEUE_TOKEN_INVALID');
    expect(await codeOf(edge(small.verifyAccessToken(queueToken, now)))).toBe('QUEUE_TOKEN_INVALID');

    const access = await small.issueAccessToken(
      { userId: 'u1', concertId: '7', activeUntil: now + 10_000 },
      now,
    );
    expect((await edge(small.verifyAccessToken(access, now))).expired).toBe(false);
    expect((await edge(small.verifyAccessToken(access, now + 10_000))).expired).toBe(true);
    expect(await codeOf(edge(small.verifyQueueToken(access, now)))).toBe('QUEUE_TOKEN_INVALID');
    for (let seq = 0; seq < 5; seq++) {
      const t = await small.issueQueueToken({ userId: 'u2', concertId: '7', seq }, now);
      expect((await edge(small.verifyQueueToken(t, now))).seq).toBe(seq);
    }
    expect((await edge(small.verifyQueueToken(queueToken, now))).seq).toBe(3); // evicted: verified in full again
  });
  it("signs JWTs that jose verifies, and keeps jose's rules for the headers and claims it refuses", async () => {
    const queueToken = await tokens.issueQueueToken(
      { userId: 'u9', concertId: '7', seq: 9, epoch: 'e' },
      now,
    );
    const { payload, protectedHeader } = await jwtVerify(queueToken, key, {
      issuer: 'concert-queue',
      audience: queueAudience,
      algorithms: ['HS256'],
      currentDate: new Date(now),
    });
    expect(protectedHeader).toEqual({ alg: 'HS256', typ: 'JWT' });
    expect(payload).toMatchObject({ sub: 'u9', cid: '7', seq: 9, ep: 'e', typ: 'queue', iat: now / 1000 });

    const claims = { sub: 'u1', cid: '7', seq: 1, typ: 'queue', iss: 'concert-queue', jti: 'j' };
    const exp = now / 1000 + 3600;
    // Signed by hand: jose will not sign every header these cases need.
    const signWith = async (header: Record<string, unknown>, body: Record<string, unknown>) => {
      const input = `${b64(header)}.${b64(body)}`;
      const hash = header.alg === 'HS512' ? 'sha512' : 'sha256';
      return `${input}.${createHmac(hash, key).update(input).digest('base64url')}`;
    };
    const fresh = createQueueTokens({ secret, verifiedCacheSize: 0 });
    const verdict = async (token: string) => codeOf(edge(fresh.verifyQueueToken(token, now)));
    const good = await signWith({ alg: 'HS256' }, { ...claims, aud: queueAudience, exp });
    expect(await verdict(good)).toBe('accepted');
    expect(
      await verdict(await signWith({ alg: 'HS256' }, { ...claims, aud: ['x', queueAudience], exp })),
    ).toBe('accepted');
    const [h, p, sig] = good.split('.') as [string, string, string];
    // The last base64url character of a 32-byte signature carries 2 spare bits: flipping them must not pass.
    const last = sig.at(-1)!;
    const sibling = 'AEIMQUYcgkosw048'.includes(last) ? String.fromCharCode(last.charCodeAt(0) + 1) : last;
    const refusedTokens = {
      hs512: await signWith({ alg: 'HS512' }, { ...claims, aud: queueAudience, exp }),
      crit: await signWith({ alg: 'HS256', crit: ['x'], x: 1 }, { ...claims, aud: queueAudience, exp }),
      noJti: await signWith({ alg: 'HS256' }, { ...claims, jti: undefined, aud: queueAudience, exp }),
      noExp: await signWith({ alg: 'HS256' }, { ...claims, aud: queueAudience }),
      textIat: await signWith({ alg: 'HS256' }, { ...claims, aud: queueAudience, exp, iat: 'x' }),
      notYet: await signWith({ alg: 'HS256' }, { ...claims, aud: queueAudience, exp, nbf: exp - 1 }),
      otherAudiences: await signWith({ alg: 'HS256' }, { ...claims, aud: ['x', 'y'], exp }),
      spareBits: sibling === last ? 'not.a.jwt' : `${h}.${p}.${sig.slice(0, -1)}${sibling}`,
      fourParts: `${good}.x`,
      payloadSwapped: `${h}.${Buffer.from('[]').toString('base64url')}.${sig}`,
    };
    for (const [kind, token] of Object.entries(refusedTokens)) {
      expect(`${kind}: ${await verdict(token)}`).toBe(`${kind}: QUEUE_TOKEN_INVALID`);
    }
  });
});
