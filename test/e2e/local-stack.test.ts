/**
 * The local stack end to end over loopback: the API front (SigV4), the gateway's handlers and workflow, the
 * real ASL on the local Step Functions, the local EMR running real processes, dynalite, local STS, the local
 * KMS sealing the audit trail.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { AddJobFlowStepsCommand, DescribeStepCommand, EMRClient } from '@aws-sdk/client-emr';
import { DescribeKeyCommand, KMSClient, VerifyMacCommand } from '@aws-sdk/client-kms';
import { DescribeExecutionCommand, SFNClient, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { macMessage, verifyChain } from '../../src/audit/chain';
import { GatewayApiError, GatewayClient } from '../../src/client';
import { newJobId } from '../../src/jobs/job-id';
import type { LocalStack } from '../../src/local/stack';
import { clientFor, finished, newDataDir, startStack, until } from '../support/local-stack';

jest.setTimeout(60_000);

const CLUSTER = 'j-2AXXXXXXGAPLF';
const LEGACY = 'j-1LEGACYNORUNTIME';
const ETL = 'arn:aws:iam::123456789012:role/CallerTeamRoleETL';
const command = (args: string[], extra: Record<string, unknown> = {}) => ({ clusterId: CLUSTER, executionRoleArn: ETL, name: 'e2e', step: { type: 'command' as const, args }, ...extra });

let stack: LocalStack;
let alice: GatewayClient;
const dataDir = newDataDir();
beforeAll(async () => {
  stack = await startStack(dataDir);
  alice = clientFor(stack, 'alice');
});
afterAll(() => stack.stop());

async function logOf(stepId: string, stream = 'stdout'): Promise<string> {
  return (await fetch(`${stack.awsUrl}/_local/emr/steps/${stepId}/${stream}`)).text();
}

/** The trail, verified by the gateway (MACs with the local KMS key) and here (structure, against the job's head). */
async function verifiedTrail(client: GatewayClient, jobId: string): Promise<string[]> {
  const trail = await client.audit(jobId);
  expect(trail.verification).toMatchObject({ ok: true, macs: 'verified' });
  expect(verifyChain(jobId, trail.events.map((e) => ({ ...e, jobId })), { head: trail.head, firstType: 'DECISION', now: new Date() })).toMatchObject({ ok: true });
  expect(new Set(trail.events.map((e) => e.keyId))).toEqual(new Set([stack.auditKeyArn]));
  return trail.events.map((e) => e.type);
}

it("a bash -c step as alice: COMPLETED, its output in the logs, run with its runtime role's credentials with alice as source identity", async () => {
  const { jobId } = await alice.submit(command(['bash', '-c', 'echo "hello from EMR"; echo "key=$AWS_ACCESS_KEY_ID"']));
  const job = await finished(alice, jobId);
  expect(job.status).toBe('COMPLETED');
  const log = await logOf(job.step.id!);
  expect(log).toContain('hello from EMR');
  // The key is a session of the runtime role the local STS issued (e2e/step-credentials.test.ts: what the step sees of it).
  expect(stack.sts.session(/^key=(\S+)$/m.exec(log)?.[1])).toMatchObject({ roleArn: ETL, sourceIdentity: 'alice' });
  expect(await verifiedTrail(alice, jobId)).toEqual(expect.arrayContaining(['DECISION', 'SUBMITTED', 'COMPLETED']));
});

it('a failing step: FAILED with FailureDetails (the stderr tail and the log file)', async () => {
  const { jobId } = await alice.submit(command(['bash', '-c', 'echo "cannot read input" >&2; exit 3']));
  const job = await finished(alice, jobId);
  expect(job.status).toBe('FAILED');
  expect(job.failureDetails).toMatchObject({ reason: 'Unknown Error.', message: 'cannot read input', logFile: expect.stringContaining(`${job.step.id}/stderr`) });
});

it('spark-submit missing on this machine: FAILED with a message that says so', async () => {
  const { jobId } = await alice.submit({ clusterId: CLUSTER, executionRoleArn: ETL, name: 'spark', step: { type: 'spark', args: ['s3://bucket/app.py'] } });
  const job = await finished(alice, jobId);
  expect(job.status).toBe('FAILED');
  expect(job.failureDetails?.message).toMatch(/spark-submit is not installed on this machine/);
});

it('cancel a sleep: CANCELLED, and the process is gone', async () => {
  const { jobId } = await alice.submit(command(['sleep', '300']));
  const running = await until(async () => {
    const job = await alice.getJob(jobId);
    return job.step.state === 'RUNNING' ? job : undefined;
  });
  const pid = stack.emr.steps.get(running.step.id!)!.pid!;
  expect(() => process.kill(pid, 0)).not.toThrow();
  await alice.cancel(jobId, 'TERMINATE_PROCESS');
  const job = await finished(alice, jobId);
  expect(job.status).toBe('CANCELLED');
  expect(() => process.kill(pid, 0)).toThrow(/ESRCH/);
  expect(await verifiedTrail(alice, jobId)).toEqual(expect.arrayContaining(['CANCEL_REQUESTED', 'CANCELLED']));
});

it('the denied user: 403 with the reason, and a REJECTED job with its audit entry', async () => {
  const carol = clientFor(stack, 'carol');
  const error = (await carol.submit(command(['true'])).catch((e: unknown) => e)) as GatewayApiError;
  expect(error).toBeInstanceOf(GatewayApiError);
  expect(error).toMatchObject({ status: 403, code: 'Forbidden', message: expect.stringMatching(/implicitly denied: no principals rule|implicitly denied: no statement/) });
  const jobId = error.details?.jobId as string;
  const trail = await stack.gateway.audit.list(jobId);
  expect(trail.map((e) => [e.type, e.decision?.result])).toEqual([['DECISION', 'ImplicitlyDenied']]);
  expect((await stack.gateway.jobs.get(jobId))?.status).toBe('REJECTED');
});

it('a cluster without runtime roles: refused up front with EMR\'s rule (400 on clusterId), nothing recorded, where EMR would refuse the step', async () => {
  const before = (await alice.listJobs({ limit: 100 })).jobs.length;
  await expect(alice.submit(command(['true'], { clusterId: LEGACY }))).rejects.toMatchObject({
    status: 400,
    code: 'ValidationError',
    message: expect.stringMatching(/^clusterId: runtime roles are not enabled on cluster j-1LEGACYNORUNTIME .*"Runtime roles are not supported on this cluster\."/),
  });
  expect((await alice.listJobs({ limit: 100 })).jobs).toHaveLength(before);
  // What the gateway spares the caller: the local EMR's own refusal of a step with a runtime role there.
  const emr = new EMRClient({ region: stack.region, endpoint: stack.awsUrl, credentials: { accessKeyId: 'AKIADIRECT0000000000', secretAccessKey: 'x' } });
  await expect(emr.send(new AddJobFlowStepsCommand({ JobFlowId: LEGACY, ExecutionRoleArn: 'arn:aws:iam::123456789012:role/CallerTeamRoleETL', Steps: [{ Name: 'x', HadoopJarStep: { Jar: 'command-runner.jar', Args: ['true'] } }] }))).rejects.toMatchObject({
    name: 'ValidationException',
    message: 'Runtime roles are not supported on this cluster.',
  });
});

it('unsigned or badly signed requests: 401', async () => {
  const unsigned = await fetch(`${stack.apiUrl}/jobs`);
  expect(unsigned.status).toBe(401);
  expect(await unsigned.json()).toMatchObject({ error: { code: 'Unauthorized', message: expect.stringMatching(/not signed/) } });
  const forged = new GatewayClient({ endpoint: stack.apiUrl, region: stack.region, credentials: { accessKeyId: 'AKIALOCALALICE000001', secretAccessKey: 'guess' } });
  await expect(forged.listJobs()).rejects.toMatchObject({ status: 401, message: expect.stringMatching(/signature does not match/) });
  const stranger = new GatewayClient({ endpoint: stack.apiUrl, region: stack.region, credentials: { accessKeyId: 'AKIASTRANGER00000000', secretAccessKey: 'x' } });
  await expect(stranger.listJobs()).rejects.toMatchObject({ status: 401, message: expect.stringMatching(/not known/) });
  const otherRegion = new GatewayClient({ endpoint: stack.apiUrl, region: 'eu-west-1', credentials: { accessKeyId: 'AKIALOCALALICE000001', secretAccessKey: 'local-alice-secret' } });
  await expect(otherRegion.listJobs()).rejects.toMatchObject({ status: 401 });
});

it("the local EMR keeps EMR's rules for direct callers: runtime roles per cluster, StepConcurrencyLevel", async () => {
  const emr = new EMRClient({ region: stack.region, endpoint: stack.awsUrl, credentials: { accessKeyId: 'AKIADIRECT0000000000', secretAccessKey: 'x' } });
  await expect(emr.send(new AddJobFlowStepsCommand({ JobFlowId: CLUSTER, Steps: [{ Name: 'x', HadoopJarStep: { Jar: 'command-runner.jar', Args: ['true'] } }] }))).rejects.toMatchObject({
    name: 'ValidationException',
    message: 'Runtime roles are required for this cluster. Please specify the role using the ExecutionRoleArn parameter.',
  });
  // The legacy cluster runs one step at a time: the second waits PENDING while the first runs.
  const { StepIds } = await emr.send(
    new AddJobFlowStepsCommand({ JobFlowId: LEGACY, Steps: [1, 2].map((i) => ({ Name: `s${i}`, HadoopJarStep: { Jar: 'command-runner.jar', Args: ['sleep', '1'] } })) }),
  );
  const state = async (id: string) => (await emr.send(new DescribeStepCommand({ ClusterId: LEGACY, StepId: id }))).Step?.Status?.State;
  expect([await state(StepIds![0]!), await state(StepIds![1]!)]).toEqual(['RUNNING', 'PENDING']);
  await until(async () => ((await state(StepIds![1]!)) === 'COMPLETED' ? true : undefined));
  emr.destroy();
});

describe('the audit key (local KMS)', () => {
  it('seals every event: KMS VerifyMac on the AWS port accepts each MAC and refuses an edited message; the key is kept private', async () => {
    const { jobId } = await alice.submit(command(['true']));
    await finished(alice, jobId);
    const kms = new KMSClient({ region: stack.region, endpoint: stack.awsUrl, credentials: { accessKeyId: 'AKIADIRECT0000000000', secretAccessKey: 'x' } });
    const { KeyMetadata } = await kms.send(new DescribeKeyCommand({ KeyId: 'alias/emr-gateway-audit' }));
    expect(KeyMetadata).toMatchObject({ Arn: stack.auditKeyArn, KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC', KeyState: 'Enabled', MacAlgorithms: ['HMAC_SHA_256'] });
    const { events } = await alice.audit(jobId);
    for (const e of events) {
      const out = await kms.send(new VerifyMacCommand({ KeyId: e.keyId, Message: macMessage(e.hash), Mac: Buffer.from(e.mac!, 'base64'), MacAlgorithm: 'HMAC_SHA_256' }));
      expect(out).toMatchObject({ MacValid: true, KeyId: stack.auditKeyArn });
    }
    const edited = macMessage('0'.repeat(64));
    await expect(kms.send(new VerifyMacCommand({ KeyId: stack.auditKeyArn, Message: edited, Mac: Buffer.from(events[0]!.mac!, 'base64'), MacAlgorithm: 'HMAC_SHA_256' }))).rejects.toMatchObject({ name: 'KMSInvalidMacException' });
    expect(statSync(join(dataDir, 'kms', 'keys.json')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dataDir, 'kms')).mode & 0o777).toBe(0o700);
    kms.destroy();
  });
});

describe('the reconciler (every minute on the local stack)', () => {
  it('an execution stopped through the AWS port is seen over the local Step Functions (DescribeExecution) and followed again', async () => {
    const { jobId } = await alice.submit(command(['sleep', '4']));
    await until(async () => ((await alice.getJob(jobId)).step.state === 'RUNNING' ? true : undefined));
    const sfn = new SFNClient({ region: stack.region, endpoint: stack.awsUrl, credentials: { accessKeyId: 'AKIADIRECT0000000000', secretAccessKey: 'x' } });
    const executionArn = `${stack.gateway.env.stateMachineArn!.replace(':stateMachine:', ':execution:')}:${jobId}`;
    await sfn.send(new StopExecutionCommand({ executionArn }));
    await until(async () => ((await sfn.send(new DescribeExecutionCommand({ executionArn }))).status === 'ABORTED' ? true : undefined));
    const run = await stack.reconciler.run({ idleSeconds: 0 });
    expect(run?.repaired).toEqual(expect.arrayContaining([{ jobId, action: 'refollowed', execution: jobId, found: 'ABORTED', next: `${jobId}-2` }]));
    expect((await finished(alice, jobId)).status).toBe('COMPLETED');
    // The new execution ends as soon as its next poll sees the job's end (the step's event may have recorded it first).
    await until(async () => ((await sfn.send(new DescribeExecutionCommand({ executionArn: `${executionArn}-2` }))).status === 'SUCCEEDED' ? true : undefined));
    expect((await verifiedTrail(alice, jobId)).filter((type) => type !== 'STATE_CHANGED')).toEqual(['DECISION', 'SUBMITTED', 'RECONCILED', 'COMPLETED']);
    sfn.destroy();
  });
});

describe('restart', () => {
  it('stopped mid-job and started again: nothing lost; the dead process ends INTERRUPTED, audit verifies', async () => {
    const key = stack.auditKeyArn;
    const { jobId } = await alice.submit(command(['sleep', '300']));
    await until(async () => ((await alice.getJob(jobId)).step.state === 'RUNNING' ? true : undefined));
    const pending = await alice.submit(command(['bash', '-c', 'echo after restart']), { idempotencyKey: 'queued-before-restart' });
    const before = (await alice.listJobs({ limit: 100 })).jobs.length;
    await stack.stop();

    stack = await startStack(dataDir);
    // The stack answers at once; the unfinished jobs are followed again in the background (after a crash under
    // load there are hundreds, and the start used to wait for every one of them).
    let resumedYet = false;
    void stack.startup.then(() => (resumedYet = true));
    expect(resumedYet).toBe(false);
    alice = clientFor(stack, 'alice');
    // The same audit key: events sealed before the restart still verify (verifiedTrail, below).
    expect(stack.auditKeyArn).toBe(key);
    expect(stack.resumed).toEqual(expect.arrayContaining([jobId]));
    const job = await finished(alice, jobId);
    expect(job.status).toBe('INTERRUPTED');
    expect(await verifiedTrail(alice, jobId)).toEqual(expect.arrayContaining(['DECISION', 'SUBMITTED', 'INTERRUPTED']));
    expect((await finished(alice, pending.jobId)).status).toBe('COMPLETED');
    expect((await alice.listJobs({ limit: 100 })).jobs.length).toBe(before);
  });
});

describe('the local AWS port under bad input (it must not take the stack down)', () => {
  it('refuses web pages (Origin) and foreign Host headers', async () => {
    const fromPage = await fetch(`${stack.awsUrl}/_local/health`, { headers: { origin: 'https://evil.example' } });
    expect(fromPage.status).toBe(403);
  });
  it('bad AddJobFlowSteps arguments are a ValidationException, and the stack keeps working', async () => {
    const emr = new EMRClient({ region: stack.region, endpoint: stack.awsUrl, credentials: { accessKeyId: 'AKIADIRECT0000000000', secretAccessKey: 'x' } });
    const send = (Args: unknown) => emr.send(new AddJobFlowStepsCommand({ JobFlowId: LEGACY, Steps: [{ Name: 'bad', HadoopJarStep: { Jar: 'command-runner.jar', Args: Args as string[] } }] }));
    await expect(send(['echo', 'a\u0000b'])).rejects.toMatchObject({ name: 'ValidationException', message: expect.stringMatching(/without NUL/) });
    const raw = await fetch(stack.awsUrl, { method: 'POST', headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'ElasticMapReduce.AddJobFlowSteps' }, body: JSON.stringify({ JobFlowId: LEGACY, Steps: [{ Name: 'x', HadoopJarStep: { Jar: 'command-runner.jar', Args: 5 } }] }) });
    expect(raw.status).toBe(400);
    for (const body of ['null', '[1]', '{']) {
      const r = await fetch(stack.awsUrl, { method: 'POST', headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'ElasticMapReduce.DescribeCluster' }, body });
      expect(r.status).toBe(400);
    }
    const proto = await fetch(stack.awsUrl, { method: 'POST', headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'ElasticMapReduce.constructor' }, body: '{}' });
    expect(proto.status).toBe(400);
    const { StepIds } = await send(['bash', '-c', 'echo still alive']);
    await until(async () => ((await emr.send(new DescribeStepCommand({ ClusterId: LEGACY, StepId: StepIds![0]! }))).Step?.Status?.State === 'COMPLETED' ? true : undefined));
    emr.destroy();
  });
  it('steps whose program is missing fail once each, and never exceed the concurrency', async () => {
    const emr = new EMRClient({ region: stack.region, endpoint: stack.awsUrl, credentials: { accessKeyId: 'AKIADIRECT0000000000', secretAccessKey: 'x' } });
    const step = (name: string, Args: string[]) => ({ Name: name, HadoopJarStep: { Jar: 'command-runner.jar', Args } });
    const { StepIds } = await emr.send(new AddJobFlowStepsCommand({ JobFlowId: LEGACY, Steps: [step('a', ['spark-submit', 'x.py']), step('b', ['bash', '-c', 'echo b']), step('c', ['bash', '-c', 'echo c'])] }));
    const states = async () => Promise.all(StepIds!.map(async (id) => (await emr.send(new DescribeStepCommand({ ClusterId: LEGACY, StepId: id }))).Step?.Status?.State));
    await until(async () => ((await states()).every((s) => s === 'COMPLETED' || s === 'FAILED') ? true : undefined));
    expect(await states()).toEqual(['FAILED', 'COMPLETED', 'COMPLETED']);
    expect(await logOf(StepIds![1]!)).toBe('b\n'); // ran once
    emr.destroy();
  });
});

it('a burst of submissions: at most 4 of the workflows\' task invocations are in the Lambda runtime at once, and every job ends', async () => {
  const accepted = await Promise.all(Array.from({ length: 16 }, (_, i) => alice.submit(command(['true'], { name: `burst ${i}` }))));
  const ended = await Promise.all(accepted.map(({ jobId }) => finished(alice, jobId)));
  expect(ended.map((j) => j.status)).toEqual(Array(16).fill('COMPLETED'));
  expect(stack.functions.mostTasksAtOnce).toBeGreaterThan(1);
  expect(stack.functions.mostTasksAtOnce).toBeLessThanOrEqual(4);
});

it('the local Lambda runtime: a function\'s error crosses from its worker thread by name and message (what the ASL\'s Retry and Catch match), and the API answers from it', async () => {
  const error = (await stack.functions.invoke('PollStepFunctionArn', { jobId: 42 }).catch((e: unknown) => e)) as Error;
  expect(error).toBeInstanceOf(Error);
  expect(error.name).toBe('ZodError');
  expect(error.message).toContain('jobId');
  // A job the workflow cannot find: the task's own error name, as the ASL's Catch sees it in Lambda.
  const missing = (await stack.functions.invoke('SubmitStepFunctionArn', { jobId: newJobId(new Date()), polling: { initialSeconds: 1, factor: 1, maxSeconds: 1 } }).catch((e: unknown) => e)) as Error;
  expect({ name: missing.name, message: missing.message }).toEqual({ name: 'NotFoundError', message: expect.stringContaining('does not exist') });
  expect(await alice.health()).toMatchObject({ status: 'ok' });
});

it('the local Lambda runtime: a worker that dies (killed, out of memory) is replaced, as Lambda starts a new sandbox, and the stack goes on', async () => {
  const worker = await (stack.functions as unknown as { worker: Promise<Worker> }).worker;
  await worker.terminate();
  expect(await alice.health()).toMatchObject({ status: 'ok' });
  const { jobId } = await alice.submit(command(['true']));
  expect((await finished(alice, jobId)).status).toBe('COMPLETED');
});

it('faults injected at the AWS port: two on one operation fail in turn, each counts the calls, and a fault disarmed twice takes no other with it', async () => {
  const kms = new KMSClient({ region: stack.region, endpoint: stack.awsUrl, credentials: { accessKeyId: 'AKIADIRECT0000000000', secretAccessKey: 'x' }, maxAttempts: 1 });
  const describe = () => kms.send(new DescribeKeyCommand({ KeyId: 'alias/emr-gateway-audit' })).then(() => 'ok', (e: Error) => e.name);
  const first = stack.aws.injectFault('TrentService.DescribeKey', 'ThrottlingException', 1);
  const second = stack.aws.injectFault('TrentService.DescribeKey', 'ThrottlingException', 1);
  const other = stack.aws.injectFault('TrentService.DescribeKey', 'ThrottlingException', 0);
  expect([await describe(), await describe(), await describe()]).toEqual(['ThrottlingException', 'ThrottlingException', 'ok']);
  expect([first, second, other].map((f) => ({ calls: f.calls, failed: f.failed }))).toEqual([{ calls: 3, failed: 1 }, { calls: 3, failed: 1 }, { calls: 3, failed: 0 }]);
  first.disarm();
  first.disarm();
  second.disarm();
  await describe();
  expect(other.calls).toBe(4);
  other.disarm();
  kms.destroy();
});
