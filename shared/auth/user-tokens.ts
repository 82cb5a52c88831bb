import { createRemoteJWKSet, type JWTPayload, jwtVerify, SignJWT } from 'jose';
import { LRUCache } from 'lru-cache';
import type { AuthUser } from '../http/env.ts';
import { ok, type Result, refused } from '../result.ts';

export interface UserTokenOptions {
  secret?: string | undefined;
  jwksUrl?: string | undefined;
  issuer: string;
  audience: string;
}

export interface UserTokens {
  /** The token's user, or UNAUTHENTICATED (not genuine, expired, or without a usable subject). */
  verify(token: string): Promise<Result<AuthUser, 'UNAUTHENTICATED'>>;
  /** Only with a shared secret (dev tokens, tests); production identity providers sign their own. */
  sign(user: AuthUser, ttlSeconds?: number): Promise<string>;
}

const userIdPattern = /^[\w-]{1,64}$/;

const verifiedCacheSize = 20_000;

/**
 * The shared secret is imported once as a WebCrypto key (raw bytes would cost an import per call), and
 * tokens that passed verification are remembered, bounded, least recently used out first: a client sends the
 * same token request after request, and a jose verification is a large share of a request's CPU. A hit is a
 * byte-for-byte match of a token already verified with this key, and its expiry is checked again on every hit.
 */
export function createUserTokens(options: UserTokenOptions): UserTokens {
  const key = options.secret
    ? crypto.subtle.importKey(
        'raw',
        new TextEncoder().encode(options.secret),
        { name: 'HMAC', hash: 'SHA-256' },
        false,
        ['sign', 'verify'],
      )
    : undefined;
  key?.catch(() => undefined);
  // lru-cache rather than a Map trimmed by `keys().next()`, which walks V8's deleted entries (see queue-tokens).
  const verified = new LRUCache<string, { user: AuthUser; exp: number }>({ max: verifiedCacheSize });
  const jwks = options.jwksUrl ? createRemoteJWKSet(new URL(options.jwksUrl)) : undefined;
  if (!key && !jwks) throw new Error('user tokens need AUTH_JWT_SECRET or AUTH_JWKS_URL');
  const verifyOptions = {
    issuer: options.issuer,
    audience: options.audience,
    // An explicit allow-list: `alg: none` and algorithm confusion are refused by jose.
    algorithms: jwks ? ['RS256', 'ES256', 'EdDSA'] : ['HS256'],
  };

  return {
    async verify(token) {
      const hit = verified.get(token);
      if (hit) {
        if (hit.exp * 1000 > Date.now()) return ok(hit.user);
        verified.delete(token);
      }
      let payload: JWTPayload;
      try {
        payload = jwks
          ? (await jwtVerify(token, jwks, verifyOptions)).payload
          : (await jwtVerify(token, await key!, verifyOptions)).payload;
      } catch (error) {
        return refused('UNAUTHENTICATED', 'Bearer token is invalid or expired', { cause: error });
      }
      if (typeof payload.sub !== 'string' || !userIdPattern.test(payload.sub)) {
        return refused('UNAUTHENTICATED', 'Bearer token has no valid subject');
      }
      const user: AuthUser = { id: payload.sub, role: payload.role === 'admin' ? 'admin' : 'user' };
      if (typeof payload.exp === 'number') {
        verified.set(token, { user, exp: payload.exp });
      }
      return ok(user);
    },
    async sign(user, ttlSeconds = 24 * 3600) {
      if (!key) throw new Error('signing user tokens needs AUTH_JWT_SECRET');
      return new SignJWT({ role: user.role })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setSubject(user.id)
        .setIssuer(options.issuer)
        .setAudience(options.audience)
        .setIssuedAt()
        .setExpirationTime(`${ttlSeconds}s`)
        .sign(await key);
    },
  };
}
