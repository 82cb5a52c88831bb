import { describe, expect, it } from 'vitest';
import { noneMatch, strongEtag } from './http-cache.ts';

describe('catalogue validators', () => {
  it('gives a strong ETag that changes with any byte of the body', () => {
    const etag = strongEtag('{"items":[]}');
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{27}"$/);
    expect(strongEtag('{"items":[]}')).toBe(etag);
    expect(strongEtag('{"items":[ ]}')).not.toBe(etag);
  });

  it('compares If-None-Match weakly, in lists, and treats * as any current body (RFC 9110)', () => {
    const etag = strongEtag('x');
    expect(noneMatch(undefined, etag)).toBe(true);
    expect(noneMatch('"other"', etag)).toBe(true);
    expect(noneMatch(etag, etag)).toBe(false);
    expect(noneMatch(`W/${etag}`, etag)).toBe(false);
    expect(noneMatch(`"a", ${etag} ,"b"`, etag)).toBe(false);
    expect(noneMatch('*', etag)).toBe(false);
    expect(noneMatch(etag.slice(1, -1), etag)).toBe(true);
  });
});
