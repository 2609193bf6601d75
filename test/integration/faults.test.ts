/**
 * Faults and races around the workflow (found in review): every one must end with one truthful terminal
 * state, a verifiable audit trail without duplicates, and no EMR step left running unfollowed.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AddJobFlowStepsCommand } from '@aws-sdk/client-emr';
import { submitClientFactory } from '../../src/adapters/emr/emr-steps';
import type { TaskResult } from '../../src/jobs/step-tasks';
import { DEFAULT_POLLING } from '../../src/jobs/workflow-input';
import { verifiedTrail } from '../support/audit';
import { awsError } from '../support/fake-emr';
import { crash, crashAfterEvent, permanent } from '../support/faults';
import { ALICE, CLUSTER, startGateway, submitBody, type TestGateway } from '../support/gateway';

jest.setTimeout(30_000);

let gw: TestGateway | undefined;
afterEach(async () => {
  await gw?.stop();
  gw = undefined;
});

const trail = (jobId: string): Promise<string[]> => verifiedTrail(gw!, jobId);
const input = (jobId: string) => ({ jobId, polling: DEFAULT_POLLING });
const poll = (jobId: string, previous: TaskResult) => gw!.workflow.poll({ ...input(jobId), poll: previous });

it('the submit client makes one attempt only: a lost AddJobFlowSteps response is never retried by the SDK', async () => {
  let requests = 0;
  const server = createServer((req, res) => {
    requests++;
    req.resume();
    req.on('end', () => {
      res.writeHead(503, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(JSON.stringify({ __type: 'InternalServerError', message: 'try again' }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const client = submitClientFactory({ region: 'us-east-1', endpoint, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } })({ accessKeyId: 'ASIA', secretAccessKey: 's', sessionToken: 't' });
    await expect(client.send(new AddJobFlowStepsCommand({ JobFlowId: 'j-1', Steps: [] }))).rejects.toMatchObject({ name: 'InternalServerError' });
    expect(requests).toBe(1);
  } finally {
    server.close();
  }
});

it('a terminal event whose job update failed for good: the job takes the recorded outcome, not FAILED', async () => {
  gw = await startGateway({ wrapDb: crashAfterEvent('COMPLETED', permanent) });
  gw.emr.nextScript = ['RUNNING', 'COMPLETED'];
  const { job } = await gw.service.submit({ caller: { callerArn: ALICE }, body: submitBody() });
  const finished = await gw.finish(job.jobId);
  expect(finished?.status).toBe('COMPLETED');
  expect(await trail(job.jobId)).toEqual(['DECISION', 'SUBMITTED', 'STATE_CHANGED:RUNNING', 'COMPLETED']);
});

it('a cancel between a lost SUBMITTED write and its retry: the step is found and cancelled, not left running', async () => {
  gw = await startGateway({ wrapDb: crashAfterEvent('SUBMITTED', crash) });
  gw.emr.nextScript = ['RUNNING'];
  const held = gw.serviceWith({ start: () => Promise.resolve() });
  const { job } = await held.submit({ caller: { callerArn: ALICE }, body: submitBody() });
  await expect(gw.workflow.submit(input(job.jobId))).rejects.toThrow('crash between the two writes');
  expect(gw.emr.steps).toHaveLength(1);
  await held.cancel({ callerArn: ALICE }, job.jobId);
  let result = await gw.workflow.submit(input(job.jobId));
  for (let i = 0; i < 10 && !result.done; i++) result = await poll(job.jobId, result);
  expect(result.status).toBe('CANCELLED');
  expect(gw.emr.calls('AddJobFlowSteps')).toBe(1);
  expect(gw.emr.steps[0]!.cancelledWith).toBe('SEND_INTERRUPT');
  expect(await trail(job.jobId)).toEqual(['DECISION', 'SUBMITTED', 'CANCEL_REQUESTED', 'STATE_CHANGED:RUNNING', 'STATE_CHANGED:CANCEL_PENDING', 'CANCELLED']);
});

it('the timeout cancel survives a throttled CancelSteps: sent again, the job still ends TIMED_OUT', async () => {
  gw = await startGateway();
  gw.emr.nextScript = ['RUNNING'];
  gw.emr.failNext('CancelSteps', awsError('ThrottlingException', 'Rate exceeded'));
  const { job } = await gw.service.submit({ caller: { callerArn: ALICE }, body: submitBody({ timeoutSeconds: 60 }) });
  const finished = await gw.finish(job.jobId);
  expect(finished?.status).toBe('TIMED_OUT');
  expect(gw.emr.calls('CancelSteps')).toBe(2);
  expect(await trail(job.jobId)).toEqual(['DECISION', 'SUBMITTED', 'STATE_CHANGED:RUNNING', 'TIMEOUT', 'STATE_CHANGED:CANCEL_PENDING', 'TIMED_OUT']);
});

it('a job failed while its step was being added: the step is stopped and the job stays FAILED', async () => {
  gw = await startGateway();
  gw.emr.nextScript = ['RUNNING'];
  const held = gw.serviceWith({ start: () => Promise.resolve() });
  const { job } = await held.submit({ caller: { callerArn: ALICE }, body: submitBody() });
  gw.emr.duringAdd = async () => {
    gw!.emr.duringAdd = undefined;
    await gw!.workflow.fail({ ...input(job.jobId), error: { Error: 'States.Runtime', Cause: 'a concurrent run failed' } });
  };
  const result = await gw.workflow.submit(input(job.jobId));
  expect(result).toMatchObject({ done: true, status: 'FAILED' });
  expect(gw.emr.steps[0]!.cancelledWith).toBe('TERMINATE_PROCESS');
  expect((await gw.jobs.get(job.jobId))?.status).toBe('FAILED');
});

it('transient DescribeStep errors that outlast the retries delay the next poll; they do not fail the job', async () => {
  gw = await startGateway();
  gw.emr.nextScript = ['RUNNING', 'COMPLETED'];
  gw.emr.failNext('DescribeStep', ...Array.from({ length: 12 }, () => awsError('ThrottlingException', 'Rate exceeded')));
  const { job } = await gw.service.submit({ caller: { callerArn: ALICE }, body: submitBody() });
  expect((await gw.finish(job.jobId))?.status).toBe('COMPLETED');
  expect(gw.runner.executions.get(job.jobId)?.events.some((e) => e.type === 'StateCaught')).toBe(true);
});

it('transient AddJobFlowSteps errors that outlast the retries do not fail the job: it is submitted once EMR accepts', async () => {
  gw = await startGateway();
  gw.emr.nextScript = ['RUNNING', 'COMPLETED'];
  // Nine attempts in a row (the Retry's eight and the first) used to exhaust the Retry and end FAILED, the step never added.
  gw.emr.failNext('AddJobFlowSteps', ...Array.from({ length: 12 }, () => awsError('ThrottlingException', 'Rate exceeded')));
  const { job } = await gw.service.submit({ caller: { callerArn: ALICE }, body: submitBody() });
  expect((await gw.finish(job.jobId))?.status).toBe('COMPLETED');
  expect(gw.emr.steps).toHaveLength(1);
  expect(await trail(job.jobId)).toEqual(['DECISION', 'SUBMITTED', 'STATE_CHANGED:RUNNING', 'COMPLETED']);
});

it('EMR throttling every submission until the deadline: the job ends TIMED_OUT without a step, never FAILED', async () => {
  gw = await startGateway();
  // Every AddJobFlowSteps throttled, each attempt 10 simulated seconds after the one before (ListSteps answers:
  // past the deadline, the task must know that no attempt added a step before it may give up).
  gw.emr.chaos = (operation) => {
    if (operation !== 'AddJobFlowSteps') return undefined;
    gw!.clock.advance(10);
    return awsError('ThrottlingException', 'Rate exceeded');
  };
  const { job } = await gw.service.submit({ caller: { callerArn: ALICE }, body: submitBody({ timeoutSeconds: 120 }) });
  const finished = await gw.finish(job.jobId);
  expect(finished).toMatchObject({ status: 'TIMED_OUT', failureDetails: { reason: 'DEADLINE' } });
  expect(finished).not.toHaveProperty('stepId');
  expect(gw.emr.steps).toHaveLength(0);
  expect(await trail(job.jobId)).toEqual(['DECISION', 'TIMED_OUT']);
  expect((await gw.audit.list(job.jobId)).at(-1)?.detail).toMatchObject({ before: 'submission', timeoutSeconds: 120 });
});

it('a RUNNING a poll read before the step\'s COMPLETED event was recorded is not appended after it', async () => {
  gw = await startGateway();
  gw.emr.nextScript = ['RUNNING', 'COMPLETED'];
  const held = gw.serviceWith({ start: () => Promise.resolve() });
  const { job } = await held.submit({ caller: { callerArn: ALICE }, body: submitBody() });
  const submitted = await gw.workflow.submit(input(job.jobId));
  const step = gw.emr.steps[0]!;
  // While the poll's DescribeStep answer (RUNNING) is on its way, the step ends and EventBridge's event is recorded.
  gw.emr.duringDescribe = async () => {
    await gw!.workflow.observeStepEvent({ stepId: step.id, clusterId: CLUSTER, name: step.name, state: 'COMPLETED' });
  };
  expect(await poll(job.jobId, submitted)).toMatchObject({ done: true, status: 'COMPLETED' });
  expect(await gw.jobs.get(job.jobId)).toMatchObject({ status: 'COMPLETED', emrState: 'COMPLETED' });
  expect(await trail(job.jobId)).toEqual(['DECISION', 'SUBMITTED', 'COMPLETED']);
});

it('two different bodies racing on one Idempotency-Key: one job, each decision audited once, the loser told', async () => {
  gw = await startGateway();
  const held = gw.serviceWith({ start: () => Promise.resolve() });
  const results = await Promise.allSettled([
    held.submit({ caller: { callerArn: ALICE }, body: submitBody({ name: 'a' }), idempotencyKey: 'race' }),
    held.submit({ caller: { callerArn: ALICE }, body: submitBody({ name: 'b' }), idempotencyKey: 'race' }),
  ]);
  const won = results.filter((r) => r.status === 'fulfilled');
  expect(won).toHaveLength(1);
  expect(results.find((r) => r.status === 'rejected')).toMatchObject({ reason: { code: 'Conflict' } });
  const job = (won[0] as PromiseFulfilledResult<{ job: { jobId: string; name: string } }>).value.job;
  const decisions = (await gw.audit.list(job.jobId)).filter((e) => e.type === 'DECISION');
  expect(decisions.map((d) => d.subject?.name).sort()).toEqual(['a', 'b']);
});
