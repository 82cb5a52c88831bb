import { OpenAPIHono } from '@hono/zod-openapi';
import { AppError } from '../errors.ts';
import type { AppEnv } from './env.ts';

/**
 * A function's routes. Validation failures of any zod schema (body, params, query, headers) become
 * 400 VALIDATION_FAILED listing every bad field, instead of zod-openapi's default answer.
 */
export function createRouter(): OpenAPIHono<AppEnv> {
  return new OpenAPIHono<AppEnv>({
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
}
