import { afterEach, describe, expect, it, vi } from 'vitest';
import { orThrow } from '../result.ts';
import { createUserTokens } from './user-tokens.ts';

const tokens = createUserTokens({ secret: 's'.repeat(40), issuer: 'concert-auth', audience: 'concert-api' });

afterEach(() => {
  vi.useRealTimers();
});

describe('user tokens', () => {
  it('verifies what it signed, with the role', async () => {
    expect(await tokens.verify(await tokens.sign({ id: 'u-1', role: 'admin' }))).toEqual({
      ok: true,
      value: { id: 'u-1', role: 'admin' },
    });
  });

  it('refuses a remembered token once it has expired', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2030-01-01T00:00:00Z'));
    const token = await tokens.sign({ id: 'u-2', role: 'user' }, 2);
    expect(orThrow(await tokens.verify(token)).id).toBe('u-2');
    expect(orThrow(await tokens.verify(token)).id).toBe('u-2');
    vi.setSystemTime(new Date('2030-01-01T00:00:03Z'));
    expect(await tokens.verify(token)).toMatchObject({ ok: false, code: 'UNAUTHENTICATED' });
  });

  it('does not let a token of another key in through the cache', async () => {
    const other = createUserTokens({
      secret: 'o'.repeat(40),
      issuer: 'concert-auth',
      audience: 'concert-api',
    });
    const foreign = await other.sign({ id: 'u-3', role: 'admin' });
    expect(await tokens.verify(foreign)).toMatchObject({ ok: false, code: 'UNAUTHENTICATED' });
    expect(orThrow(await other.verify(foreign)).role).toBe('admin');
    expect(await tokens.verify(foreign)).toMatchObject({ ok: false, code: 'UNAUTHENTICATED' });
  });
});
