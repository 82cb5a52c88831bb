import { createHmac, createSecretKey, randomUUID, timingSafeEqual } from 'node:crypto';
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
  /** exp in seconds, checked again on every hit exactly as on a full verification */
  exp: number;
}

/**
 * Queue and access tokens: HS256 JWTs the queue both signs and checks, so the HMAC is computed here with
 * node:crypto, synchronously on the calling thread: WebCrypto (and so jose) runs every HMAC as a job on
 * the thread pool plus a callback, which cost more CPU than the rest of a status poll. The format stays a
 * JWT any HS256 library reads (tests forge tokens with jose), and verification keeps jose's rules for what
 * these tokens use: header alg HS256 only (no `none`, no other algorithm, no `crit`), a constant-time
 * signature compare, iss, aud, required sub/jti/exp, a numeric iat and nbf when present, exp checked last.
 *
 * The same client presents the same token poll after poll, so the exact strings that passed verification
 * are remembered (bounded, least recently used out first) and a hit only re-checks exp. Only genuine tokens
 * get in; a hit is a byte-for-byte match of a token already verified with the same key.
 */
export function createQueueTokens(options: QueueTokenOptions): QueueTokens {
  const key = createSecretKey(Buffer.from(options.secret, 'utf8'));
  const cacheSize = options.verifiedCacheSize ?? 20_000;
  // lru-cache, not a Map trimmed from its oldest key: V8 leaves deleted entries in a Map's table, so
  // `keys().next()` walks over all of them, on every call once the cache is full.
  const verified = cacheSize > 0 ? new LRUCache<string, Verified>({ max: cacheSize }) : null;
  const remember = (token: string, entry: Verified) => {
    verified?.set(token, entry);
  };
  const issuer = options.issuer ?? defaultQueueIssuer;
  const queueTtl = options.queueTokenTtlSeconds ?? 24 * 3600;
  const mac = (input: string) => createHmac('sha256', key).update(input).digest();
  const sign = (claims: Record<string, unknown>, subject: string, now: number, exp: number, jti: string) => {
    const payload = {
      ...claims,
      sub: subject,
      iss: issuer,
      aud: queueAudience,
      jti,
      iat: Math.floor(now / 1000),
      exp,
    };
    const input = `${signedHeader}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
    return `${input}.${mac(input).toString('base64url')}`;
  };

  /** The payload of a genuine token whose claims pass, with `expired` set when only exp fails. */
  const verify = (token: string, now: number): { payload: Claims; expired: boolean } | null => {
    const payload = genuinePayload(token, mac);
    if (!payload) return null;
    const { iss, aud, sub, jti, exp, iat, nbf } = payload;
    if (sub === undefined || jti === undefined || typeof exp !== 'number') return null;
    if (iss !== issuer) return null;
    if (aud !== queueAudience && !(Array.isArray(aud) && aud.includes(queueAudience))) return null;
    if (iat !== undefined && typeof iat !== 'number') return null;
    const seconds = Math.floor(now / 1000);
    if (nbf !== undefined && (typeof nbf !== 'number' || nbf > seconds)) return null;
    return { payload, expired: exp <= seconds };
  };

  // A grant asked for again (every status poll of an ACTIVE user, a second tab re-entering) gets the
  // token already signed for it, and a token this process signed needs no verification by it either.
  const issued = cacheSize > 0 ? new LRUCache<string, string>({ max: cacheSize }) : null;
  const issueOnce = (grantKey: string, make: (jti: string) => string, entry: (jti: string) => Verified) => {
    const known = issued?.get(grantKey);
    if (known !== undefined) return known;
    const jti = randomUUID();
    const token = make(jti);
    issued?.set(grantKey, token);
    remember(token, entry(jti));
    return token;
  };

  return {
    async issueQueueToken(ticket, now) {
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
      const checked = verify(token, now);
      if (!checked || checked.expired) {
        return refused('QUEUE_TOKEN_INVALID', 'Queue token is invalid or expired');
      }
      const { payload } = checked;
      const claims = claimsOf(payload, 'queue');
      if (!claims || typeof payload.seq !== 'number') {
        return refused('QUEUE_TOKEN_INVALID', 'Queue token is not a queue token');
      }
      const ticket = { ...claims, seq: payload.seq };
      remember(token, { typ: 'queue', claims: ticket, exp: payload.exp as number });
      return ok(ticket);
    },

    async issueAccessToken(grant, now) {
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
      const checked = verify(token, now);
      if (!checked) return refused('QUEUE_TOKEN_INVALID', 'Queue access token is invalid');
      const { payload, expired } = checked;
      const claims = claimsOf(payload, 'access');
      if (!claims) return refused('QUEUE_TOKEN_INVALID', 'Token is not a queue access token');
      const exp = payload.exp as number;
      const grant = { ...claims, expiresAt: exp * 1000 };
      if (!expired) remember(token, { typ: 'access', claims: grant, exp });
      return ok({ ...grant, expired });
    },
  };
}

type Claims = Record<string, unknown>;

/** The protected header of every token signed here: encoded once. */
const signedHeader = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
const base64url = /^[\w-]*$/;

/** A header this verifier accepts: HS256, nothing critical, the payload base64url-encoded. */
function acceptedHeader(encoded: string): boolean {
  if (encoded === signedHeader) return true;
  const header = parseJson(encoded);
  return header !== null && header.alg === 'HS256' && header.crit === undefined && header.b64 === undefined;
}

/** The payload of a compact HS256 JWT signed with this key, or null. */
function genuinePayload(token: string, mac: (input: string) => Buffer): Claims | null {
  const first = token.indexOf('.');
  const second = token.indexOf('.', first + 1);
  if (first < 0 || second < 0 || token.indexOf('.', second + 1) >= 0) return null;
  const signature = token.slice(second + 1);
  if (!base64url.test(signature) || !acceptedHeader(token.slice(0, first))) return null;
  const given = Buffer.from(signature, 'base64url');
  const expected = mac(token.slice(0, second));
  // Only the canonical encoding of the signature is the signature (no trailing bits that decode the same).
  if (given.length !== expected.length || given.toString('base64url') !== signature) return null;
  if (!timingSafeEqual(given, expected)) return null;
  return parseJson(token.slice(first + 1, second));
}

function parseJson(encoded: string): Claims | null {
  if (!base64url.test(encoded)) return null;
  try {
    const value: unknown = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Claims) : null;
  } catch {
    return null;
  }
}

function claimsOf(payload: Claims, typ: 'queue' | 'access') {
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
