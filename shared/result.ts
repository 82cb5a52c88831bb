import { AppError, type ErrorCode, type ErrorExtra } from './errors.ts';

/**
 * The outcome of a use case. An expected refusal (a seat someone else holds, too few points, a token for
 * another concert) is a value the caller must look at, not an exception; only the HTTP edge turns a
 * refusal into an `AppError`, with `orThrow`. Faults (a dependency down, a bug) still throw.
 */
export type Result<T, C extends ErrorCode = ErrorCode> = Ok<T> | Refused<C>;

export interface Ok<T> {
  readonly ok: true;
  readonly value: T;
}

export interface Refused<C extends ErrorCode = ErrorCode> {
  readonly ok: false;
  readonly code: C;
  readonly message: string;
  readonly extra?: ErrorExtra;
}

export function ok<T>(value: T): Ok<T> {
  return { ok: true, value };
}

export function refused<C extends ErrorCode>(code: C, message: string, extra?: ErrorExtra): Refused<C> {
  return extra === undefined ? { ok: false, code, message } : { ok: false, code, message, extra };
}

/** The HTTP edge: the value, or the refusal as the `AppError` the error handler renders. */
export function orThrow<T>(result: Result<T>): T {
  if (result.ok) return result.value;
  throw new AppError(result.code, result.message, result.extra);
}
