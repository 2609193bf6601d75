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
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { GatewayApiError, type GatewayClient } from '../../src/client';
import type { LocalStack } from '../../src/local/stack';
import { AWS_CLI, awsCliEnv } from '../support/aws-cli';
import { apiRejection, cliAs, clientFor, finished, KEYS, newDataDir, startStack, until } from '../support/local-stack';

jest.setTimeout(120_000);

const hasCli = existsSync(AWS_CLI);
if (!hasCli) console.warn(`SKIPPED: the AWS CLI part of the step-log tests: ${AWS_CLI} is not installed (apt-get install -y awscli)`);
const itCli = hasCli ? it : it.skip;

const CLUSTER = 'j-2AXXXXXXGAPLF';
const ETL = 'arn:aws:iam::123456789012:role/CallerTeamRoleETL';
const LOG_BUCKET = 'aws-logs-123456789012-us-east-1';
const LOG_URI = `s3://${LOG_BUCKET}/elasticmapreduce/`;
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

const rejection = apiRejection;

const cli = (who: keyof typeof KEYS, ...args: string[]) => cliAs(stack, who, args);

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
    }, 30_000);
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

describe("the job's Spark UI (issue 15, item 3): GET /jobs/{id}/ui, under the job's runtime role", () => {
  const page = async (url: string) => {
    const response = await fetch(url);
    return { status: response.status, html: await response.text(), headers: response.headers };
  };

  it('running: the on-cluster link opens a page with the step running and its log; ended: the persistent one, with the step COMPLETED', async () => {
    const gate = join(gates, 'ui-release');
    const { jobId } = await alice.submit(command(['bash', '-c', `echo "ui step output <b>"; while [ ! -e ${gate} ]; do sleep 0.1; done`]));
    await until(async () => ((await alice.getJob(jobId)).status === 'RUNNING' ? true : undefined), 30_000);
    const running = await alice.appUi(jobId);
    expect(running).toMatchObject({ jobId, kind: 'on-cluster', ready: true });
    const stepId = running.stepId;
    const live = await page(running.url!);
    expect(live.status).toBe(200);
    expect(live.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(live.headers.get('referrer-policy')).toBe('no-referrer');
    expect(live.html).toContain(`<section id="${stepId}">`);
    expect(live.html).toMatch(new RegExp(`id="${stepId}">[\\s\\S]*?State: <strong class="state">RUNNING</strong>`));
    // The step's output is shown as text, never as markup.
    expect(live.html).toContain('ui step output &#60;b&#62;');
    expect(live.html).toContain(ETL);
    writeFileSync(gate, '');
    expect((await finished(alice, jobId)).status).toBe('COMPLETED');
    const ended = await alice.appUi(jobId);
    expect(ended).toMatchObject({ kind: 'persistent', ready: true });
    const history = await page(ended.url!);
    expect(history.status).toBe(200);
    expect(history.html).toMatch(new RegExp(`id="${stepId}">[\\s\\S]*?State: <strong class="state">COMPLETED</strong>`));
    // A link is a credential of its own: a made-up one opens nothing.
    expect((await page(`${ended.url!.slice(0, ended.url!.lastIndexOf('/'))}/not-a-real-token`)).status).toBe(403);
    // carol may not read the job: what GET /jobs/{id} answers her, and no link.
    const asGet = await rejection(carol.getJob(jobId));
    const asUi = await rejection(carol.appUi(jobId));
    expect([asUi.status, asUi.code, asUi.message]).toEqual([asGet.status, asGet.code, asGet.message]);
    // The CLI prints the link (and opens nothing without --open).
    const shown = await cli('alice', 'ui', jobId);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/_local\/emr\/ui\/[A-Za-z0-9_-]+\n$/);
    expect((await page(shown.stdout.trim())).status).toBe(200);
    await expect(cli('carol', 'ui', jobId)).resolves.toMatchObject({ code: 3 });
  });

  it("the local EMR's app-UI operations answer as EMR does: a runtime role required on a runtime-role cluster, unknown ids refused", async () => {
    const { EMRClient, GetOnClusterAppUIPresignedURLCommand, CreatePersistentAppUICommand, GetPersistentAppUIPresignedURLCommand } = await import('@aws-sdk/client-emr');
    const emr = new EMRClient({ region: 'us-east-1', endpoint: stack.awsUrl, credentials: KEYS.alice });
    try {
      const refused = await emr.send(new GetOnClusterAppUIPresignedURLCommand({ ClusterId: CLUSTER })).catch((e: Error) => e);
      expect(refused).toMatchObject({ name: 'ValidationException', message: expect.stringContaining('ExecutionRoleArn') });
      const noRoles = await emr.send(new GetOnClusterAppUIPresignedURLCommand({ ClusterId: 'j-1LEGACYNORUNTIME', ExecutionRoleArn: ETL })).catch((e: Error) => e);
      expect(noRoles).toMatchObject({ name: 'ValidationException', message: 'Runtime roles are not supported on this cluster.' });
      await expect(emr.send(new GetOnClusterAppUIPresignedURLCommand({ ClusterId: 'j-1NOSUCHCLUSTER', ExecutionRoleArn: ETL }))).rejects.toMatchObject({ name: 'InvalidRequestException' });
      const arn = `arn:aws:elasticmapreduce:us-east-1:123456789012:cluster/${CLUSTER}`;
      const created = await emr.send(new CreatePersistentAppUICommand({ TargetResourceArn: arn }));
      expect(created).toMatchObject({ PersistentAppUIId: expect.stringMatching(/^p-[0-9A-F]+$/), RuntimeRoleEnabledCluster: true });
      await expect(emr.send(new CreatePersistentAppUICommand({ TargetResourceArn: arn }))).resolves.toMatchObject({ PersistentAppUIId: created.PersistentAppUIId });
      await expect(emr.send(new GetPersistentAppUIPresignedURLCommand({ PersistentAppUIId: 'p-NOSUCHUI', ExecutionRoleArn: ETL }))).rejects.toMatchObject({ name: 'InvalidRequestException' });
      const dry = await emr.send(new GetOnClusterAppUIPresignedURLCommand({ ClusterId: CLUSTER, ExecutionRoleArn: ETL, DryRun: true }));
      expect(dry.PresignedURLReady).toBe(true);
      expect(dry.PresignedURL).toBeUndefined();
    } finally {
      emr.destroy();
    }
  });
});
