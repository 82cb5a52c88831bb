import { describe, expect, it } from 'vitest';
import { manualClock } from '../../tests/support/harness.ts';
import { AppError } from '../errors.ts';
import { orThrow } from '../result.ts';
import { createQueueAccess } from './access-token-check.ts';
import { createMemoryQueueStore } from './memory-queue-store.ts';
import { createQueueTokens } from './queue-tokens.ts';

const defaults = { maxActive: 1, admitPerSecond: 10, activeTtlSeconds: 60, idleTimeoutSeconds: 30 };

async function setup() {
  const clock = manualClock();
  const store = createMemoryQueueStore(defaults);
  const tokens = createQueueTokens({ secret: 'queue-secret-that-is-long-enough-0123456789' });
  const access = createQueueAccess({ tokens, store, clock });
  const admit = async (userId: string, concertId = '1') => {
    const view = await store.enter(concertId, userId, clock.now());
    return tokens.issueAccessToken({ userId, concertId, activeUntil: view.activeUntil }, clock.now());
  };
  return { clock, store, tokens, access, admit };
}

async function codeOf(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (error) {
    return error instanceof AppError ? error.code : String(error);
  }
  return 'accepted';
}

describe('queue access guard', () => {
  it('lets an ACTIVE user through with the end of the slot', async () => {
    const { access, admit, clock } = await setup();
    const token = await admit('alice');
    expect(orThrow(await access.check(token, 'alice', '1'))).toEqual({ activeUntil: clock.now() + 60_000 });
  });

  it('asks for a token when there is none', async () => {
    const { access } = await setup();
    expect(await codeOf(access.check(undefined, 'alice', '1').then(orThrow))).toBe('QUEUE_TOKEN_REQUIRED');
    expect(await codeOf(access.check('', 'alice', '1').then(orThrow))).toBe('QUEUE_TOKEN_REQUIRED');
  });

  it("refuses another user's token, another concert's token and a forged one as INVALID", async () => {
    const { access, admit } = await setup();
    const token = await admit('alice');
    expect(await codeOf(access.check(token, 'bob', '1').then(orThrow))).toBe('QUEUE_TOKEN_INVALID');
    expect(await codeOf(access.check(token, 'alice', '2').then(orThrow))).toBe('QUEUE_TOKEN_INVALID');
    expect(await codeOf(access.check(`${token.slice(0, -2)}xx`, 'alice', '1').then(orThrow))).toBe(
      'QUEUE_TOKEN_INVALID',
    );
  });

  it('refuses after payment (release), after expiry, and a token of an earlier activation as NOT_ACTIVE', async () => {
    const { access, admit, clock, store } = await setup();
    const token = await admit('alice');
    await access.release('1', 'alice');
    expect(await codeOf(access.check(token, 'alice', '1').then(orThrow))).toBe('QUEUE_NOT_ACTIVE');

    clock.advance(1000);
    const second = await admit('alice'); // entered again: a new activation
    expect(await codeOf(access.check(token, 'alice', '1').then(orThrow))).toBe('QUEUE_NOT_ACTIVE');
    expect(await codeOf(access.check(second, 'alice', '1').then(orThrow))).toBe('accepted');

    clock.advance(60_000);
    expect(await codeOf(access.check(second, 'alice', '1').then(orThrow))).toBe('QUEUE_NOT_ACTIVE');
    expect(await store.activeUntil('1', 'alice')).not.toBeNull(); // not swept yet: the guard compares times
  });
  it('asks the line once per slot and confirmForMs; a release here is seen at once, elsewhere after it', async () => {
    const { admit, clock, store, tokens } = await setup();
    let lookups = 0;
    const counted = {
      ...store,
      activeUntil: (concertId: string, userId: string) => {
        lookups++;
        return store.activeUntil(concertId, userId);
      },
    };
    const access = createQueueAccess({ tokens, store: counted, clock });
    const token = await admit('alice');
    for (let i = 0; i < 3; i++)
      expect(await codeOf(access.check(token, 'alice', '1').then(orThrow))).toBe('accepted');
    expect(lookups).toBe(1);
    // Paid through another process (the store directly): still let through until confirmForMs has passed.
    await store.release('1', 'alice');
    clock.advance(999);
    expect(await codeOf(access.check(token, 'alice', '1').then(orThrow))).toBe('accepted');
    expect(lookups).toBe(1);
    clock.advance(1);
    expect(await codeOf(access.check(token, 'alice', '1').then(orThrow))).toBe('QUEUE_NOT_ACTIVE');

    // A release through this guard is seen by the very next check.
    clock.advance(1000);
    const again = await admit('alice');
    expect(await codeOf(access.check(again, 'alice', '1').then(orThrow))).toBe('accepted');
    await access.release('1', 'alice');
    expect(await codeOf(access.check(again, 'alice', '1').then(orThrow))).toBe('QUEUE_NOT_ACTIVE');

    // Never past the slot's end, and confirmForMs 0 asks every time.
    clock.advance(1000);
    const last = await admit('alice');
    expect(await codeOf(access.check(last, 'alice', '1').then(orThrow))).toBe('accepted');
    clock.advance(59_999);
    expect(await codeOf(access.check(last, 'alice', '1').then(orThrow))).toBe('accepted');
    clock.advance(1);
    expect(await codeOf(access.check(last, 'alice', '1').then(orThrow))).toBe('QUEUE_NOT_ACTIVE');
    const always = createQueueAccess({ tokens, store: counted, clock, confirmForMs: 0 });
    clock.advance(1000);
    const fresh = await admit('bob');
    const before = lookups;
    for (let i = 0; i < 2; i++) await always.check(fresh, 'bob', '1');
    expect(lookups).toBe(before + 2);
  });
});
