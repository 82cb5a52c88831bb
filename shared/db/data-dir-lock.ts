import { mkdirSync, readFileSync, rmdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, join, relative, resolve, sep } from 'node:path';
import type { LockOptions } from 'proper-lockfile';

/** Who holds a data directory, written inside the lock so that a refused process can name it. */
export interface LockOwner {
  pid: number;
  host: string;
  name: string;
  command: string;
  since: string;
}

export interface DataDirLock {
  release(): Promise<void>;
}

/**
 * The lock's age after which proper-lockfile calls it abandoned; the holder refreshes it at half that.
 * Only a lock held on another host waits this long: on this one a dead holder's pid gives it away at once.
 */
const staleMs = 10_000;

/** Directories this process holds, so that its own pid in an owner record is not taken for a live holder. */
const heldHere = new Set<string>();

export class DataDirLockedError extends Error {
  constructor(
    readonly dataDir: string,
    readonly owner: LockOwner | null,
  ) {
    super(lockedMessage(dataDir, owner));
    this.name = 'DataDirLockedError';
  }
}

function lockedMessage(dataDir: string, owner: LockOwner | null): string {
  const holder = owner
    ? `pid ${owner.pid}${owner.host === hostname() ? '' : ` on host ${owner.host}`} (${owner.name}: ${owner.command}, since ${owner.since})`
    : 'another process that is starting';
  return (
    `DATA_DIR ${dataDir} is in use by ${holder}; the embedded database allows one process at a time: ` +
    'stop that process, give this one another DATA_DIR, or set DATABASE_URL to run on MySQL/MariaDB'
  );
}

/**
 * Makes this process the only one using `dataDir`: sql.js keeps the database in memory and rewrites the
 * file, so a second process would silently overwrite the first one's acknowledged writes. The owner record
 * inside the lock directory also keeps proper-lockfile from deleting the lock by age alone (it only removes
 * empty ones), so every takeover of an abandoned lock goes through `takeOver`, one process at a time.
 */
export async function lockDataDir(
  dataDir: string,
  options: { name: string; onCompromised?: (error: Error) => void },
): Promise<DataDirLock> {
  // Loaded here: serve.ts imports this module for its error type, and functions on MySQL never lock.
  const { lock } = await import('proper-lockfile');
  const dir = resolve(dataDir);
  mkdirSync(dir, { recursive: true });
  const lockDir = join(dir, '.lock');
  let compromised = false;
  const lockOptions = {
    lockfilePath: lockDir,
    realpath: false,
    stale: staleMs,
    onCompromised(error: Error) {
      compromised = true;
      heldHere.delete(dir);
      (options.onCompromised ?? exitOnCompromise(dataDir))(error);
    },
  };

  let release: () => Promise<void>;
  try {
    release = await lock(dir, lockOptions);
  } catch (error) {
    if (!isBusy(error)) throw error;
    release = await takeOver(lock, dir, dataDir, lockOptions);
  }
  heldHere.add(dir);
  writeOwner(lockDir, options.name);

  const ownerFile = join(lockDir, 'owner.json');
  // proper-lockfile removes its lock at exit only while the directory is empty.
  const onExit = () => {
    if (compromised || !heldHere.has(dir)) return;
    rmSync(ownerFile, { force: true });
    try {
      rmdirSync(lockDir);
    } catch {
      // already gone
    }
  };
  process.on('exit', onExit);
  return {
    async release() {
      process.off('exit', onExit);
      if (compromised || !heldHere.delete(dir)) return;
      rmSync(ownerFile, { force: true });
      await release();
    },
  };
}

/** Removes a lock whose holder is gone, under a second lock so that two starters cannot both do it. */
async function takeOver(
  lock: (file: string, options: LockOptions) => Promise<() => Promise<void>>,
  dir: string,
  dataDir: string,
  lockOptions: LockOptions,
): Promise<() => Promise<void>> {
  const lockDir = join(dir, '.lock');
  const releaseGuard = await lock(join(dir, '.takeover'), {
    realpath: false,
    stale: staleMs,
    retries: { retries: 20, minTimeout: 25, maxTimeout: 250 },
  });
  try {
    const owner = readOwner(lockDir);
    // No record: its holder is between creating the lock and writing the record, or died right there (then
    // proper-lockfile removes the empty lock once it is stale).
    if (!owner || !isAbandoned(owner, dir, lockDir)) throw new DataDirLockedError(dataDir, owner);
    rmSync(lockDir, { recursive: true, force: true });
    try {
      return await lock(dir, lockOptions);
    } catch (error) {
      if (isBusy(error)) throw new DataDirLockedError(dataDir, readOwner(lockDir));
      throw error;
    }
  } finally {
    await releaseGuard().catch(() => undefined);
  }
}

function isAbandoned(owner: LockOwner, dir: string, lockDir: string): boolean {
  try {
    if (Date.now() - statSync(lockDir).mtimeMs > staleMs) return true;
  } catch {
    return true;
  }
  if (owner.host !== hostname()) return false;
  if (owner.pid === process.pid) return !heldHere.has(dir);
  try {
    process.kill(owner.pid, 0);
    return false;
  } catch (error) {
    // EPERM: alive, but another user's.
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

function isBusy(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  // ENOTEMPTY: proper-lockfile found the lock stale by age and could not delete it for its owner record.
  return code === 'ELOCKED' || code === 'ENOTEMPTY' || code === 'EEXIST';
}

function readOwner(lockDir: string): LockOwner | null {
  try {
    return JSON.parse(readFileSync(join(lockDir, 'owner.json'), 'utf8')) as LockOwner;
  } catch {
    return null;
  }
}

function writeOwner(lockDir: string, name: string): void {
  const owner: LockOwner = {
    pid: process.pid,
    host: hostname(),
    name,
    command: commandLine(),
    since: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
  };
  // proper-lockfile takes a changed mtime for a lock someone else took: keep the one it set.
  const { mtime } = statSync(lockDir);
  writeFileSync(join(lockDir, 'owner.json'), JSON.stringify(owner));
  utimesSync(lockDir, mtime, mtime);
}

function commandLine(): string {
  const cwd = process.cwd();
  const args = process.argv.slice(1).map((arg) => (arg.startsWith(cwd + sep) ? relative(cwd, arg) : arg));
  return [basename(process.execPath), ...args].join(' ');
}

function exitOnCompromise(dataDir: string): (error: Error) => void {
  return (error) => {
    // Another process took the directory (this one was frozen past the stale limit): stop writing now.
    process.stderr.write(`lost the lock on DATA_DIR ${dataDir} (${error.message}); exiting\n`);
    process.exit(70);
  };
}
