import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url).pathname;
const dataDir = mkdtempSync(join(tmpdir(), 'migrate-command-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('index.mjs --migrate (the pre-rollout Job)', () => {
  it('applies the migrations and exits without serving', () => {
    const run = spawnSync(
      process.execPath,
      ['--import', 'tsx', join(root, 'triggers/outbox-relay/main.ts'), '--migrate'],
      {
        cwd: root,
        env: { PATH: process.env.PATH, NODE_ENV: 'test', DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'info' },
        encoding: 'utf8',
        timeout: 30_000,
      },
    );
    expect(run.signal, run.stderr).toBeNull();
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/database migrations applied/);
    expect(run.stdout).not.toMatch(/listening/);
    expect(existsSync(join(dataDir, 'concert.sqlite'))).toBe(true);
  }, 40_000);

  it('needs only DATABASE_URL in production, not what the function itself needs', () => {
    const run = spawnSync(
      process.execPath,
      ['--import', 'tsx', join(root, 'triggers/outbox-relay/main.ts'), '--migrate'],
      {
        cwd: root,
        env: { PATH: process.env.PATH, NODE_ENV: 'production' },
        encoding: 'utf8',
        timeout: 30_000,
      },
    );
    expect(run.status).toBe(78);
    expect(run.stderr).toMatch(/DATABASE_URL: required in production/);
    expect(run.stderr).not.toMatch(/KAFKA_BROKERS/);
  }, 40_000);
});
