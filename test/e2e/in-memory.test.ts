/**
 * The in-memory local stack (tests and benches; `emr-gateway local --in-memory`): DynamoDB in memory, so nothing of
 * the jobs and audit trail is written to disk or survives the stop; it takes only a data directory no stack has used,
 * since the other emulators' state there would outlive the tables.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { GatewayClient } from '../../src/client';
import type { LocalStack } from '../../src/local/stack';
import { cli, ROOT } from '../support/cli';
import { clientFor, finished, KEYS, newDataDir, startStack } from '../support/local-stack';
import { until } from '../support/wait';

jest.setTimeout(60_000);

const CLUSTER = 'j-2AXXXXXXGAPLF';
const ETL = 'arn:aws:iam::123456789012:role/CallerTeamRoleETL';

describe('a stack with DynamoDB in memory', () => {
  const dataDir = newDataDir();
  let stack: LocalStack;
  beforeAll(async () => {
    stack = await startStack(dataDir, { inMemory: true });
  });
  afterAll(() => stack.stop());

  it('runs a job to its end, with its verified audit trail, and writes no table to the data directory', async () => {
    const alice = clientFor(stack, 'alice');
    const { jobId } = await alice.submit({ clusterId: CLUSTER, executionRoleArn: ETL, name: 'in-memory', step: { type: 'command', args: ['bash', '-c', 'echo hi'] } });
    expect((await finished(alice, jobId)).status).toBe('COMPLETED');
    expect((await alice.audit(jobId)).verification).toMatchObject({ ok: true, macs: 'verified' });
    expect(existsSync(join(dataDir, 'dynamodb'))).toBe(false);
    expect(readdirSync(dataDir).filter((f) => /\.(ldb|log)$|^LOCK$|^CURRENT$/.test(f))).toEqual([]);
  });
});

it('refuses a data directory that holds anything: its EMR steps, keys and logs would outlive the tables', async () => {
  const used = newDataDir();
  mkdirSync(join(used, 'emr'));
  writeFileSync(join(used, 'emr', 'journal'), '');
  await expect(startStack(used, { inMemory: true })).rejects.toThrow(`an in-memory stack needs an empty data directory; ${used} holds emr (leave out --data-dir: a fresh temporary one is used)`);
  expect(readdirSync(used)).toEqual(['emr']); // nothing started in it, nothing created
});

describe('emr-gateway local --in-memory', () => {
  it('is refused with --data-dir, as a usage error', () => {
    const result = cli('local', '--in-memory', '--data-dir', newDataDir(), '--port', '0', '--aws-port', '0');
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--in-memory keeps nothing on disk: it takes no --data-dir/);
  });

  it('runs a job, says its data is in memory, and leaves nothing behind after Ctrl-C (its temporary directory removed)', async () => {
    const tmp = newDataDir(); // the child's TMPDIR: whatever it creates there is seen
    const child = spawn(process.execPath, [resolve(ROOT, 'bin/emr-gateway.js'), 'local', '--in-memory', '--port', '0', '--aws-port', '0'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, LANG: 'C.UTF-8', TMPDIR: tmp, EMR_GATEWAY_DATA_DIR: join(tmp, 'not-used') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
    await until(() => Promise.resolve(stdout.includes('Stop with Ctrl-C') ? true : undefined), { timeoutMs: 30_000, intervalMs: 50, what: 'the local stack coming up' });
    expect(stdout).toContain('Data: in memory (gone at the stop)');
    expect(stdout).toContain('the jobs and audit trails end with the stack (in memory)');
    const apiUrl = /Gateway API \(AWS SigV4, service execute-api\):\s+(\S+)/.exec(stdout)![1]!;
    const alice = new GatewayClient({ endpoint: apiUrl, region: 'us-east-1', credentials: KEYS.alice });
    const { jobId } = await alice.submit({ clusterId: CLUSTER, executionRoleArn: ETL, name: 'cli-in-memory', step: { type: 'command', args: ['true'] } });
    expect((await finished(alice, jobId)).status).toBe('COMPLETED');
    expect(readdirSync(tmp)).toEqual([expect.stringMatching(/^emr-gateway-in-memory-/)]);
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(readdirSync(tmp)).toEqual([]); // EMR_GATEWAY_DATA_DIR, a default, was not used either
  });
});
