/** `emr-gateway local` as a newcomer runs it (child process): it comes up, prints how to use it, serves, and stops cleanly. */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { GatewayClient } from '../../src/client';
import { newDataDir } from '../support/local-stack';

jest.setTimeout(60_000);

it('starts on free ports, prints endpoints, credentials and a submit example, serves requests, stops on SIGINT', async () => {
  const child = spawn(process.execPath, [resolve(__dirname, '../../bin/emr-gateway.js'), 'local', '--port', '0', '--aws-port', '0', '--data-dir', newDataDir()], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  for (let i = 0; i < 300 && !stdout.includes('Stop with Ctrl-C'); i++) await new Promise((r) => setTimeout(r, 100));
  expect(stdout).toContain('the local stack is up');
  expect(stdout).toMatch(/export AWS_ACCESS_KEY_ID=AKIALOCALALICE000001 AWS_SECRET_ACCESS_KEY=local-alice-secret/);
  expect(stdout).toMatch(/npx emr-gateway submit --cluster j-2AXXXXXXGAPLF --role arn:aws:iam::123456789012:role\/CallerTeamRole\S+ --name hello --wait -- bash -c/);
  const apiUrl = /Gateway API \(AWS SigV4, service execute-api\):\s+(\S+)/.exec(stdout)![1]!;
  const client = new GatewayClient({ endpoint: apiUrl, region: 'us-east-1', credentials: { accessKeyId: 'AKIALOCALALICE000001', secretAccessKey: 'local-alice-secret' } });
  expect(await client.health()).toMatchObject({ status: 'ok' });
  child.kill('SIGINT');
  expect(await exited).toBe(0);
  expect(stderr).toContain('stopped.');
});
