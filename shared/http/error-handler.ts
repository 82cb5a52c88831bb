import type { Context, ErrorHandler, NotFoundHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { asDatabaseOutage } from '../db/connect.ts';
import { AppError, DependencyUnavailableError, type ErrorCode } from '../errors.ts';
import { isRedisOutage } from '../redis/client.ts';
import type { AllowedMethods } from './allowed-methods.ts';
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
  if (error.status === 401) c.header('WWW-Authenticate', bearerChallenge(c));
  return c.json(errorBody(c, error), error.status as 400);
}

/**
 * RFC 6750's challenge: a request that sent no bearer token is only told the scheme; one whose token was
 * refused also learns that the token is the problem, so a client knows to get a new one.
 */
function bearerChallenge(c: Context<AppEnv>): string {
  const sent = /^Bearer\s+\S/i.test(c.req.header('authorization') ?? '');
  return sent ? 'Bearer realm="concert", error="invalid_token"' : 'Bearer realm="concert"';
}

/** Anything thrown becomes the error body of docs/api.md; known outages become 503, never a bare 500. */
function toAppError(error: unknown, c: Context<AppEnv>): AppError {
  if (error instanceof AppError) return error;
  if (error instanceof HTTPException) {
    if (error.status === 400 && /json/i.test(error.message))
      return new AppError('MALFORMED_JSON', 'Body is not valid JSON');
    if (error.status === 413) return new AppError('PAYLOAD_TOO_LARGE', 'Body is too large');
    // zod-openapi's answer to a body of a media type the route does not declare (every body is JSON).
    if (error.status === 415) {
      const sent = c.req.header('content-type')?.split(';')[0]?.trim();
      return new AppError(
        'UNSUPPORTED_MEDIA_TYPE',
        `Body must be application/json${sent ? `, not ${sent}` : ''}`,
      );
    }
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
  const appError = toAppError(error, c);
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

/**
 * No route took the request: 404 for a path this process does not serve, 405 with `Allow` for one it
 * serves with other methods, and an `OPTIONS` answer listing them (a CORS preflight is answered before).
 */
export function notFound(allowed: AllowedMethods): NotFoundHandler<AppEnv> {
  return function noRoute(c) {
    const methods = allowed(c.req.path);
    if (methods.length === 0) {
      return respondWithError(c, new AppError('NOT_FOUND', `No route for ${c.req.method} ${c.req.path}`));
    }
    c.header('Allow', methods.join(', '));
    if (c.req.method === 'OPTIONS') return c.body(null, 204);
    return respondWithError(
      c,
      new AppError('METHOD_NOT_ALLOWED', `${c.req.path} answers ${methods.join(', ')}, not ${c.req.method}`),
    );
  };
}
