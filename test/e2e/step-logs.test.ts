/**
 * Step logs on the real local stack through the AWS path (issue 15, item 2): the local EMR uploads each step's
 * logs, gzipped, under its cluster's LogUri in the local S3 (EMR's layout), and GET /jobs/{id}/logs reads them
 * there with the gateway's role, authorized as GET /jobs/{id} is. Logs of a finished and of a running job, through
 * the API, the CLI (`emr-gateway logs`, `--follow`) and the AWS CLI (`aws s3 ls`/`cp` against the local S3, skipped
 * with the reason where it is absent); the 400s, the 404s and the bound of an answer.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { GatewayApiError, type GatewayClient } from '../../src/client';
import type { LocalStack } from '../../src/local/stack';
import { AWS_CLI, awsCliEnv } from '../support/aws-cli';
import { clientFor, finished, KEYS, newDataDir, startStack, until } from '../support/local-stack';

jest.setTimeout(120_000);

const hasCli = existsSync(AWS_CLI);
if (!hasCli) console.warn(`SKIPPED: the AWS CLI part of the step-log tests: ${AWS_CLI} is not installed (apt-get install -y awscli)`);
const itCli = hasCli ? it : it.skip;

const CLUSTER = 'j-2AXXXXXXGAPLF';
const ETL = 'arn:aws:iam::123456789012:role/CallerTeamRoleETL';
const LOG_BUCKET = 'aws-logs-123456789012-us-east-1';
const LOG_URI = `s3://${LOG_BUCKET}/elasticmapreduce/`;
const BIN = resolve(__dirname, '../../bin/emr-gateway.js');
const command = (args: string[]) => ({ clusterId: CLUSTER, executionRoleArn: ETL, name: 'logs-e2e', step: { type: 'command' as const, args } });

let stack: LocalStack;
let alice: GatewayClient;
let carol: GatewayClient;
const gates = mkdtempSync(join(tmpdir(), 'emr-gateway-log-gates-'));

beforeAll(async () => {
  stack = await startStack(newDataDir());
  alice = clientFor(stack, 'alice');
  carol = clientFor(stack, 'carol');
});
afterAll(() => stack?.stop());

const rejection = (promise: Promise<unknown>): Promise<GatewayApiError> =>
  promise.then(
    () => {
      throw new Error('expected an error');
    },
    (e: unknown) => {
      expect(e).toBeInstanceOf(GatewayApiError);
      return e as GatewayApiError;
    },
  );

function cli(who: keyof typeof KEYS, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { PATH: process.env.PATH, HOME: '/nonexistent', AWS_ACCESS_KEY_ID: KEYS[who].accessKeyId, AWS_SECRET_ACCESS_KEY: KEYS[who].secretAccessKey, EMR_GATEWAY_ENDPOINT: stack.apiUrl, AWS_CONFIG_FILE: '/nonexistent', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent' };
  return new Promise((done) => execFile(process.execPath, [BIN, ...args], { env, timeout: 60_000 }, (error, stdout, stderr) => done({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr })));
}

const awsCli = (...args: string[]) => promisify(execFile)(AWS_CLI, ['--endpoint-url', stack.awsUrl, ...args], { env: awsCliEnv(KEYS.alice), timeout: 60_000 });

describe('a finished job', () => {
  let jobId: string;
  let stepId: string;
  beforeAll(async () => {
    ({ jobId } = await alice.submit(command(['bash', '-c', 'for i in $(seq 1 2500); do echo "out $i"; done; echo "warning: late" >&2; printf "no newline"'])));
    const job = await finished(alice, jobId);
    expect(job.status).toBe('COMPLETED');
    stepId = job.step.id!;
  });

  it('its logs through GET /jobs/{id}/logs, read from the LogUri where EMR keeps them, bounded and saying so', async () => {
    const last = await alice.logs(jobId, { tail: 3 });
    expect(last).toMatchObject({ jobId, stepId, stream: 'stdout', logUri: `${LOG_URI}${CLUSTER}/steps/${stepId}/stdout.gz`, lines: ['out 2498', 'out 2499', 'out 2500'], partial: 'no newline', more: false, cutLines: 0 });
    expect(last.offset).toBe(last.nextOffset - 'out 2498\nout 2499\nout 2500\n'.length);
    expect(last.size).toBe(last.nextOffset + 'no newline'.length);
    // The default: the last 1000 lines (the answer says where they start: the log holds more before them).
    const byDefault = await alice.logs(jobId);
    expect(byDefault.lines).toHaveLength(1000);
    expect(byDefault.lines[0]).toBe('out 1501');
    expect(byDefault.offset).toBeGreaterThan(0);
    // From an offset: every line once, in order.
    const all = await alice.logs(jobId, { offset: 0 });
    expect(all.lines).toEqual(Array.from({ length: 2500 }, (_, i) => `out ${i + 1}`));
    await expect(alice.logs(jobId, { stream: 'stderr' })).resolves.toMatchObject({ lines: ['warning: late'] });
    const controller = await alice.logs(jobId, { stream: 'controller' });
    expect(controller.lines.join('\n')).toMatch(/INFO startExec 'bash -c for i in/);
    expect(controller.lines.at(-1)).toMatch(/INFO Step succeeded with exitCode 0 and took \d+ seconds$/);
  });

  it('a reader who may not read the job gets what GET /jobs/{id} answers; bad parameters are 400s naming them; a log not written is a 404 saying so', async () => {
    const asGet = await rejection(carol.getJob(jobId));
    const asLogs = await rejection(carol.logs(jobId));
    expect([asLogs.status, asLogs.code, asLogs.message]).toEqual([asGet.status, asGet.code, asGet.message]);
    const unknown = await rejection(alice.logs('job-01JDZZZZZZZZZZZZZZZZZZZZZZ'));
    const unknownGet = await rejection(alice.getJob('job-01JDZZZZZZZZZZZZZZZZZZZZZZ'));
    expect([unknown.status, unknown.code]).toEqual([unknownGet.status, unknownGet.code]);
    expect(unknown.status).toBe(404);
    for (const [query, field] of [[{ stream: 'stdin' }, 'stream'], [{ tail: '0' }, 'tail'], [{ tail: '10001' }, 'tail'], [{ tail: '2.5' }, 'tail'], [{ tail: 'ten' }, 'tail'], [{ offset: '-1' }, 'offset'], [{ tail: '1', offset: '0' }, 'offset'], [{ lines: '5' }, '']] as const) {
      const error = await rejection(alice.logs(jobId, query as never));
      expect([error.status, error.code]).toEqual([400, 'ValidationError']);
      expect(error.message).toContain(field || 'lines');
    }
    // A command-runner step writes no syslog: not there, with a code a caller can act on.
    const syslog = await rejection(alice.logs(jobId, { stream: 'syslog' }));
    expect([syslog.status, syslog.code]).toEqual([404, 'LogNotYetWritten']);
    expect(syslog.message).toContain(`${LOG_URI}${CLUSTER}/steps/${stepId}/syslog.gz`);
  });

  it('`emr-gateway logs` reads them through the API: the last lines, another stream, JSON', async () => {
    const tail = await cli('alice', 'logs', jobId, '--tail', '2');
    expect(tail).toMatchObject({ code: 0, stdout: 'out 2499\nout 2500\nno newline\n' });
    await expect(cli('alice', 'logs', jobId, '--stderr')).resolves.toMatchObject({ code: 0, stdout: 'warning: late\n' });
    const json = JSON.parse((await cli('alice', 'logs', jobId, '--stream', 'controller', '--output', 'json')).stdout) as { stream: string; lines: string[] };
    expect(json.stream).toBe('controller');
    await expect(cli('carol', 'logs', jobId)).resolves.toMatchObject({ code: 3 });
    await expect(cli('alice', 'logs', jobId, '--stream', 'syslog')).resolves.toMatchObject({ code: 4, stderr: expect.stringContaining('LogNotYetWritten') });
    await expect(cli('alice', 'logs', jobId, '--tail', '0')).resolves.toMatchObject({ code: 2 });
  });

  itCli('the same objects with the AWS CLI: aws s3 ls and aws s3 cp against the local S3, gzipped, in EMR\'s layout', async () => {
    const { stdout: listing } = await awsCli('s3', 'ls', `s3://${LOG_BUCKET}/elasticmapreduce/${CLUSTER}/steps/${stepId}/`);
    expect(listing.trim().split('\n').map((l) => l.trim().split(/\s+/).at(-1)).sort()).toEqual(['controller.gz', 'stderr.gz', 'stdout.gz']);
    const file = join(gates, 'stdout.gz');
    await awsCli('s3', 'cp', `s3://${LOG_BUCKET}/elasticmapreduce/${CLUSTER}/steps/${stepId}/stdout.gz`, file);
    const text = gunzipSync(readFileSync(file)).toString('utf8');
    expect(text.startsWith('out 1\nout 2\n')).toBe(true);
    expect(text.endsWith('out 2500\nno newline')).toBe(true);
  });
});

describe('a running job', () => {
  it('its logs while it runs (uploaded as EMR does, every few seconds here), `logs --follow` to its end, and the AWS CLI sees them too', async () => {
    const gate = join(gates, 'release');
    const { jobId } = await alice.submit(command(['bash', '-c', `echo "step started"; while [ ! -e ${gate} ]; do sleep 0.1; done; echo "step done"`]));
    // Before the first upload the log is not there yet: a 404 that says so (or, before the step is added, NoStep).
    const early = await alice.logs(jobId).catch((e: GatewayApiError) => e);
    if (early instanceof GatewayApiError) expect(['LogNotYetWritten', 'NoStep']).toContain(early.code);
    const first = await until(async () => {
      const window = await alice.logs(jobId).catch(() => undefined);
      return window?.lines.length ? window : undefined;
    }, { what: 'the running step\'s first upload', timeoutMs: 30_000 });
    expect(first.lines).toEqual(['step started']);
    expect((await alice.getJob(jobId)).status).toBe('RUNNING');
    const { stepId } = first;
    if (hasCli) {
      const { stdout } = await awsCli('s3', 'ls', `s3://${LOG_BUCKET}/elasticmapreduce/${CLUSTER}/steps/${stepId}/`);
      expect(stdout).toContain('stdout.gz');
    }
    // --follow prints what is there, then what comes, and ends with the job.
    const following = cli('alice', 'logs', jobId, '--follow');
    await new Promise((r) => setTimeout(r, 3000));
    writeFileSync(gate, '');
    const followed = await following;
    expect(followed).toMatchObject({ code: 0, stdout: 'step started\nstep done\n' });
    expect((await finished(alice, jobId)).status).toBe('COMPLETED');
    // Following from the first answer's nextOffset: only what came after.
    await expect(alice.logs(jobId, { offset: first.nextOffset })).resolves.toMatchObject({ lines: ['step done'], more: false });
  });
});
