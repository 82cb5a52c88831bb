import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveSecrets } from './dev-secrets.ts';

describe('resolveSecrets', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  const freshDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'dev-secrets-'));
    dirs.push(dir);
    return dir;
  };

  it('keeps generated stand-ins in DATA_DIR so local processes agree', () => {
    const dataDir = freshDir();
    const first = resolveSecrets({ dataDir });
    expect(resolveSecrets({ dataDir })).toEqual(first);
  });

  it('writes nothing when told not to persist (production: read-only root, no token secrets handed to notify)', () => {
    const dataDir = join(freshDir(), 'never-created');
    const secrets = resolveSecrets({ dataDir, persist: false });
    expect(secrets.queueTokenSecret.length).toBeGreaterThanOrEqual(32);
    expect(() => readdirSync(dataDir)).toThrow();
  });
});
