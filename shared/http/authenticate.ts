import type { MiddlewareHandler } from 'hono';
import type { UserTokens } from '../auth/user-tokens.ts';
import { AppError } from '../errors.ts';
import { orThrow } from '../result.ts';
import type { AppEnv } from './env.ts';

/** Requires `Authorization: Bearer <user JWT>` and puts the user in the context. */
export function authenticate(
  tokens: UserTokens,
  options: { role?: 'admin' } = {},
): MiddlewareHandler<AppEnv> {
  return async function requireUser(c, next) {
    const header = c.req.header('authorization');
    const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    if (!match?.[1]) throw new AppError('UNAUTHENTICATED', 'Authorization: Bearer <token> is required');
    const user = orThrow(await tokens.verify(match[1]));
    if (options.role === 'admin' && user.role !== 'admin') {
      throw new AppError('FORBIDDEN', 'This endpoint needs an admin token');
    }
    c.set('user', user);
    await next();
  };
}
