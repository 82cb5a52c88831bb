import type { MiddlewareHandler } from 'hono';
import { AppError } from '../errors.ts';
import type { AppEnv } from './env.ts';

const jsonMediaType = /^application\/([\w.-]+\+)?json$/i;

/**
 * Refuses a body that is not declared as JSON with 415, before the validator sees it: hono's validator
 * reads any other media type as an empty object, so a form post would be answered as if its fields were
 * missing. A request without a body passes (an optional body, or the validator's 400 for a required one).
 */
export function requireJsonBody(): MiddlewareHandler<AppEnv> {
  return async function jsonBodyOnly(c, next) {
    const contentType = c.req.header('content-type');
    const mediaType = contentType?.split(';')[0]?.trim() ?? '';
    const length = c.req.header('content-length');
    const hasBody =
      contentType !== undefined ||
      (length !== undefined && length !== '0') ||
      c.req.header('transfer-encoding') !== undefined;
    if (hasBody && !jsonMediaType.test(mediaType)) {
      throw new AppError(
        'UNSUPPORTED_MEDIA_TYPE',
        `Body must be application/json${contentType ? `, not ${mediaType || contentType}` : ''}`,
      );
    }
    await next();
  };
}
