import { describe, expect, it } from 'vitest';
import { AppError, DependencyUnavailableError } from './errors.ts';

describe('AppError', () => {
  it('carries code, status, message and extras', () => {
    const error = new AppError('RATE_LIMITED', 'slow down', { retryAfterSeconds: 3 });
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({
      code: 'RATE_LIMITED',
      status: 429,
      message: 'slow down',
      name: 'AppError',
    });
    expect(error.extra.retryAfterSeconds).toBe(3);
  });

  it('skips the stack of a 4xx answer and keeps it for a 5xx fault', () => {
    const stackTraceLimit = Error.stackTraceLimit;
    const answer = new AppError('SEAT_TAKEN', 'taken');
    expect(answer.stack?.split('\n')).toEqual(['AppError: taken']);
    const fault = new DependencyUnavailableError('mysql', new Error('ECONNREFUSED'));
    expect(fault.stack?.split('\n').length).toBeGreaterThan(1);
    expect(fault.cause).toBeInstanceOf(Error);
    expect(Error.stackTraceLimit).toBe(stackTraceLimit);
  });
});
