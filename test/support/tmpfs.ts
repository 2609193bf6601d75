/**
 * A small tmpfs, to run out of disk space for real (ENOSPC from the kernel, not a mock), and a filler file that
 * takes what is left of it. Mounting needs root (or CAP_SYS_ADMIN); where it is not permitted, the tests that
 * need one skip and say why.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type Mount = { ok: true; dir: string; unmount(): void } | { ok: false; reason: string };

/** Mounts a tmpfs of `size` (e.g. "4m") at `dir` (created; a fresh directory by default). */
export function mountTmpfs(size: string, dir = mkdtempSync(join(tmpdir(), 'emr-gateway-tmpfs-'))): Mount {
  mkdirSync(dir, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    const stderr = String((error as { stderr?: Buffer }).stderr ?? '').trim();
    return { ok: false, reason: `cannot mount a tmpfs here (${stderr || (error as Error).message}): needs root` };
  }
  return {
    ok: true,
    dir,
    unmount() {
      try {
        execFileSync('umount', [dir], { stdio: 'pipe' });
      } catch {
        execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Fills the file system holding `file` until the kernel says ENOSPC; returns the bytes written. */
export function fillDisk(file: string): number {
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(16 * 1024, 1);
  let written = 0;
  try {
    for (;;) written += writeSync(fd, chunk);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    closeSync(fd);
  }
  // What is left is less than a chunk: take it byte by byte (a few thousand writes at most).
  const rest = openSync(file, 'a');
  const one = Buffer.alloc(512, 1);
  try {
    for (;;) written += writeSync(rest, one);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    closeSync(rest);
  }
  return written;
}
