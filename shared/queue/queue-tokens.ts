import { createSecretKey, randomUUID } from 'node:crypto';
import { errors, type JWTPayload, jwtVerify, SignJWT } from 'jose';
import { AppError } from '../errors.ts';

export const queueAudience = 'concert-queue';
export const defaultQueueIssuer = 'concert-queue';

export interface QueueTokenOptions {
  secret: string;
  issuer?: string;
  /** How long a queue token (the place in line, not the access) stays usable. */
  queueTokenTtlSeconds?: number;
}

/** What a queue token says: this user's place in this concert's line. */
export interface QueueTicket {
  userId: string;
  concertId: string;
  seq: number;
  jti: string;
}

/** What an access token says: this user may use this concert's [queue] endpoints until activeUntil. */
export interface AccessGrant {
  userId: string;
  concertId: string;
  jti: string;
  /** exp in ms (whole seconds: JWT NumericDate). */
  expiresAt: number;
  /** Genuine, but past exp: the guard answers QUEUE_NOT_ACTIVE rather than QUEUE_TOKEN_INVALID. */
  expired: boolean;
}

export interface QueueTokens {
  issueQueueToken(ticket: Omit<QueueTicket, 'jti'>, now: number): Promise<string>;
  /** Throws QUEUE_TOKEN_INVALID for anything but a genuine, unexpired queue token. */
  verifyQueueToken(token: string, now: number): Promise<QueueTicket>;
  issueAccessToken(
    grant: { userId: string; concertId: string; activeUntil: number },
    now: number,
  ): Promise<string>;
  /** Throws QUEUE_TOKEN_INVALID unless genuine; an expired genuine token comes back with `expired`. */
  verifyAccessToken(token: string, now: number): Promise<AccessGrant>;
}

const userIdPattern = /^[\w-]{1,64}$/;
const concertIdPattern = /^\d{1,19}$/;

/**
 * Queue and access tokens: HS256 JWTs signed with the queue secret through jose. The key is a KeyObject
 * made once (jose caches its CryptoKey), so signing does not import a key per request.
 */
export function createQueueTokens(options: QueueTokenOptions): QueueTokens {
  const key = createSecretKey(Buffer.from(options.secret, 'utf8'));
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
  const sign = (claims: JWTPayload, subject: string, now: number, exp: number) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(subject)
      .setIssuer(issuer)
      .setAudience(queueAudience)
      .setJti(randomUUID())
      .setIssuedAt(Math.floor(now / 1000))
      .setExpirationTime(exp)
      .sign(key);

  return {
    issueQueueToken(ticket, now) {
      return sign(
        { cid: ticket.concertId, seq: ticket.seq, typ: 'queue' },
        ticket.userId,
        now,
        Math.floor(now / 1000) + queueTtl,
      );
    },

    async verifyQueueToken(token, now) {
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, key, verifyOptions(now)));
      } catch (error) {
        throw new AppError('QUEUE_TOKEN_INVALID', 'Queue token is invalid or expired', { cause: error });
      }
      const claims = claimsOf(payload, 'queue');
      if (!claims || typeof payload.seq !== 'number') {
        throw new AppError('QUEUE_TOKEN_INVALID', 'Queue token is not a queue token');
      }
      return { ...claims, seq: payload.seq };
    },

    issueAccessToken(grant, now) {
      return sign(
        { cid: grant.concertId, typ: 'access' },
        grant.userId,
        now,
        Math.ceil(grant.activeUntil / 1000),
      );
    },

    async verifyAccessToken(token, now) {
      let payload: JWTPayload;
      let expired = false;
      try {
        ({ payload } = await jwtVerify(token, key, verifyOptions(now)));
      } catch (error) {
        // jose reports exp last, after the signature and every other claim passed.
        if (!(error instanceof errors.JWTExpired)) {
          throw new AppError('QUEUE_TOKEN_INVALID', 'Queue access token is invalid', { cause: error });
        }
        payload = error.payload;
        expired = true;
      }
      const claims = claimsOf(payload, 'access');
      if (!claims) throw new AppError('QUEUE_TOKEN_INVALID', 'Token is not a queue access token');
      return { ...claims, expiresAt: (payload.exp ?? 0) * 1000, expired };
    },
  };
}

function claimsOf(payload: JWTPayload, typ: 'queue' | 'access') {
  const { sub, cid, jti } = payload;
  if (payload.typ !== typ) return null;
  if (typeof sub !== 'string' || !userIdPattern.test(sub)) return null;
  if (typeof cid !== 'string' || !concertIdPattern.test(cid)) return null;
  if (typeof jti !== 'string') return null;
  return { userId: sub, concertId: cid, jti };
}
