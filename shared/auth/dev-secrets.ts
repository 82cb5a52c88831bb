import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Secrets {
  authJwtSecret: string | undefined;
  queueTokenSecret: string;
}

/**
 * Outside production a missing secret is generated once and kept in DATA_DIR, so the all-in-one server,
 * a second local process and `npm run token` agree without any secret living in the repository.
 * Production refuses to start without real secrets (see config.ts).
 */
export function resolveSecrets(input: {
  authJwtSecret?: string | undefined;
  authJwksUrl?: string | undefined;
  queueTokenSecret?: string | undefined;
  dataDir: string;
  /**
   * False in production: a function that signs nothing is started without the token secrets, and its
   * filesystem is read-only, so its unused stand-ins stay in memory.
   */
  persist?: boolean;
}): Secrets {
  const needsAuth = !input.authJwtSecret && !input.authJwksUrl;
  if (!needsAuth && input.queueTokenSecret) {
    return { authJwtSecret: input.authJwtSecret, queueTokenSecret: input.queueTokenSecret };
  }
  if (input.persist === false) {
    return {
      authJwtSecret:
        input.authJwtSecret ?? (input.authJwksUrl ? undefined : randomBytes(32).toString('base64url')),
      queueTokenSecret: input.queueTokenSecret ?? randomBytes(32).toString('base64url'),
    };
  }
  const file = join(input.dataDir, 'dev-secrets.json');
  let stored: Partial<Record<'authJwtSecret' | 'queueTokenSecret', string>> = {};
  try {
    stored = JSON.parse(readFileSync(file, 'utf8')) as typeof stored;
  } catch {
    // first start: generated below
  }
  const generated = {
    authJwtSecret: stored.authJwtSecret ?? randomBytes(32).toString('base64url'),
    queueTokenSecret: stored.queueTokenSecret ?? randomBytes(32).toString('base64url'),
  };
  if (
    stored.authJwtSecret !== generated.authJwtSecret ||
    stored.queueTokenSecret !== generated.queueTokenSecret
  ) {
    mkdirSync(input.dataDir, { recursive: true });
    writeFileSync(file, JSON.stringify(generated), { mode: 0o600 });
  }
  return {
    authJwtSecret: input.authJwtSecret ?? (input.authJwksUrl ? undefined : generated.authJwtSecret),
    queueTokenSecret: input.queueTokenSecret ?? generated.queueTokenSecret,
  };
}
