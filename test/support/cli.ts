import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

export const ROOT = resolve(__dirname, '../..');
export const EXAMPLE = resolve(ROOT, 'config/example.yaml');
const BIN = resolve(ROOT, 'bin/emr-gateway.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real CLI (bin → dist bundle, built by `npm test` before jest) as a child process. */
export function cli(...args: string[]): CliResult {
  const result = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: ROOT, timeout: 30_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}
