/**
 * Event-driven completion on the local stack (issue 13), the AWS path end to end: the local EMR's "EMR Step
 * Status Change" events go onto the local EventBridge, whose rule (serverless.yml's EmrStepStatusRule) delivers
 * them to the gateway's step-event handler, which records the change and, at the step's end, completes the
 * execution's wait (SendTaskSuccess on the local Step Functions, through the SDK). The execution runs the real
 * ASL. Faults are injected at the SDK clients' boundary (a middleware that throws before the request is sent,
 * as a throttled or lost call would surface), never inside the code under test.
 *
 * The local waits' heartbeat timeout is 180 s and the reconciler runs every minute: every job here ends long
 * before either could, so an end within the tests' time is the event's doing, or (where a test says so) the
 * reconciler's run the test starts itself.
 */
import { GetExecutionHistoryCommand, SFNClient, type HistoryEvent } from '@aws-sdk/client-sfn';
import type { GatewayClient } from '../../src/client';
import { stepStatusChangeEvent } from '../../src/local/emr/step-event';
import type { LocalStack } from '../../src/local/stack';
import { clientFor, finished, newDataDir, startStack, until } from '../support/local-stack';

jest.setTimeout(60_000);

const CLUSTER = 'j-2AXXXXXXGAPLF';
const ETL = 'arn:aws:iam::123456789012:role/CallerTeamRoleETL';
const command = (args: string[], extra: Record<string, unknown> = {}) => ({ clusterId: CLUSTER, executionRoleArn: ETL, name: 'completion', step: { type: 'command' as const, args }, ...extra });

let stack: LocalStack;
let alice: GatewayClient;
let sfn: SFNClient;
beforeAll(async () => {
  stack = await startStack(newDataDir());
  alice = clientFor(stack, 'alice');
  sfn = new SFNClient({ region: stack.region, endpoint: stack.awsUrl, credentials: { accessKeyId: 'AKIALOCALALICE000001', secretAccessKey: 'local-alice-secret' } });
});
afterAll(async () => {
  sfn.destroy();
  await stack.stop();
});

/** The names of the states the job's execution entered, in order (GetExecutionHistory, as Step Functions has them). */
async function statesEntered(jobId: string): Promise<string[]> {
  const arn = `${stack.gateway.env.stateMachineArn!.replace(':stateMachine:', ':execution:')}:${jobId}`;
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(new GetExecutionHistoryCommand({ executionArn: arn, nextToken }));
    events.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return events.filter((e) => e.type?.endsWith('StateEntered')).map((e) => e.stateEnteredEventDetails?.name ?? '');
}

const execution = (jobId: string) => stack.runner.executions.get(jobId)!;
/** The trail's event types, a state change with its EMR state (`STATE_CHANGED:RUNNING`). */
const trailOf = async (jobId: string) => (await alice.audit(jobId)).events.map((e) => (e.type === 'STATE_CHANGED' ? `${e.type}:${String((e.emr as { state?: string } | undefined)?.state)}` : e.type));
const waitingFor = (jobId: string) => until(async () => ((await stack.gateway.jobs.get(jobId))?.waitToken ? true : undefined));

it('a job ends by its step event: the execution waits on a task token the step-event handler completes, and never polls', async () => {
  const { jobId } = await alice.submit(command(['bash', '-c', 'sleep 0.3']));
  const job = await finished(alice, jobId);
  expect(job.status).toBe('COMPLETED');
  await execution(jobId).done;
  expect(execution(jobId).status).toBe('SUCCEEDED');
  expect(await statesEntered(jobId)).toEqual(['SubmitStep', 'Finished?', 'WaitForStepEnd', 'Finished?', 'Done']);
  expect(execution(jobId).transitions).toBeLessThanOrEqual(12);
  // The token leaves the job once Step Functions has taken it (StepTasks.release), a write after the execution goes on.
  await until(async () => ((await stack.gateway.jobs.get(jobId))?.waitToken === undefined ? true : undefined));
  // Every state EMR went through is on the job's trail, recorded from the events.
  expect(await trailOf(jobId)).toEqual(expect.arrayContaining(['DECISION', 'SUBMITTED', 'STATE_CHANGED:RUNNING', 'COMPLETED']));
});

it('duplicated and late events after the end change nothing: the wait was completed once', async () => {
  const { jobId } = await alice.submit(command(['true']));
  const job = await finished(alice, jobId);
  await execution(jobId).done;
  const before = { trail: await trailOf(jobId), states: await statesEntered(jobId) };
  const step = stack.emr.steps.get(job.step.id!)!;
  const clusterName = stack.emr.clusters.get(CLUSTER)!.name;
  for (const state of ['COMPLETED', 'RUNNING', 'COMPLETED'] as const) stack.events.publishServiceEvent(stepStatusChangeEvent({ ...step, state }, clusterName));
  await new Promise((r) => setTimeout(r, 500));
  expect(await trailOf(jobId)).toEqual(before.trail);
  expect(await statesEntered(jobId)).toEqual(before.states);
});

it('a lost event: the reconciler looks at the waiting job, records the end and completes the wait', async () => {
  const { jobId } = await alice.submit(command(['bash', '-c', 'sleep 1.5']));
  await waitingFor(jobId);
  // Every delivery of the step's end now fails at its DescribeStep: three deliveries (EventBridge's retries), each
  // of three SDK attempts (the functions' clients retry throttling).
  const fault = stack.aws.injectFault('ElasticMapReduce.DescribeStep', 'ThrottlingException');
  const stepId = (await stack.gateway.jobs.get(jobId))!.stepId!;
  await until(() => Promise.resolve(stack.emr.steps.get(stepId)?.state === 'COMPLETED' ? true : undefined));
  await until(() => Promise.resolve(fault.failed >= 9 ? true : undefined), 15_000);
  await new Promise((r) => setTimeout(r, 300));
  fault.disarm();
  expect((await alice.getJob(jobId)).status).not.toBe('COMPLETED');
  expect(execution(jobId).status).toBe('RUNNING');
  const run = await stack.reconciler.run();
  expect(run?.waits.completed).toBe(1);
  expect((await finished(alice, jobId, 5000)).status).toBe('COMPLETED');
  await execution(jobId).done;
  expect(await statesEntered(jobId)).toEqual(['SubmitStep', 'Finished?', 'WaitForStepEnd', 'Finished?', 'Done']);
});

it('the reconciler keeps a long wait alive with a heartbeat: the execution does not wake', async () => {
  const { jobId } = await alice.submit(command(['sleep', '300']));
  await waitingFor(jobId);
  const run = await stack.reconciler.run();
  expect(run?.waits.heartbeat).toBeGreaterThanOrEqual(1);
  expect(await statesEntered(jobId)).toEqual(['SubmitStep', 'Finished?', 'WaitForStepEnd']);
  await alice.cancel(jobId, 'TERMINATE_PROCESS');
  await finished(alice, jobId);
});

it('cancel while waiting: CANCELLED at once, the wait completed by the CANCELLED event', async () => {
  const { jobId } = await alice.submit(command(['sleep', '300']));
  await until(async () => ((await alice.getJob(jobId)).step.state === 'RUNNING' ? true : undefined));
  await waitingFor(jobId);
  await alice.cancel(jobId, 'TERMINATE_PROCESS');
  expect((await finished(alice, jobId, 10_000)).status).toBe('CANCELLED');
  await execution(jobId).done;
  expect(execution(jobId).status).toBe('SUCCEEDED');
  expect(await statesEntered(jobId)).toEqual(['SubmitStep', 'Finished?', 'WaitForStepEnd', 'Finished?', 'Done']);
});

it('the deadline while waiting: the wait times out at it, the step is cancelled, TIMED_OUT; at most 16 transitions', async () => {
  const { jobId } = await alice.submit(command(['sleep', '300'], { timeoutSeconds: 10 }));
  expect((await finished(alice, jobId, 25_000)).status).toBe('TIMED_OUT');
  await execution(jobId).done;
  // The first wait's heartbeat is 1 s under its timeout (the States Language requires it smaller): it wakes 1 s
  // before the deadline, PollStep finds it not yet passed and waits the 2 s left at least; then the deadline.
  expect(await statesEntered(jobId)).toEqual(['SubmitStep', 'Finished?', 'WaitForStepEnd', 'PollStep', 'Finished?', 'WaitForStepEnd', 'PollStep', 'Finished?', 'WaitForStepEnd', 'Finished?', 'Done']);
  expect(execution(jobId).transitions).toBeLessThanOrEqual(16);
  expect(await trailOf(jobId)).toEqual(expect.arrayContaining(['TIMEOUT', 'TIMED_OUT']));
});

it('a crash between recording the end and completing the wait: the event delivered again completes it, once', async () => {
  // The step-event handler's SendTaskSuccess fails, all three SDK attempts of it: as if it had crashed after recording the end.
  const fault = stack.aws.injectFault('AWSStepFunctions.SendTaskSuccess', 'ThrottlingException', 3);
  const { jobId } = await alice.submit(command(['bash', '-c', 'sleep 0.5']));
  const job = await finished(alice, jobId);
  expect(job.status).toBe('COMPLETED');
  await execution(jobId).done; // EventBridge's second delivery completed the wait
  expect(fault.failed).toBe(3);
  expect(fault.calls).toBe(4);
  fault.disarm();
  expect((await trailOf(jobId)).filter((t) => t === 'COMPLETED')).toHaveLength(1);
  expect(await statesEntered(jobId)).toEqual(['SubmitStep', 'Finished?', 'WaitForStepEnd', 'Finished?', 'Done']);
});
