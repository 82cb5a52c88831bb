import { createRoute, z } from '@hono/zod-openapi';
import type { UserTokens } from '../auth/user-tokens.ts';
import { errorResponses } from './openapi-common.ts';
import { createRouter } from './router.ts';

/** Local/dev only (DEV_AUTH): mints user tokens so the API can be tried without an identity provider. */
export function devTokenRoutes(tokens: UserTokens) {
  const app = createRouter();
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/dev/tokens',
      summary: 'Mint a user token (dev only)',
      request: {
        body: {
          required: true,
          content: {
            'application/json': {
              schema: z
                .object({
                  userId: z.string().regex(/^[\w-]{1,64}$/, 'letters, digits, _ or -, 1..64'),
                  role: z.enum(['user', 'admin']).default('user'),
                })
                .strict(),
            },
          },
        },
      },
      responses: {
        201: {
          description: 'A signed user JWT',
          content: { 'application/json': { schema: z.object({ token: z.string() }) } },
        },
        ...errorResponses({ 400: 'VALIDATION_FAILED, MALFORMED_JSON' }),
      },
    }),
    async (c) => {
      const { userId, role } = c.req.valid('json');
      return c.json({ token: await tokens.sign({ id: userId, role }) }, 201);
    },
  );
  return app;
}
