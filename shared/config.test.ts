import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.ts';

describe('loadConfig', () => {
  it('defaults to the embedded all-in-one mode with dev auth and a demo seed', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      PORT: 8080,
      embedded: true,
      devAuth: true,
      seedDemo: true,
      HOLD_TTL_SECONDS: 300,
    });
  });

  it('uses the real services when their URLs are set, with dev auth off by default', () => {
    const config = loadConfig({
      DATABASE_URL: 'mysql://u:p@127.0.0.1:3306/db',
      REDIS_URL: 'redis://127.0.0.1:6379',
      KAFKA_BROKERS: '127.0.0.1:9092',
    });
    expect(config).toMatchObject({ embedded: false, devAuth: false, seedDemo: false });
    expect(loadConfig({ DATABASE_URL: 'mysql://x', DEV_AUTH: '1' }).devAuth).toBe(true);
  });

  it('lists every bad key at once', () => {
    try {
      loadConfig({ PORT: 'eighty', HOLD_TTL_SECONDS: '0', DB_DRIVER: 'oracle', AUTH_JWT_SECRET: 'short' });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const keys = (error as ConfigError).problems.map((p) => p.split(':')[0]);
      expect(keys.sort()).toEqual(['AUTH_JWT_SECRET', 'DB_DRIVER', 'HOLD_TTL_SECONDS', 'PORT']);
    }
  });

  it('refuses to run production without real secrets or with dev tokens', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', DEV_AUTH: '1' })).toThrow(
      /AUTH_JWT_SECRET[\s\S]*QUEUE_TOKEN_SECRET[\s\S]*DEV_AUTH/,
    );
  });
});
