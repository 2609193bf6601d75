/** The data directory's lock: one stack per directory; a lock left by a stack that has gone does not block. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireStackLock, DataDirectoryInUseError, LOCK_FILE } from '../../src/local/lock';
import { procStat } from '../../src/local/procfs';
import { thrown } from '../support/thrown';

let dir: string;
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'emr-gateway-lock-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const lockFile = () => join(dir, LOCK_FILE);
const content = () => JSON.parse(readFileSync(lockFile(), 'utf8')) as Record<string, unknown>;
const deadPid = () => Number(spawnSync('sh', ['-c', 'echo $$'], { encoding: 'utf8' }).stdout.trim());

it('is taken once: a second taker is refused with a message naming the holder and its endpoints', () => {
  const lock = acquireStackLock(dir);
  expect(content()).toMatchObject({ pid: process.pid });
  const starting = thrown(() => acquireStackLock(dir));
  expect(starting).toBeInstanceOf(DataDirectoryInUseError);
  expect((starting as Error).message).toBe(`the data directory ${dir} is in use by another local stack (pid ${process.pid}, still starting). Stop that one first, or give this one another --data-dir.`);

  lock.update({ apiUrl: 'http://127.0.0.1:3000', awsUrl: 'http://127.0.0.1:4566' });
  expect((thrown(() => acquireStackLock(dir)) as Error).message).toContain(`(pid ${process.pid}, gateway http://127.0.0.1:3000, AWS endpoint http://127.0.0.1:4566)`);
  expect(readdirSync(dir)).toEqual([LOCK_FILE]); // nothing left aside

  lock.release();
  expect(existsSync(lockFile())).toBe(false);
  acquireStackLock(dir).release();
});

it('takes over a lock whose process has gone, one whose pid now belongs to another process, and one that is not a lock', () => {
  writeFileSync(lockFile(), JSON.stringify({ pid: deadPid(), apiUrl: 'http://127.0.0.1:1', awsUrl: 'http://127.0.0.1:2' }));
  let lock = acquireStackLock(dir);
  expect(content()).toMatchObject({ pid: process.pid });
  lock.release();

  if (procStat(process.pid)) {
    // A pid that is alive, but not since the time the lock recorded: reused by another process.
    writeFileSync(lockFile(), JSON.stringify({ pid: process.ppid, pidStart: '1' }));
    lock = acquireStackLock(dir);
    expect(content()).toMatchObject({ pid: process.pid });
    lock.release();
  }

  writeFileSync(lockFile(), '{"pi');
  lock = acquireStackLock(dir);
  expect(content()).toMatchObject({ pid: process.pid });
  lock.release();
  expect(readdirSync(dir)).toEqual([]);
});

it('a live holder that did not record its start time still holds it; release leaves another stack\'s lock alone', () => {
  writeFileSync(lockFile(), JSON.stringify({ pid: process.ppid }));
  expect(thrown(() => acquireStackLock(dir))).toBeInstanceOf(DataDirectoryInUseError);
  rmSync(lockFile());
  const lock = acquireStackLock(dir);
  writeFileSync(lockFile(), JSON.stringify({ pid: process.ppid, token: 'theirs' })); // say, a stack that took a stale lock over
  lock.release();
  expect(content()).toEqual({ pid: process.ppid, token: 'theirs' });
});
