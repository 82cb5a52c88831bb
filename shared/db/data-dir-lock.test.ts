import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataDirLockedError, type LockOwner, lockDataDir } from './data-dir-lock.ts';

const freshDir = () => mkdtempSync(join(tmpdir(), 'concert-lock-'));

/** A lock as a process that is gone would have left it. */
function leftBehind(dir: string, owner: Partial<LockOwner>, ageMs = 0): void {
  mkdirSync(join(dir, '.lock'));
  const record: LockOwner = {
    pid: 1,
    host: hostname(),
    name: 'all-in-one',
    command: 'node server/main.ts',
    since: '2030-01-01T00:00:00Z',
    ...owner,
  };
  writeFileSync(join(dir, '.lock', 'owner.json'), JSON.stringify(record));
  const at = new Date(Date.now() - ageMs);
  utimesSync(join(dir, '.lock'), at, at);
}

async function refusal(dir: string): Promise<DataDirLockedError> {
  const error = await lockDataDir(dir, { name: 'charge-points' }).then(
    async (lock) => {
      await lock.release();
      throw new Error('expected the lock to be refused');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DataDirLockedError);
  return error as DataDirLockedError;
}

describe('data directory lock', () => {
  it('refuses a second holder, naming the first, and is free again once released', async () => {
    const dir = freshDir();
    const lock = await lockDataDir(dir, { name: 'all-in-one' });
    const owner = JSON.parse(readFileSync(join(dir, '.lock', 'owner.json'), 'utf8')) as LockOwner;
    expect(owner).toMatchObject({ pid: process.pid, host: hostname(), name: 'all-in-one' });

    const error = await refusal(dir);
    expect(error.message).toMatch(
      new RegExp(`^DATA_DIR .* is in use by pid ${process.pid} \\(all-in-one: .*, since .*Z\\); `),
    );
    expect(error.message).not.toContain('\n');

    await lock.release();
    expect(existsSync(join(dir, '.lock'))).toBe(false);
    await (await lockDataDir(dir, { name: 'charge-points' })).release();
  });

  it('takes over at once a lock whose holder on this host is dead', async () => {
    const dir = freshDir();
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    leftBehind(dir, { pid: dead });
    const lock = await lockDataDir(dir, { name: 'charge-points' });
    const owner = JSON.parse(readFileSync(join(dir, '.lock', 'owner.json'), 'utf8')) as LockOwner;
    expect(owner.pid).toBe(process.pid);
    await lock.release();
  });

  it("waits out another host's lock until it is stale", async () => {
    const dir = freshDir();
    leftBehind(dir, { host: 'elsewhere', pid: 4242 });
    expect((await refusal(dir)).message).toContain(
      'pid 4242 on host elsewhere (all-in-one: node server/main.ts',
    );

    const old = freshDir();
    leftBehind(old, { host: 'elsewhere', pid: 4242 }, 60_000);
    await (await lockDataDir(old, { name: 'charge-points' })).release();
  });

  it('leaves alone a lock whose holder has not written its record yet', async () => {
    const dir = freshDir();
    mkdirSync(join(dir, '.lock'));
    expect((await refusal(dir)).message).toContain('in use by another process that is starting');
  });
});
