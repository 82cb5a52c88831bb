import type { TypedResponse } from 'hono';

/**
 * Serves JSON text that is already serialised (a cache entry) without parsing it again. Typed as the
 * route's JSON response because the text was produced from that same shape.
 */
export function preserializedJson<T>(json: string): TypedResponse<T, 200, 'json'> {
  return new Response(json, {
    status: 200,
    headers: { 'content-type': 'application/json' },
  }) as unknown as TypedResponse<T, 200, 'json'>;
}
