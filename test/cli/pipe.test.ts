/**
 * The CLI's output into a pipe whose reader has gone (`emr-gateway list | head -1`, `... | true`): the rest of
 * the output has nowhere to go, and that is no error of the command. It used to die of an unhandled EPIPE, with
 * a stack trace and exit 1.
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { ROOT } from '../support/cli';

const BIN = resolve(ROOT, 'bin/emr-gateway.js');

it.each(['--help', 'policy --help', '--version'])('emr-gateway %s | true: no EPIPE, no stack trace, the command\'s own exit code', (args) => {
  // `true` exits at once, closing the pipe before the CLI (a node process, slower to start) writes to it.
  const script = `"${process.execPath}" "${BIN}" ${args} | true; exit "\${PIPESTATUS[0]}"`;
  const result = spawnSync('bash', ['-c', script], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
  expect({ code: result.status, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
});
