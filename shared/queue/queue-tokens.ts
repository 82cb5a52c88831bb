import { randomUUID } from 'node:crypto';
import { errors, type JWTPayload, jwtVerify, SignJWT } from 'jose';
import { LRUCache } from 'lru-cache';
import { ok, type Result, refused } from '../result.ts';

export const queueAudience = 'concert-queue';
export const defaultQueueIssuer = 'concert-queue';

export interface QueueTokenOptions {
  secret: string;
  issuer?: string;
  /** How long a queue token (the place in line, not the access) stays usable. */
  queueTokenTtlSeconds?: number;
  /** Tokens remembered after a successful verification (0: none). See createQueueTokens. */
  verifiedCacheSize?: number;
}

/** What a queue token says: this user's place in this concert's line. */
export interface QueueTicket {
  userId: string;
  concertId: string;
  seq: number;
  /** The line's incarnation the place was given in ('' for tokens that carry none): see QueueView.epoch. */
  epoch: string;
  jti: string;
  /** iat in ms (whole seconds). */
  issuedAt: number;
}

/** What the queue signs into a queue token; a token without an epoch can never be restored. */
export type QueueTicketClaims = Pick<QueueTicket, 'userId' | 'concertId' | 'seq'> & { epoch?: string };

/** What an access token says: this user may use this concert's [queue] endpoints until activeUntil. */
export interface AccessGrant {
  userId: string;
  concertId: string;
  jti: string;
  /** The line's incarnation that granted the access ('' for tokens that carry none). */
  epoch: string;
  /** iat in ms (whole seconds). */
  issuedAt: number;
  /** exp in ms (whole seconds: JWT NumericDate). */
  expiresAt: number;
  /** Genuine, but past exp: the guard answers QUEUE_NOT_ACTIVE rather than QUEUE_TOKEN_INVALID. */
  expired: boolean;
}

export interface QueueTokens {
  issueQueueToken(ticket: QueueTicketClaims, now: number): Promise<string>;
  /** Refuses anything but a genuine, unexpired queue token as QUEUE_TOKEN_INVALID. */
  verifyQueueToken(token: string, now: number): Promise<Result<QueueTicket, 'QUEUE_TOKEN_INVALID'>>;
  issueAccessToken(
    grant: { userId: string; concertId: string; activeUntil: number; epoch?: string },
    now: number,
  ): Promise<string>;
  /** Refuses as QUEUE_TOKEN_INVALID unless genuine; an expired genuine token comes back with `expired`. */
  verifyAccessToken(token: string, now: number): Promise<Result<AccessGrant, 'QUEUE_TOKEN_INVALID'>>;
}

const userIdPattern = /^[\w-]{1,64}$/;
const concertIdPattern = /^\d{1,19}$/;

interface Verified {
  typ: 'queue' | 'access';
  claims: QueueTicket | Omit<AccessGrant, 'expired'>;
  /** exp in seconds, checked again on every hit exactly as jose checks it */
  exp: number;
}

/**
 * Queue and access tokens: HS256 JWTs signed with the queue secret through jose. The secret is imported
 * once as a WebCrypto key: handing jose raw bytes or a KeyObject costs a key import per call, on every
 * signature and verification.
 *
 * A jose verification costs more CPU (WebCrypto jobs) than the rest of a status poll, and the
 * same client presents the same token poll after poll. So the exact strings that passed verification are
 * remembered (bounded, least recently used out first) and a hit only re-checks exp. Only genuine tokens get in; a hit
 * is a byte-for-byte match of a token already verified with the same key.
 */
export function createQueueTokens(options: QueueTokenOptions): QueueTokens {
  const imported = crypto.subtle.importKey(
    'raw',
    new TextEncoder().encode(options.secret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign', 'verify'],
  );
  // Awaited by each call (a settled promise costs a microtask); a failed import surfaces there, not here.
  imported.catch(() => undefined);
  const cacheSize = options.verifiedCacheSize ?? 20_000;
  // lru-cache, not a Map trimmed from its oldest key: V8 leaves deleted entries in a Map's table, so
  // `keys().next()` walks over all of them, on every call once the cache is full.
  const verified = cacheSize > 0 ? new LRUCache<string, Verified>({ max: cacheSize }) : null;
  const remember = (token: string, entry: Verified) => {
    verified?.set(token, entry);
  };
  const issuer = options.issuer ?? defaultQueueIssuer;
  const queueTtl = options.queueTokenTtlSeconds ?? 24 * 3600;
  const verifyOptions = (now: number) => ({
    issuer,
    audience: queueAudience,
    // An explicit allow-list: `alg: none` and algorithm confusion are refused by jose.
    algorithms: ['HS256'],
    requiredClaims: ['sub', 'jti', 'exp'],
    currentDate: new Date(now),
  });
  const sign = async (claims: JWTPayload, subject: string, now: number, exp: number, jti: string) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(subject)
      .setIssuer(issuer)
      .setAudience(queueAudience)
      .setJti(jti)
      .setIssuedAt(Math.floor(now / 1000))
      .setExpirationTime(exp)
      .sign(await imported);

  // A grant asked for again (every status poll of an ACTIVE user, a second tab re-entering) gets the
  // token already signed for it, and a token this process signed needs no verification by it either.
  const issued = cacheSize > 0 ? new LRUCache<string, string>({ max: cacheSize }) : null;
  const issueOnce = async (
    grantKey: string,
    make: (jti: string) => Promise<string>,
    entry: (jti: string) => Verified,
  ) => {
    const known = issued?.get(grantKey);
    if (known !== undefined) return known;
    const jti = randomUUID();
    const token = await make(jti);
    issued?.set(grantKey, token);
    remember(token, entry(jti));
    return token;
  };

  return {
    issueQueueToken(ticket, now) {
      // Reused only within the first half of its life, so a re-entry always leaves with a long-lived token.
      const half = Math.max(1, Math.floor(queueTtl / 2));
      const halfLife = Math.floor(now / 1000 / half);
      const exp = Math.min((halfLife + 2) * half, Math.floor(now / 1000) + queueTtl);
      const epoch = ticket.epoch ?? '';
      const claims = {
        cid: ticket.concertId,
        seq: ticket.seq,
        typ: 'queue',
        ...(epoch ? { ep: epoch } : {}),
      };
      const { userId, concertId, seq } = ticket;
      return issueOnce(
        `q\0${userId}\0${concertId}\0${seq}\0${epoch}\0${halfLife}`,
        (jti) => sign(claims, userId, now, exp, jti),
        (jti) => ({
          typ: 'queue',
          claims: { userId, concertId, seq, epoch, jti, issuedAt: secondsOf(now) * 1000 },
          exp,
        }),
      );
    },

    async verifyQueueToken(token, now) {
      const hit = verified?.get(token);
      if (hit?.typ === 'queue' && Math.floor(now / 1000) < hit.exp) return ok(hit.claims as QueueTicket);
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, await imported, verifyOptions(now)));
      } catch (error) {
        return refused('QUEUE_TOKEN_INVALID', 'Queue token is invalid or expired', { cause: error });
      }
      const claims = claimsOf(payload, 'queue');
      if (!claims || typeof payload.seq !== 'number') {
        return refused('QUEUE_TOKEN_INVALID', 'Queue token is not a queue token');
      }
      const ticket = { ...claims, seq: payload.seq };
      remember(token, { typ: 'queue', claims: ticket, exp: payload.exp! });
      return ok(ticket);
    },

    issueAccessToken(grant, now) {
      const exp = Math.ceil(grant.activeUntil / 1000);
      const epoch = grant.epoch ?? '';
      const claims = { cid: grant.concertId, typ: 'access', ...(epoch ? { ep: epoch } : {}) };
      const { userId, concertId } = grant;
      return issueOnce(
        `a\0${userId}\0${concertId}\0${exp}\0${epoch}`,
        (jti) => sign(claims, userId, now, exp, jti),
        (jti) => ({
          typ: 'access',
          claims: { userId, concertId, jti, epoch, issuedAt: secondsOf(now) * 1000, expiresAt: exp * 1000 },
          exp,
        }),
      );
    },

    async verifyAccessToken(token, now) {
      const hit = verified?.get(token);
      if (hit?.typ === 'access') {
        return ok({
          ...(hit.claims as Omit<AccessGrant, 'expired'>),
          expired: Math.floor(now / 1000) >= hit.exp,
        });
      }
      let payload: JWTPayload;
      let expired = false;
      try {
        ({ payload } = await jwtVerify(token, await imported, verifyOptions(now)));
      } catch (error) {
        // jose reports exp last, after the signature and every other claim passed.
        if (!(error instanceof errors.JWTExpired)) {
          return refused('QUEUE_TOKEN_INVALID', 'Queue access token is invalid', { cause: error });
        }
        payload = error.payload;
        expired = true;
      }
      const claims = claimsOf(payload, 'access');
      if (!claims) return refused('QUEUE_TOKEN_INVALID', 'Token is not a queue access token');
      const grant = { ...claims, expiresAt: payload.exp! * 1000 };
      if (!expired) remember(token, { typ: 'access', claims: grant, exp: payload.exp! });
      return ok({ ...grant, expired });
    },
  };
}

function claimsOf(payload: JWTPayload, typ: 'queue' | 'access') {
  const { sub, cid, jti, ep, iat } = payload;
  if (payload.typ !== typ) return null;
  if (typeof sub !== 'string' || !userIdPattern.test(sub)) return null;
  if (typeof cid !== 'string' || !concertIdPattern.test(cid)) return null;
  if (typeof jti !== 'string') return null;
  if (ep !== undefined && typeof ep !== 'string') return null;
  const issuedAt = typeof iat === 'number' ? iat * 1000 : 0;
  return { userId: sub, concertId: cid, jti, epoch: ep ?? '', issuedAt };
}

const secondsOf = (ms: number) => Math.floor(ms / 1000);
