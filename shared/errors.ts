import { z } from 'zod';

export const errorCode = z.enum([
  'VALIDATION_FAILED',
  'MALFORMED_JSON',
  'UNAUTHENTICATED',
  'QUEUE_TOKEN_REQUIRED',
  'QUEUE_TOKEN_INVALID',
  'QUEUE_NOT_ACTIVE',
  'FORBIDDEN',
  'NOT_FOUND',
  'METHOD_NOT_ALLOWED',
  'SEAT_TAKEN',
  'HOLD_EXPIRED',
  'ALREADY_PAID',
  'INSUFFICIENT_POINTS',
  'IDEMPOTENCY_KEY_REUSED',
  'IDEMPOTENCY_IN_PROGRESS',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'RATE_LIMITED',
  'DEPENDENCY_UNAVAILABLE',
  'INTERNAL',
]);
export type ErrorCode = z.infer<typeof errorCode>;

const statusOf: Record<ErrorCode, number> = {
  VALIDATION_FAILED: 400,
  MALFORMED_JSON: 400,
  UNAUTHENTICATED: 401,
  QUEUE_TOKEN_REQUIRED: 403,
  QUEUE_TOKEN_INVALID: 403,
  QUEUE_NOT_ACTIVE: 403,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  SEAT_TAKEN: 409,
  HOLD_EXPIRED: 409,
  ALREADY_PAID: 409,
  INSUFFICIENT_POINTS: 409,
  IDEMPOTENCY_KEY_REUSED: 409,
  IDEMPOTENCY_IN_PROGRESS: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  DEPENDENCY_UNAVAILABLE: 503,
  INTERNAL: 500,
};

export interface ErrorDetail {
  field: string;
  message: string;
}

/**
 * zod's issues as the fields a client sent: an unknown key is reported under its own name (zod puts such an
 * issue on the enclosing object), and an issue on the whole input under `fallback`.
 */
export function detailsOf(
  issues: readonly {
    code: string;
    path: readonly PropertyKey[];
    message: string;
    keys?: readonly string[];
  }[],
  fallback: string,
): ErrorDetail[] {
  return issues.flatMap((issue) => {
    const at = issue.path.map(String);
    if (issue.code === 'unrecognized_keys' && issue.keys?.length) {
      return issue.keys.map((key) => ({ field: [...at, key].join('.'), message: 'is not a known field' }));
    }
    return [{ field: at.join('.') || fallback, message: issue.message }];
  });
}

export interface ErrorExtra {
  details?: ErrorDetail[];
  retryAfterSeconds?: number;
  cause?: unknown;
}

/** The one error type that reaches the HTTP layer; onError turns it into the error body of docs/api.md. */
export class AppError extends Error {
  readonly status: number;
  readonly code: ErrorCode;
  readonly extra: ErrorExtra;
  constructor(code: ErrorCode, message: string, extra: ErrorExtra = {}) {
    // A 4xx is an answer, not a fault: nothing logs its stack, and capturing one showed up in the profile of a
    // stampede's losers (each answered 409 SEAT_TAKEN). 5xx errors keep theirs for the log.
    const stackTraceLimit = Error.stackTraceLimit;
    if (statusOf[code] < 500) Error.stackTraceLimit = 0;
    try {
      super(message, extra.cause === undefined ? undefined : { cause: extra.cause });
    } finally {
      Error.stackTraceLimit = stackTraceLimit;
    }
    this.name = 'AppError';
    this.code = code;
    this.extra = extra;
    this.status = statusOf[code];
  }
}

/** A dependency (database, Redis, Kafka) did not answer in time or refused: clients should retry. */
export class DependencyUnavailableError extends AppError {
  constructor(
    readonly dependency: string,
    cause?: unknown,
    retryAfterSeconds = 2,
  ) {
    super('DEPENDENCY_UNAVAILABLE', `${dependency} is unavailable, retry shortly`, {
      retryAfterSeconds,
      cause,
    });
    this.name = 'DependencyUnavailableError';
  }
}

export function statusForCode(code: ErrorCode): number {
  return statusOf[code];
}
