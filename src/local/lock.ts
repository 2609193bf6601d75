/**
 * One data directory, one stack: `DATA_DIR/stack.lock` names the stack that holds the directory (its pid, the
 * start time of that pid on Linux, its endpoints once they listen). It is created whole or not at all (written
 * aside, then hard-linked into place, which fails if the name exists), so a second stack either creates it or
 * finds it complete. A lock whose process is gone (a SIGKILLed or crashed stack, or a pid since reused by
 * another program, told apart by its start time) is stale: it is renamed aside atomically, so of two stacks
 * starting at once only one takes it over, and the other finds the new lock.
 */
import { randomBytes } from 'node:crypto';
import { linkSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { procStat } from './procfs';

export interface LockOwner {
  pid: number;
  /** The kernel's start time of `pid` (Linux): a pid reused by another process has another one. */
  pidStart?: string;
  apiUrl?: string;
  awsUrl?: string;
  /** Unique to one acquisition: a stack releases only its own lock. */
  token?: string;
}

export class DataDirectoryInUseError extends Error {
  override readonly name = 'DataDirectoryInUseError';

  constructor(
    readonly dataDir: string,
    readonly owner: LockOwner | undefined,
  ) {
    const who = owner ? `pid ${owner.pid}, ${owner.apiUrl && owner.awsUrl ? `gateway ${owner.apiUrl}, AWS endpoint ${owner.awsUrl}` : 'still starting'}` : 'being locked by another start right now';
    super(`the data directory ${dataDir} is in use by another local stack (${who}). Stop that one first, or give this one another --data-dir.`);
  }
}

export interface StackLock {
  readonly file: string;
  /** Records the stack's endpoints in the lock, for the message a second stack prints. */
  update(urls: { apiUrl: string; awsUrl: string }): void;
  /** Removes the lock if it is still this stack's. */
  release(): void;
}

export const LOCK_FILE = 'stack.lock';

/** Takes the data directory's lock for this process, or throws DataDirectoryInUseError naming its holder. */
export function acquireStackLock(dataDir: string): StackLock {
  const file = join(dataDir, LOCK_FILE);
  const mine: LockOwner = { pid: process.pid, ...optional('pidStart', processStart(process.pid)), token: randomBytes(12).toString('hex') };
  for (let attempt = 0; attempt < 5; attempt++) {
    if (create(file, mine)) return held(file, mine);
    const owner = read(file);
    if (owner === 'missing') continue; // released in between: try again
    // A lock is written whole (create, update): one that cannot be read was not written by a stack, so it is stale.
    if (owner !== 'unreadable' && ownerAlive(owner)) throw new DataDirectoryInUseError(dataDir, owner);
    takeOverStale(file, owner === 'unreadable' ? undefined : owner, dataDir);
  }
  throw new DataDirectoryInUseError(dataDir, undefined);
}

function held(file: string, mine: LockOwner): StackLock {
  let current = mine;
  return {
    file,
    update(urls) {
      current = { ...current, ...urls };
      const aside = `${file}.${process.pid}.new`;
      writeFileSync(aside, JSON.stringify(current), { mode: 0o600 });
      renameSync(aside, file); // atomic: a reader sees the old lock or the new one, never a part
    },
    release() {
      const owner = read(file);
      if (typeof owner === 'object' && owner.token === mine.token) unlinkSync(file);
    },
  };
}

/** Creates the lock with its content in one step; false if one exists. */
function create(file: string, owner: LockOwner): boolean {
  const aside = `${file}.${process.pid}.${owner.token ?? ''}`;
  writeFileSync(aside, JSON.stringify(owner), { mode: 0o600 });
  try {
    linkSync(aside, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    unlinkSync(aside);
  }
}

function read(file: string): LockOwner | 'missing' | 'unreadable' {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw error;
  }
  try {
    const owner = JSON.parse(text) as Partial<LockOwner>;
    return typeof owner.pid === 'number' && Number.isInteger(owner.pid) && owner.pid > 0 ? (owner as LockOwner) : 'unreadable';
  } catch {
    return 'unreadable';
  }
}

/**
 * Moves a stale lock aside (atomic: if two stacks find it stale, one rename succeeds). If what was moved is not
 * the stale lock that was read (another stack took it over in between), it is put back and that stack wins.
 */
function takeOverStale(file: string, stale: LockOwner | undefined, dataDir: string): void {
  const aside = `${file}.stale.${process.pid}`;
  try {
    renameSync(file, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return; // someone else moved it: try again
    throw error;
  }
  const moved = read(aside);
  if (typeof moved === 'object' && (moved.pid !== stale?.pid || moved.token !== stale.token) && ownerAlive(moved)) {
    try {
      linkSync(aside, file);
    } finally {
      unlinkSync(aside);
    }
    throw new DataDirectoryInUseError(dataDir, moved);
  }
  unlinkSync(aside);
}

/** Whether the lock's process still runs: it exists, is not a zombie, and (where known) started when the lock says. */
function ownerAlive(owner: LockOwner): boolean {
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const stat = procStat(owner.pid);
  if (stat === undefined) return true; // no /proc: the pid is all there is to go by
  if (stat.state === 'Z') return false;
  return owner.pidStart === undefined || owner.pidStart === stat.start;
}

function processStart(pid: number): string | undefined {
  return procStat(pid)?.start;
}

function optional<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}
