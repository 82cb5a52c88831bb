import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
    expect(loadConfig({ DATABASE_URL: 'mysql://x/db', DEV_AUTH: '1' }).devAuth).toBe(true);
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

  it("checks a deployed function's production needs, and only those (shared/needs.ts)", () => {
    const production = { NODE_ENV: 'production', DATABASE_URL: 'mysql://u:p@db:3306/concert' };
    // notify signs no tokens and reaches neither Redis nor Kafka: its Secret holds none of them.
    expect(loadConfig(production, 'notify').NODE_ENV).toBe('production');
    const problems = (service: string) => {
      try {
        loadConfig(production, service);
        return [];
      } catch (error) {
        return (error as ConfigError).problems.map((p) => p.split(':')[0]);
      }
    };
    expect(problems('hold-seat')).toEqual(['REDIS_URL', 'AUTH_JWT_SECRET', 'QUEUE_TOKEN_SECRET']);
    expect(problems('outbox-relay')).toEqual(['KAFKA_BROKERS']);
  });

  describe('service addresses', () => {
    const problemsOf = (env: Record<string, string>): string[] => {
      try {
        loadConfig(env);
        return [];
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        return error.problems;
      }
    };

    it('names DATABASE_URL and shows the accepted form when it is not a URL, without echoing it', () => {
      const [problem, ...rest] = problemsOf({ DATABASE_URL: 'nonsense-with-secret' });
      expect(rest).toEqual([]);
      expect(problem).toMatch(
        /^DATABASE_URL: not a URL; expected mysql:\/\/user:password@host:3306\/database/,
      );
      expect(problem).not.toContain('nonsense-with-secret');
    });

    it('refuses a database scheme the drivers do not speak, or a URL without host or database', () => {
      expect(problemsOf({ DATABASE_URL: 'postgres://u:p@db:5432/concert' })).toEqual([
        expect.stringMatching(/^DATABASE_URL: scheme "postgres:" is not supported; expected mysql:\/\//),
      ]);
      expect(problemsOf({ DATABASE_URL: 'mysql://u:p@db:3306' })).toEqual([
        expect.stringMatching(/^DATABASE_URL: names no database/),
      ]);
      expect(problemsOf({ DATABASE_URL: 'mysql://u:secret@db/c', DATABASE_READ_URL: 'http://r/c' })).toEqual([
        expect.stringMatching(/^DATABASE_READ_URL: scheme "http:"/),
      ]);
      expect(problemsOf({ DATABASE_URL: 'mariadb://u:p@db:3306/concert' })).toEqual([]);
    });

    it('takes TLS for the database from ssl-mode, as MySQL clients name it, and refuses the unverified kinds', () => {
      const tls = 'mysql://u:p@proxy.example:3306/concert?ssl-mode=VERIFY_IDENTITY';
      expect(problemsOf({ DATABASE_URL: tls, DATABASE_READ_URL: tls.replace('IDENTITY', 'CA') })).toEqual([]);
      expect(problemsOf({ DATABASE_URL: 'mysql://u:p@db/c?ssl-mode=verify_identity' })).toEqual([]);
      expect(problemsOf({ DATABASE_URL: 'mysql://u:p@db/c?ssl-mode=REQUIRED' })).toEqual([
        expect.stringMatching(
          /^DATABASE_URL: ssl-mode "REQUIRED" is not supported; use VERIFY_IDENTITY or VERIFY_CA/,
        ),
      ]);
      expect(problemsOf({ DATABASE_URL: 'mysql://u:p@10.0.0.7/c?ssl-mode=VERIFY_IDENTITY' })).toEqual([
        expect.stringMatching(
          /^DATABASE_URL: ssl-mode=VERIFY_IDENTITY needs the host name .*not an IP address/,
        ),
      ]);
      expect(problemsOf({ DATABASE_URL: 'mysql://u:p@10.0.0.7/c?ssl-mode=VERIFY_CA' })).toEqual([]);
      expect(problemsOf({ DATABASE_URL: tls, DATABASE_CA_FILE: 'aws-rds' })).toEqual([]);
      expect(problemsOf({ DATABASE_URL: `${tls}&ssl={}` })).toEqual([
        expect.stringMatching(/^DATABASE_URL: has both ssl-mode and ssl/),
      ]);
    });

    it('wants a readable PEM for a CA file, and TLS on every URL it is meant for', () => {
      const pem = join(mkdtempSync(join(tmpdir(), 'concert-ca-')), 'ca.pem');
      writeFileSync(pem, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
      const tls = 'mysql://u:p@db/c?ssl-mode=VERIFY_IDENTITY';
      expect(
        problemsOf({
          DATABASE_URL: tls,
          DATABASE_CA_FILE: pem,
          REDIS_URL: 'rediss://:t@r:6379',
          REDIS_CA_FILE: pem,
        }),
      ).toEqual([]);
      expect(
        problemsOf({
          DATABASE_URL: tls,
          DATABASE_READ_URL: 'mysql://u:p@replica/c',
          DATABASE_CA_FILE: pem,
          REDIS_URL: 'redis://r:6379',
          REDIS_CA_FILE: `${pem}.missing`,
        }),
      ).toEqual([
        expect.stringMatching(/^DATABASE_READ_URL: DATABASE_CA_FILE is set but this URL has no ssl-mode/),
        'REDIS_URL: REDIS_CA_FILE is set but the URL is not rediss:// (TLS)',
        `REDIS_CA_FILE: ${pem}.missing is not a readable PEM file`,
      ]);
    });

    it('accepts the Redis forms ioredis connects to and refuses others with them listed', () => {
      for (const url of [
        'redis://127.0.0.1:6379',
        'redis://:pw@r:6379/2',
        'rediss://u:p@r',
        '/run/redis.sock',
      ]) {
        expect(problemsOf({ REDIS_URL: url }), url).toEqual([]);
      }
      const [problem] = problemsOf({ REDIS_URL: 'http://r:6379' });
      expect(problem).toMatch(
        /^REDIS_URL: scheme "http:" is not supported; expected redis:\/\/.*rediss:\/\/.*REDIS_SENTINELS/,
      );
      expect(problemsOf({ REDIS_URL: 'redis://r:6379/zero' })).toEqual([
        expect.stringMatching(/^REDIS_URL: the path must be a database number/),
      ]);
    });

    it('wants host:port lists for KAFKA_BROKERS and REDIS_SENTINELS, naming each bad entry', () => {
      expect(problemsOf({ KAFKA_BROKERS: 'k1:9092, [::1]:9093,kafka-2.internal:19092' })).toEqual([]);
      expect(problemsOf({ KAFKA_BROKERS: 'kafka://k1:9092,k2' })).toEqual([
        'KAFKA_BROKERS: "kafka://k1:9092", "k2" not host:port; expected host:port[,host:port…], e.g. 127.0.0.1:9092',
      ]);
      expect(problemsOf({ REDIS_URL: 'redis://r', REDIS_SENTINELS: 's1:99999' })).toEqual([
        expect.stringMatching(/^REDIS_SENTINELS: "s1:99999" not host:port/),
      ]);
      expect(problemsOf({ REDIS_SENTINELS: 's1:26379' })).toEqual([
        expect.stringMatching(/^REDIS_SENTINELS: needs REDIS_URL/),
      ]);
    });

    it('lists every bad address at once', () => {
      const keys = problemsOf({ DATABASE_URL: 'x', REDIS_URL: 'y://', KAFKA_BROKERS: 'z' }).map(
        (p) => p.split(':')[0],
      );
      expect(keys.sort()).toEqual(['DATABASE_URL', 'KAFKA_BROKERS', 'REDIS_URL']);
    });
  });
});
