/**
 * A small private state file of the local stack (the KMS keys, the IAM roles and policies): a 0700 directory
 * of its own in the data directory, and a JSON file (0600) written whole and renamed over the old one, so a
 * crash never leaves half of it.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';

/** `dir`, created 0700 (and tightened to 0700 if it exists). */
export function privateDir(dir: string): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  return dir;
}

/** The parsed file (tightened to 0600), or undefined if there is none yet. */
export function readPrivateJson(file: string): unknown {
  if (!existsSync(file)) return undefined;
  chmodSync(file, 0o600);
  return JSON.parse(readFileSync(file, 'utf8')) as unknown;
}

/** Written whole, then renamed over the old file. */
export function writePrivateJson(file: string, value: unknown): void {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
  renameSync(temporary, file);
}
