import type { Context, ErrorHandler, NotFoundHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { asDatabaseOutage } from '../db/connect.ts';
import { AppError, DependencyUnavailableError, type ErrorCode } from '../errors.ts';
import { isRedisOutage } from '../redis/client.ts';
import type { AppEnv } from './env.ts';

export function errorBody(c: Context<AppEnv>, error: AppError) {
  return {
    error: {
      code: error.code,
      message: error.message,
      requestId: c.get('requestId') ?? '',
      ...(error.extra.details ? { details: error.extra.details } : {}),
    },
  };
}

export function respondWithError(c: Context<AppEnv>, error: AppError): Response {
  if (error.extra.retryAfterSeconds !== undefined)
    c.header('Retry-After', String(error.extra.retryAfterSeconds));
  return c.json(errorBody(c, error), error.status as 400);
}

/** Anything thrown becomes docs/api.md's error body; known outages become 503, never a bare 500. */
function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  if (error instanceof HTTPException) {
    if (error.status === 400 && /json/i.test(error.message))
      return new AppError('MALFORMED_JSON', 'Body is not valid JSON');
    if (error.status === 413) return new AppError('PAYLOAD_TOO_LARGE', 'Body is too large');
    const code: ErrorCode =
      error.status === 401 ? 'UNAUTHENTICATED' : error.status === 404 ? 'NOT_FOUND' : 'VALIDATION_FAILED';
    return new AppError(code, error.message || 'Bad request');
  }
  const dbOutage = asDatabaseOutage(error);
  if (dbOutage) return dbOutage;
  if (isRedisOutage(error)) return new DependencyUnavailableError('redis', error);
  return new AppError('INTERNAL', 'Internal error', { cause: error });
}

export const onError: ErrorHandler<AppEnv> = (error, c) => {
  const appError = toAppError(error);
  const logger = c.get('logger');
  if (appError.status >= 500) {
    logger?.error(
      { err: error, code: appError.code, path: c.req.path, requestId: c.get('requestId') },
      'request failed',
    );
  } else {
    logger?.debug({ code: appError.code, path: c.req.path, requestId: c.get('requestId') }, appError.message);
  }
  return respondWithError(c, appError);
};

export const notFound: NotFoundHandler<AppEnv> = (c) =>
  respondWithError(c, new AppError('NOT_FOUND', `No route for ${c.req.method} ${c.req.path}`));
