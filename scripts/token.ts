import { resolveSecrets } from '../shared/auth/dev-secrets.ts';
import { createUserTokens } from '../shared/auth/user-tokens.ts';
import { ConfigError, loadConfig } from '../shared/config.ts';

/** `npm run token -- <userId> [admin]`: prints a user JWT signed like POST /v1/dev/tokens signs it. */
const [userId, role] = process.argv.slice(2);
if (!userId || !/^[\w-]{1,64}$/.test(userId) || (role !== undefined && role !== 'admin')) {
  console.error('usage: npm run token -- <userId> [admin]');
  process.exit(64);
}
try {
  const config = loadConfig();
  const secrets = resolveSecrets({
    authJwtSecret: config.AUTH_JWT_SECRET,
    authJwksUrl: config.AUTH_JWKS_URL,
    queueTokenSecret: config.QUEUE_TOKEN_SECRET,
    dataDir: config.DATA_DIR,
  });
  if (!secrets.authJwtSecret)
    throw new ConfigError(['AUTH_JWT_SECRET: needed to sign tokens (AUTH_JWKS_URL is set)']);
  const tokens = createUserTokens({
    secret: secrets.authJwtSecret,
    issuer: config.AUTH_ISSUER,
    audience: config.AUTH_AUDIENCE,
  });
  process.stdout.write(`${await tokens.sign({ id: userId, role: role === 'admin' ? 'admin' : 'user' })}\n`);
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}
