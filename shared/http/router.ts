import { OpenAPIHono, z } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { AppError, detailsOf } from '../errors.ts';
import type { AppEnv } from './env.ts';
import { validateDeclaredHeaders } from './header-validation.ts';
import { requireJsonBody } from './json-body.ts';
import { errorResponses } from './openapi-common.ts';

/**
 * A function's routes. Validation failures of any zod schema (body, params, query, headers) become
 * 400 VALIDATION_FAILED listing every bad field, instead of zod-openapi's default answer. A route with a
 * JSON body refuses other media types with 415 (documented on the route, as is the body limit's 413).
 * Declared headers stay in the OpenAPI document but are checked by validateDeclaredHeaders (see there why).
 */
export function createRouter(): OpenAPIHono<AppEnv> {
  const router = new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        throw new AppError('VALIDATION_FAILED', 'Request is not valid', {
          details: detailsOf(result.error.issues, result.target === 'json' ? 'body' : result.target),
        });
      }
    },
  });
  const register = router.openapi;
  router.openapi = ((route, handler, hook) => {
    const headers = route.request?.headers;
    const checkHeaders = headers instanceof z.ZodObject;
    const jsonBody = route.request?.body?.content?.['application/json'] !== undefined;
    if (!checkHeaders && !jsonBody) return register(route, handler, hook);

    const { middleware, hide, ...declared } = route;
    const documented = jsonBody
      ? {
          ...declared,
          responses: {
            ...declared.responses,
            ...errorResponses({ 413: 'PAYLOAD_TOO_LARGE', 415: 'UNSUPPORTED_MEDIA_TYPE' }),
          },
        }
      : declared;
    if (!hide) router.openAPIRegistry.registerPath(documented);
    const { headers: _checkedBelow, ...request } = route.request ?? {};
    const checks: MiddlewareHandler[] = [
      ...(middleware === undefined ? [] : [middleware].flat()),
      ...(jsonBody ? [requireJsonBody()] : []),
      ...(checkHeaders ? [validateDeclaredHeaders(headers)] : []),
    ];
    return register({ ...route, hide: true, request, middleware: checks }, handler, hook);
  }) as typeof register;
  return router;
}
