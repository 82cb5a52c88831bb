import { z } from '@hono/zod-openapi';
import { errorCode } from '../errors.ts';

export const errorResponseSchema = z
  .object({
    error: z.object({
      code: errorCode,
      message: z.string(),
      requestId: z.string(),
      details: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
    }),
  })
  .openapi('Error');

const errorContent = { 'application/json': { schema: errorResponseSchema } };

const retryAfter = {
  'Retry-After': { description: 'Seconds to wait before retrying', schema: { type: 'integer' as const } },
};
/** Headers that come with an error status wherever it is answered. */
const headersOf: Record<
  string,
  Record<string, { description: string; schema: { type: 'integer' | 'string' } }>
> = {
  401: {
    'WWW-Authenticate': {
      description: 'Bearer challenge; `error="invalid_token"` when a token was sent and refused',
      schema: { type: 'string' },
    },
  },
  429: retryAfter,
  503: retryAfter,
};

/** Error responses of the API reference for a route's OpenAPI entry; a status's codes go in its text. */
export function errorResponses(statuses: Record<number, string>) {
  return Object.fromEntries(
    Object.entries(statuses).map(([status, description]) => [
      status,
      { description, content: errorContent, ...(headersOf[status] ? { headers: headersOf[status] } : {}) },
    ]),
  );
}

export const bearerSecurity = [{ bearerAuth: [] }];

export const idempotencyKeyHeader = z.object({
  'idempotency-key': z
    .string()
    .min(1)
    .max(64)
    .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces')
    .openapi({ description: 'Repeat a request safely: same key and request → same answer, done once' }),
});

export const idString = z
  .string()
  .regex(/^\d{1,19}$/, 'must be a decimal id')
  .openapi({ example: '1' });

/**
 * An optional header whose value the handler checks itself (the queue's tokens), documented in the OpenAPI
 * operation without `request.headers`: that validator reads every header of every request into a record,
 * a cost the hot [queue] routes would pay for a check that cannot fail.
 */
export function optionalHeader(name: string, description?: string) {
  return {
    name,
    in: 'header' as const,
    required: false,
    schema: { type: 'string' as const },
    ...(description === undefined ? {} : { description }),
  };
}
