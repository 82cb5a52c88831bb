import { OpenAPIHono, z } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { AppError } from '../errors.ts';
import type { AppEnv } from './env.ts';
import { validateDeclaredHeaders } from './header-validation.ts';

/**
 * A function's routes. Validation failures of any zod schema (body, params, query, headers) become
 * 400 VALIDATION_FAILED listing every bad field, instead of zod-openapi's default answer. Declared
 * headers stay in the OpenAPI document but are checked by validateDeclaredHeaders (see there why).
 */
export function createRouter(): OpenAPIHono<AppEnv> {
  const router = new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        throw new AppError('VALIDATION_FAILED', 'Request is not valid', {
          details: result.error.issues.map((issue) => ({
            field: issue.path.join('.') || result.target,
            message: issue.message,
          })),
        });
      }
    },
  });
  const register = router.openapi;
  router.openapi = ((route, handler, hook) => {
    const headers = route.request?.headers;
    if (!(headers instanceof z.ZodObject)) return register(route, handler, hook);
    const { middleware, hide, ...documented } = route;
    if (!hide) router.openAPIRegistry.registerPath(documented);
    const { headers: _checkedBelow, ...request } = route.request ?? {};
    const before: MiddlewareHandler[] = middleware === undefined ? [] : [middleware].flat();
    return register(
      { ...route, hide: true, request, middleware: [...before, validateDeclaredHeaders(headers)] },
      handler,
      hook,
    );
  }) as typeof register;
  return router;
}
