/** `emr-gateway local` as a newcomer runs it (child process): it comes up, prints how to use it, serves, and stops cleanly. */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { GatewayClient } from '../../src/client';
import { newDataDir } from '../support/local-stack';

jest.setTimeout(60_000);

const BIN = resolve(__dirname, '../../bin/emr-gateway.js');

/**
 * A PATH whose first directory holds an `npx` and an `emr-gateway` that are not this checkout's: what a
 * package of that name from the registry would be. Running one leaves a mark.
 */
function impostorPath(dir: string): { path: string; mark: string } {
  const bin = join(dir, 'impostor-bin');
  const mark = join(dir, 'impostor-ran');
  mkdirSync(bin);
  for (const name of ['npx', 'emr-gateway']) {
    writeFileSync(join(bin, name), `#!/bin/sh\necho "$0 $*" >> '${mark}'\nexit 99\n`);
    chmodSync(join(bin, name), 0o755);
  }
  return { path: [bin, dirname(process.execPath), '/usr/local/bin', '/usr/bin', '/bin'].join(':'), mark };
}

it('starts on free ports, prints endpoints, credentials and a submit example, serves requests, stops on SIGINT', async () => {
  const outside = newDataDir(); // a directory outside the clone, as a newcomer's second terminal may be
  const child = spawn(process.execPath, [BIN, 'local', '--port', '0', '--aws-port', '0', '--data-dir', join(outside, 'data')], {
    cwd: outside,
    env: { PATH: process.env.PATH, HOME: process.env.HOME },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  try {
    for (let i = 0; i < 300 && !stdout.includes('Stop with Ctrl-C'); i++) await new Promise((r) => setTimeout(r, 100));
    expect(stdout).toContain('the local stack is up');
    expect(stdout).toMatch(/export AWS_ACCESS_KEY_ID=AKIALOCALALICE000001 AWS_SECRET_ACCESS_KEY=local-alice-secret/);
    expect(stdout).toMatch(/emr-gateway submit --cluster j-2AXXXXXXGAPLF --role arn:aws:iam::123456789012:role\/CallerTeamRole\S+ --name hello --wait -- bash -c/);
    const apiUrl = /Gateway API \(AWS SigV4, service execute-api\):\s+(\S+)/.exec(stdout)![1]!;
    const client = new GatewayClient({ endpoint: apiUrl, region: 'us-east-1', credentials: { accessKeyId: 'AKIALOCALALICE000001', secretAccessKey: 'local-alice-secret' } });
    expect(await client.health()).toMatchObject({ status: 'ok' });
  } finally {
    child.kill('SIGINT');
  }
  expect(await exited).toBe(0);
  expect(stderr).toContain('stopped.');
});

it('the printed commands run this checkout\'s CLI, from any directory, whatever npx or PATH would find', async () => {
  const outside = newDataDir();
  const child = spawn(process.execPath, [BIN, 'local', '--port', '0', '--aws-port', '0', '--data-dir', join(outside, 'data')], {
    cwd: outside,
    env: { PATH: process.env.PATH, HOME: process.env.HOME },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  try {
    for (let i = 0; i < 300 && !stdout.includes('Stop with Ctrl-C'); i++) await new Promise((r) => setTimeout(r, 100));
    expect(stdout).not.toMatch(/npx\s+emr-gateway/);
    // The lines to paste as alice: from the block's heading to the blank line that ends it.
    const block = stdout.split('\n\n').find((b) => b.includes('as DataTeamA/alice'));
    expect(block).toBeDefined();
    const lines = block!.split('\n').slice(1).map((l) => l.trim());
    const commands = lines.filter((l) => !l.includes('JOB_ID')); // the placeholder lines are examples to edit
    expect(commands.some((l) => l.startsWith('emr-gateway submit'))).toBe(true);
    const { path, mark } = impostorPath(outside);
    // Pasted into another terminal (another directory); a script needs expand_aliases to honour `alias`.
    const shell = spawnSync('bash', ['-c', ['shopt -s expand_aliases', ...commands, 'emr-gateway list'].join('\n')], {
      cwd: outside,
      env: { PATH: path, HOME: outside, LANG: 'C.UTF-8' },
      encoding: 'utf8',
      timeout: 45_000,
    });
    expect(existsSync(mark)).toBe(false);
    expect({ code: shell.status, stderr: shell.stderr }).toEqual({ code: 0, stderr: expect.any(String) as string });
    expect(shell.stdout).toMatch(/Status\s+COMPLETED/);
    expect(shell.stdout).toMatch(/hello/);
  } finally {
    child.kill('SIGINT');
  }
  expect(await exited).toBe(0);
});
