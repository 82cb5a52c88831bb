import { createHash } from 'node:crypto';
import type { Context } from 'hono';
import type { AppEnv } from '../../shared/http/env.ts';

/**
 * The catalogue's freshness: short, because `availableSeats` and the on-sale filter follow sales, and
 * public, so that CloudFront (and browsers) may keep an answer that is the same for every caller. Five
 * seconds is the lag docs/api.md allows for `availableSeats`.
 */
export const catalogueCacheControl = 'public, max-age=5';

/** A strong validator: a digest of the exact bytes sent, so equal ETags mean byte-identical bodies. */
export function strongEtag(body: string): string {
  return `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
}

/** RFC 9110 §13.1.2: If-None-Match uses the weak comparison, and `*` matches any current representation. */
export function noneMatch(header: string | undefined, etag: string): boolean {
  if (header === undefined) return true;
  if (header.trim() === '*') return false;
  return !header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}

/**
 * Marks a catalogue answer cacheable and answers 304 Not Modified to a client that already has it. The
 * 304 repeats ETag and Cache-Control, as a cache refreshing its copy needs both.
 */
export function cacheable<T>(c: Context<AppEnv>, body: T) {
  const etag = strongEtag(JSON.stringify(body));
  c.header('Cache-Control', catalogueCacheControl);
  c.header('ETag', etag);
  if (!noneMatch(c.req.header('if-none-match'), etag)) return { notModified: true as const };
  return { notModified: false as const, body };
}
