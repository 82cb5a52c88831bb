import { describe, expect, it } from 'vitest';
import { AppError } from './errors.ts';
import { ok, orThrow, refused } from './result.ts';

describe('Result', () => {
  it('orThrow returns the value of an Ok', () => {
    expect(orThrow(ok(42))).toBe(42);
  });

  it('orThrow turns a refusal into the AppError the HTTP edge renders', () => {
    const result = refused('SEAT_TAKEN', 'seat 7 is held by someone else', { retryAfterSeconds: 3 });
    let thrown: unknown;
    try {
      orThrow(result);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(AppError);
    expect(thrown).toMatchObject({
      code: 'SEAT_TAKEN',
      status: 409,
      message: 'seat 7 is held by someone else',
    });
    expect((thrown as AppError).extra.retryAfterSeconds).toBe(3);
  });

  it('a refusal without extra carries no extra key', () => {
    expect(refused('NOT_FOUND', 'no such seat')).toEqual({
      ok: false,
      code: 'NOT_FOUND',
      message: 'no such seat',
    });
  });
});
