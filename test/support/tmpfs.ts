/**
 * A small tmpfs, to run out of disk space for real (ENOSPC from the kernel, not a mock), and a filler file that
 * takes what is left of it. Mounting needs root (or CAP_SYS_ADMIN); where it is not permitted, the tests that
 * need one skip and say why.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type Mount = { ok: true; dir: string; readOnly(on: boolean): void; unmount(): void } | { ok: false; reason: string };

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
    /** Remounts it read-only (writes fail with EROFS) or writable again; fails while a file is open for writing. */
    readOnly(on: boolean) {
      execFileSync('mount', ['-o', `remount,${on ? 'ro' : 'rw'}`, dir], { stdio: 'pipe' });
    },
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

/**
 * Fills the file system holding `file` until the kernel says ENOSPC; returns the bytes written. `pad`: appends
 * newlines to `file` instead of writing a new filler, to take the room left in the last page of a JSONL file
 * (its readers skip empty lines) once a filler has taken the rest.
 */
export function fillDisk(file: string, { pad = false }: { pad?: boolean } = {}): number {
  let written = 0;
  // Smaller and smaller writes, down to one byte, for what is left after each.
  for (const [i, size] of [16 * 1024, 512, 1].entries()) {
    const fd = openSync(file, pad || i > 0 ? 'a' : 'w');
    const chunk = Buffer.alloc(size, pad ? 0x0a : 1);
    try {
      for (;;) written += writeSync(fd, chunk);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
    } finally {
      closeSync(fd);
    }
  }
  return written;
}
