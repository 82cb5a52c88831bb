import { OpenAPIHono } from '@hono/zod-openapi';
import { AppError, detailsOf } from '../errors.ts';
import type { AppEnv } from './env.ts';

/**
 * A function's routes. A route declares what it takes (params, query, headers, body) in its zod-openapi
 * definition, which both documents and validates it; a failure of any of them becomes 400
 * VALIDATION_FAILED listing every bad field, instead of zod-openapi's default answer. A body of another
 * media type than the route declares is refused by zod-openapi (415, see error-handler.ts), and the
 * OpenAPI document lists 413 and 415 on every route with a body (create-http-app.ts, bodyErrorsDocumented).
 */
export function createRouter(): OpenAPIHono<AppEnv> {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        throw new AppError('VALIDATION_FAILED', 'Request is not valid', {
          details: detailsOf(result.error.issues, result.target === 'json' ? 'body' : result.target),
        });
      }
    },
  });
}
