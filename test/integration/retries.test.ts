/**
 * Retries on the real workflow: the ASL (statemachines/submit-job.asl.json) run by aws-local-stepfunctions with
 * every Task routed to the real task code, dynalite, EMR at the SDK (FakeEmr). Each attempt is a new EMR step
 * under the job's one decision, named with its attempt's marker, audited; and the faults and races: a crash between
 * recording an attempt and starting it, or between adding its step and recording it; completion events that never
 * come (the reconciler ends the job); a cancel during the pause between attempts.
 */
import { parse, stringify } from 'yaml';
import definition from '../../statemachines/submit-job.asl.json';
import { Reconciler } from '../../src/jobs/reconciler';
import { workflowRoutes } from '../../src/jobs/task-routes';
import { DEFAULT_POLLING } from '../../src/jobs/workflow-input';
import type { Job } from '../../src/jobs/model';
import { LocalWorkflowRunner, type TaskHandler } from '../../src/local/sfn/runner';
import { ValidationError, ForbiddenError } from '../../src/errors';
import { verifiedTrail } from '../support/audit';
import { GATEWAY_CONFIG_YAML } from '../support/config';
import { crash, crashAfterEvent } from '../support/faults';
import { ALICE, CLUSTER, role, runnerExecutions, startGateway, submitBody, untilDue, type GatewayOptions, type TestGateway } from '../support/gateway';
import { until, untilJob } from '../support/wait';

jest.setTimeout(30_000);

let gw: TestGateway;
let runners: LocalWorkflowRunner[] = [];
async function start(options: GatewayOptions = {}): Promise<void> {
  gw = await startGateway(options);
}
afterEach(async () => {
  for (const runner of runners) await runner.stop();
  runners = [];
  await gw.stop();
});

const trail = (jobId: string): Promise<string[]> => verifiedTrail(gw, jobId, { headAtEnd: true });
const retry = (overrides: Record<string, unknown> = {}) => ({ maxAttempts: 3, intervalSeconds: 30, ...overrides });
const failure = (n: number) => ({ Reason: 'Unknown Error.', Message: `attempt ${n} failed`, LogFile: `s3://logs/steps/${n}/stderr.gz` });

async function submitAndFinish(body: Record<string, unknown>): Promise<Job> {
  const { job } = await gw.service.submit({ caller: { callerArn: ALICE }, body });
  const finished = await gw.finish(job.jobId);
  return finished!;
}

describe('notifications of a retried job', () => {
  it("each attempt's PENDING and RUNNING is a delivery of its own (its own id), none taken for the first attempt's again", async () => {
    const withNotification = GATEWAY_CONFIG_YAML.replace(
      'policies:\n',
      'notifications:\n  - { name: states, states: [PENDING, RUNNING, COMPLETED], jobs: { clusters: [j-2AXXXXXXGAPLF] }, sns: { topicArn: "arn:aws:sns:us-east-1:123456789012:jobs" } }\npolicies:\n',
    );
    await start({ configYaml: withNotification });
    gw.emr.queue.push({ script: ['PENDING', 'RUNNING', 'FAILED'], failure: failure(1) }, { script: ['PENDING', 'RUNNING', 'FAILED'], failure: failure(2) }, { script: ['PENDING', 'RUNNING', 'COMPLETED'] });
    const job = await submitAndFinish(submitBody({ retry: retry() }));
    expect(job.status).toBe('COMPLETED');
    // No notifier runs here: every delivery the job's states made due is still in its outbox.
    const ids = (job.notifyDue ?? []).map((d) => d.id.slice(job.jobId.length + 1)).sort();
    expect(ids).toEqual(['COMPLETED/states', 'PENDING/states', 'PENDING/states/2', 'PENDING/states/3', 'RUNNING/states', 'RUNNING/states/2', 'RUNNING/states/3']);
  });
});

describe('a flaky step', () => {
  beforeEach(() => start());

  it('fails twice and succeeds on its third attempt: three steps, each its own marker, the attempts recorded and audited', async () => {
    gw.emr.queue.push({ script: ['RUNNING', 'FAILED'], failure: failure(1) }, { script: ['RUNNING', 'FAILED'], failure: failure(2) }, { script: ['RUNNING', 'COMPLETED'] });
    const started = gw.clock.now().getTime();
    const job = await submitAndFinish(submitBody({ retry: retry({ backoff: 2 }) }));
    expect(job).toMatchObject({ status: 'COMPLETED', attempt: 3, emrState: 'COMPLETED', stepId: gw.emr.steps[2]!.id });
    expect(job.nextAttemptAt).toBeUndefined();
    expect(job.failureDetails).toBeUndefined();
    // One step per attempt, named so that a retried submission of attempt n finds only attempt n's step.
    expect(gw.emr.steps.map((s) => s.name)).toEqual([`nightly etl [${job.jobId}]`, `nightly etl [${job.jobId}#2]`, `nightly etl [${job.jobId}#3]`]);
    expect(gw.emr.steps.every((s) => s.input.ExecutionRoleArn === role('CallerTeamRoleETL'))).toBe(true);
    expect(job.attempts).toEqual([
      { attempt: 1, stepId: gw.emr.steps[0]!.id, state: 'FAILED', submittedAt: expect.any(String) as unknown, endedAt: expect.any(String) as unknown, failureDetails: { reason: 'Unknown Error.', message: 'attempt 1 failed', logFile: 's3://logs/steps/1/stderr.gz' } },
      { attempt: 2, stepId: gw.emr.steps[1]!.id, state: 'FAILED', submittedAt: expect.any(String) as unknown, endedAt: expect.any(String) as unknown, failureDetails: { reason: 'Unknown Error.', message: 'attempt 2 failed', logFile: 's3://logs/steps/2/stderr.gz' } },
    ]);
    // The pauses: 30 s, then 60 s (backoff 2), each from the attempt's end.
    const [first, second] = job.attempts!;
    expect(Date.parse(job.submittedAt!) - Date.parse(second!.endedAt)).toBeGreaterThanOrEqual(60_000);
    expect(Date.parse(gw.emr.steps[1]!.created.toISOString()) - Date.parse(first!.endedAt)).toBeGreaterThanOrEqual(30_000);
    expect(gw.clock.now().getTime() - started).toBeGreaterThanOrEqual(90_000);
    expect(await trail(job.jobId)).toEqual([
      'DECISION',
      'SUBMITTED', 'STATE_CHANGED:RUNNING', 'ATTEMPT_ENDED',
      'ATTEMPT_STARTED', 'SUBMITTED', 'STATE_CHANGED:RUNNING', 'ATTEMPT_ENDED',
      'ATTEMPT_STARTED', 'SUBMITTED', 'STATE_CHANGED:RUNNING', 'COMPLETED',
    ]);
    const events = await gw.audit.list(job.jobId);
    expect(events.filter((e) => e.type === 'SUBMITTED').map((e) => e.emr)).toEqual(gw.emr.steps.map((s, i) => expect.objectContaining({ stepId: s.id, attempt: i + 1 }) as unknown));
    expect(events.filter((e) => e.type === 'ATTEMPT_ENDED').map((e) => [e.emr?.attempt, e.emr?.state, e.detail?.nextAttempt, e.detail?.intervalSeconds])).toEqual([[1, 'FAILED', 2, 30], [2, 'FAILED', 3, 60]]);
    expect(events.at(-1)?.emr).toMatchObject({ stepId: gw.emr.steps[2]!.id, attempt: 3, state: 'COMPLETED' });
    // One decision for all of them: no attempt is decided again.
    expect(events.filter((e) => e.type === 'DECISION')).toHaveLength(1);
    expect(gw.runner.executions.get(job.jobId)?.status).toBe('SUCCEEDED');
    // The path through the state machine: each retry through RetryDue? and the WaitToRetry pause back to SubmitStep.
    const states = gw.history(job.jobId).filter((e) => String(e.type).endsWith('StateEntered')).map((e) => (e.stateEnteredEventDetails as { name: string }).name);
    expect(states.filter((name) => ['SubmitStep', 'RetryDue?', 'WaitToRetry'].includes(name))).toEqual(['SubmitStep', 'RetryDue?', 'WaitToRetry', 'SubmitStep', 'RetryDue?', 'WaitToRetry', 'SubmitStep']);
  });

  it('fails on every attempt: the job ends FAILED with the last attempt\'s details once maxAttempts are spent', async () => {
    gw.emr.queue.push({ script: ['FAILED'], failure: failure(1) }, { script: ['FAILED'], failure: failure(2) });
    const job = await submitAndFinish(submitBody({ retry: retry({ maxAttempts: 2, intervalSeconds: 5 }) }));
    expect(job).toMatchObject({ status: 'FAILED', attempt: 2, failureDetails: { message: 'attempt 2 failed' } });
    expect(gw.emr.calls('AddJobFlowSteps')).toBe(2);
    expect(await trail(job.jobId)).toEqual(['DECISION', 'SUBMITTED', 'ATTEMPT_ENDED', 'ATTEMPT_STARTED', 'SUBMITTED', 'FAILED']);
  });

  it('INTERRUPTED is retried only when `on` names it; CANCELLED (EMR cancelled it for another step) never is', async () => {
    gw.emr.queue.push({ script: ['INTERRUPTED'] }, { script: ['COMPLETED'] });
    const interrupted = await submitAndFinish(submitBody({ retry: retry({ on: ['FAILED', 'INTERRUPTED'] }) }));
    expect(interrupted).toMatchObject({ status: 'COMPLETED', attempt: 2 });

    gw.emr.queue.push({ script: ['INTERRUPTED'] });
    const notRetried = await submitAndFinish(submitBody({ name: 'default on', retry: retry() }));
    expect(notRetried).toMatchObject({ status: 'INTERRUPTED' });
    expect(notRetried.attempt).toBeUndefined();

    gw.emr.queue.push({ script: ['CANCELLED'] });
    const cancelled = await submitAndFinish(submitBody({ name: 'cancelled by EMR', retry: retry({ on: ['FAILED', 'INTERRUPTED'] }) }));
    expect(cancelled).toMatchObject({ status: 'CANCELLED' });
    expect(gw.emr.calls('AddJobFlowSteps')).toBe(4);
  });

  it('no retry whose attempt would start after the deadline: the job ends with the attempt\'s own outcome, and the trail says why', async () => {
    gw.emr.queue.push({ script: ['RUNNING', 'FAILED'], failure: failure(1) });
    const job = await submitAndFinish(submitBody({ timeoutSeconds: 60, retry: retry({ intervalSeconds: 3600 }) }));
    expect(job).toMatchObject({ status: 'FAILED', failureDetails: { message: 'attempt 1 failed' } });
    expect(gw.emr.calls('AddJobFlowSteps')).toBe(1);
    const events = await gw.audit.list(job.jobId);
    expect(events.at(-1)?.detail?.retry).toEqual({ notRetried: "attempt 2 would start after the job's deadline (60 s)" });
  });
});

describe('faults', () => {
  it('a crash between recording the next attempt and starting it: the attempt starts once, its step added once', async () => {
    const fault = crashAfterEvent('ATTEMPT_STARTED');
    await start({ wrapDb: fault });
    gw.emr.queue.push({ script: ['FAILED'] }, { script: ['RUNNING', 'COMPLETED'] });
    const job = await submitAndFinish(submitBody({ retry: retry() }));
    expect(fault.crashes).toBe(1);
    expect(job).toMatchObject({ status: 'COMPLETED', attempt: 2 });
    expect(gw.emr.calls('AddJobFlowSteps')).toBe(2);
    expect(await trail(job.jobId)).toEqual(['DECISION', 'SUBMITTED', 'ATTEMPT_ENDED', 'ATTEMPT_STARTED', 'SUBMITTED', 'STATE_CHANGED:RUNNING', 'COMPLETED']);
  });

  it("a crash after an attempt's step was added, before it was recorded: the retried submission finds that attempt's step, never the previous one's", async () => {
    await start();
    gw.emr.queue.push({ script: ['FAILED'] }, { script: ['RUNNING', 'COMPLETED'] });
    let crashed = 0;
    // The second AddJobFlowSteps adds its step, then its answer is lost (the task dies with it).
    gw.emr.duringAdd = () => (gw.emr.steps.length === 2 && crashed++ === 0 ? Promise.reject(crash()) : Promise.resolve());
    const job = await submitAndFinish(submitBody({ retry: retry() }));
    expect(crashed).toBe(1);
    expect(job).toMatchObject({ status: 'COMPLETED', attempt: 2, stepId: gw.emr.steps[1]!.id });
    expect(gw.emr.steps).toHaveLength(2);
    expect(await trail(job.jobId)).toEqual(['DECISION', 'SUBMITTED', 'ATTEMPT_ENDED', 'ATTEMPT_STARTED', 'SUBMITTED', 'STATE_CHANGED:RUNNING', 'COMPLETED']);
  });

  it('a crash between recording an attempt\'s end and the job\'s update: the job takes the recorded end and its time', async () => {
    const fault = crashAfterEvent('ATTEMPT_ENDED');
    await start({ wrapDb: fault });
    gw.emr.queue.push({ script: ['FAILED'] }, { script: ['COMPLETED'] });
    const job = await submitAndFinish(submitBody({ retry: retry() }));
    expect(fault.crashes).toBe(1);
    expect(job).toMatchObject({ status: 'COMPLETED', attempt: 2 });
    const ended = (await gw.audit.list(job.jobId)).find((e) => e.type === 'ATTEMPT_ENDED')!;
    expect(job.attempts?.[0]?.endedAt).toBe(ended.at);
    expect(await trail(job.jobId)).toEqual(['DECISION', 'SUBMITTED', 'ATTEMPT_ENDED', 'ATTEMPT_STARTED', 'SUBMITTED', 'COMPLETED']);
  });
});

describe('completion events lost: the reconciler', () => {
  beforeEach(() => start());

  /** A runner whose waits for the step's end last (nobody completes them but the reconciler), and a reconciler over it. */
  function waitingRunner(replace: (routes: ReturnType<typeof workflowRoutes>) => Partial<Record<string, TaskHandler>> = () => ({})): { runner: LocalWorkflowRunner; reconciler: Reconciler } {
    const routes = workflowRoutes(gw.workflow);
    const runner = new LocalWorkflowRunner({
      definition,
      routes: {
        ...routes,
        SubmitStepFunctionArn: async (input) => (await untilDue(gw.jobs, gw.clock, (input as { jobId: string }).jobId), routes.SubmitStepFunctionArn(input)),
        ...replace(routes),
      },
      waitOverrideMs: 0,
      retryOverrideMs: 0,
    });
    runners.push(runner);
    gw.sfn.runner = runner;
    const executions = runnerExecutions(runner);
    return { runner, reconciler: new Reconciler({ jobs: gw.jobs, audit: gw.audit, executions, workflow: executions, tasks: gw.workflow, polling: DEFAULT_POLLING, now: gw.clock.now }) };
  }

  const waiting = (jobId: string, attempt: number) => untilJob(gw.jobs, jobId, (j) => j.waitToken !== undefined && (j.attempt ?? 1) === attempt && j.stepId !== undefined);

  it('finds each attempt\'s end, completes the wait, and the execution goes on to the next attempt, then to the job\'s end', async () => {
    const { runner, reconciler } = waitingRunner();
    gw.emr.queue.push({ script: ['RUNNING', 'FAILED'], failure: failure(1) }, { script: ['RUNNING', 'COMPLETED'] });
    const { job } = await gw.serviceWith({ start: () => Promise.resolve() }).submit({ caller: { callerArn: ALICE }, body: submitBody({ retry: retry() }) });
    runner.run(job.jobId, { jobId: job.jobId, polling: DEFAULT_POLLING });
    await waiting(job.jobId, 1);
    expect((await reconciler.run()).waits).toEqual({ completed: 1, heartbeat: 0, stale: 0 });
    await waiting(job.jobId, 2);
    expect(await gw.jobs.get(job.jobId)).toMatchObject({ status: 'RUNNING', attempt: 2, attempts: [{ attempt: 1, state: 'FAILED' }] });
    expect((await reconciler.run()).waits).toEqual({ completed: 1, heartbeat: 0, stale: 0 });
    await runner.executions.get(job.jobId)!.done;
    expect(runner.executions.get(job.jobId)?.status).toBe('SUCCEEDED');
    expect(await gw.jobs.get(job.jobId)).toMatchObject({ status: 'COMPLETED', attempt: 2 });
    expect(await trail(job.jobId)).toEqual(['DECISION', 'SUBMITTED', 'STATE_CHANGED:RUNNING', 'ATTEMPT_ENDED', 'ATTEMPT_STARTED', 'SUBMITTED', 'STATE_CHANGED:RUNNING', 'COMPLETED']);
  });

  it("an attempt's end event that came, but whose wait was never completed (a crash): the retried event, or the reconciler, completes it", async () => {
    const { runner, reconciler } = waitingRunner();
    gw.emr.queue.push({ script: ['RUNNING', 'FAILED'] }, { script: ['RUNNING', 'COMPLETED'] });
    const { job } = await gw.serviceWith({ start: () => Promise.resolve() }).submit({ caller: { callerArn: ALICE }, body: submitBody({ retry: retry() }) });
    runner.run(job.jobId, { jobId: job.jobId, polling: DEFAULT_POLLING });
    const first = await waiting(job.jobId, 1);
    // The event is recorded (the attempt ends) and its handler dies before completing the wait.
    const callbacks = gw.workflow['deps'].callbacks;
    const complete = callbacks.complete.bind(callbacks);
    callbacks.complete = () => Promise.reject(crash());
    await expect(gw.workflow.observeStepEvent({ stepId: first.stepId!, clusterId: CLUSTER, name: gw.emr.steps[0]!.name, state: 'FAILED' })).rejects.toThrow();
    callbacks.complete = complete;
    expect(await gw.jobs.get(job.jobId)).toMatchObject({ status: 'PENDING', attempts: [{ attempt: 1 }], waitToken: expect.anything() as unknown });
    // The event again: the wait completes, the next attempt starts.
    await gw.workflow.observeStepEvent({ stepId: first.stepId!, clusterId: CLUSTER, name: gw.emr.steps[0]!.name, state: 'FAILED' });
    await waiting(job.jobId, 2);
    expect((await reconciler.run()).waits.completed).toBe(1);
    await runner.executions.get(job.jobId)!.done;
    expect(await gw.jobs.get(job.jobId)).toMatchObject({ status: 'COMPLETED', attempt: 2 });
    expect(gw.emr.calls('AddJobFlowSteps')).toBe(2);
  });
});

describe('an execution lost during the pause between attempts (a stop of the local stack)', () => {
  beforeEach(() => start());

  it('the reconciler follows the job with a new execution, which runs the next attempt when it is due, to the end', async () => {
    gw.emr.queue.push({ script: ['FAILED'] }, { script: ['RUNNING', 'COMPLETED'] });
    // The execution is stopped during its pause (WaitToRetry, skipped here): at its next SubmitStep, which never runs.
    let stops = 0;
    gw.beforeSubmit = async (jobId) => {
      if ((await gw.jobs.get(jobId))?.nextAttemptAt === undefined || stops++ > 0) return;
      gw.runner.abort(jobId);
      throw new Error('the execution was stopped');
    };
    const { job } = await gw.service.submit({ caller: { callerArn: ALICE }, body: submitBody({ retry: retry({ intervalSeconds: 3600 }) }) });
    const between = await untilJob(gw.jobs, job.jobId, (j) => j.nextAttemptAt !== undefined);
    await until(() => Promise.resolve(gw.runner.executions.get(job.jobId)?.status === 'ABORTED' ? true : undefined), { what: 'the execution aborted' });
    expect(await gw.jobs.get(job.jobId)).toMatchObject({ status: 'PENDING', nextAttemptAt: between.nextAttemptAt });
    gw.clock.advance(600); // past the reconciler's idle time, still within the pause
    // A SubmitStep before the next attempt is due adds nothing and answers the rest of the pause (WaitToRetry's next wait).
    const early = await gw.workflow.submit({ jobId: job.jobId, polling: DEFAULT_POLLING });
    expect(early).toMatchObject({ done: false, status: 'PENDING', retryInSeconds: Math.round((Date.parse(between.nextAttemptAt!) - gw.clock.now().getTime()) / 1000) });
    expect(early.retryInSeconds).toBeGreaterThan(2900);
    expect(gw.emr.calls('AddJobFlowSteps')).toBe(1);
    expect((await gw.reconciler.run()).repaired).toEqual([{ jobId: job.jobId, action: 'refollowed', execution: job.jobId, found: 'ABORTED', next: `${job.jobId}-2` }]);
    const finished = await gw.finish(job.jobId);
    expect(finished).toMatchObject({ status: 'COMPLETED', attempt: 2, execution: `${job.jobId}-2` });
    expect(Date.parse(finished!.submittedAt!)).toBeGreaterThanOrEqual(Date.parse(between.nextAttemptAt!));
    expect(gw.emr.calls('AddJobFlowSteps')).toBe(2);
    expect(await trail(job.jobId)).toEqual(['DECISION', 'SUBMITTED', 'ATTEMPT_ENDED', 'RECONCILED', 'ATTEMPT_STARTED', 'SUBMITTED', 'STATE_CHANGED:RUNNING', 'COMPLETED']);
  });
});

describe('cancel', () => {
  beforeEach(() => start());

  it('during the pause between attempts: the job ends CANCELLED at once, no further step is added, the execution ends', async () => {
    gw.emr.queue.push({ script: ['RUNNING', 'FAILED'] });
    // Held at the pause: the next SubmitStep (after WaitToRetry) waits until the test has cancelled.
    let release!: () => void;
    const cancelled$ = new Promise<void>((r) => (release = r));
    gw.beforeSubmit = async (jobId) => {
      if ((await gw.jobs.get(jobId))?.nextAttemptAt !== undefined) await cancelled$;
    };
    const { job } = await gw.service.submit({ caller: { callerArn: ALICE }, body: submitBody({ retry: retry({ intervalSeconds: 600 }) }) });
    const between = await untilJob(gw.jobs, job.jobId, (j) => j.nextAttemptAt !== undefined || j.status === 'COMPLETED');
    expect(between).toMatchObject({ status: 'PENDING', attempts: [{ attempt: 1, state: 'FAILED' }] });
    expect(between.stepId).toBeUndefined();
    const cancelled = await gw.service.cancel({ callerArn: ALICE }, job.jobId);
    expect(cancelled).toMatchObject({ status: 'CANCELLED' });
    release();
    const finished = await gw.finish(job.jobId);
    expect(finished).toMatchObject({ status: 'CANCELLED', attempts: [{ attempt: 1 }] });
    expect(gw.emr.calls('AddJobFlowSteps')).toBe(1);
    expect(gw.emr.calls('CancelSteps')).toBe(0);
    expect(gw.runner.executions.get(job.jobId)?.status).toBe('SUCCEEDED');
    expect(await trail(job.jobId)).toEqual(['DECISION', 'SUBMITTED', 'STATE_CHANGED:RUNNING', 'ATTEMPT_ENDED', 'CANCEL_REQUESTED', 'CANCELLED']);
    const events = await gw.audit.list(job.jobId);
    expect(events.at(-1)?.detail).toEqual({ before: 'attempt 2' });
  });

  it("racing the next attempt's start: once ATTEMPT_STARTED is recorded the attempt is cancelled as any other, its step stopped", async () => {
    gw.emr.queue.push({ script: ['FAILED'] }, { script: ['RUNNING', 'RUNNING', 'RUNNING'] });
    // The cancel lands while the second AddJobFlowSteps is in flight (after ATTEMPT_STARTED was recorded).
    let cancel: Promise<Job> | undefined;
    gw.emr.duringAdd = async () => {
      if (gw.emr.steps.length === 2) await (cancel ??= gw.service.cancel({ callerArn: ALICE }, gw.emr.steps[0]!.name.match(/\[(job-\w+)\]/)![1]!));
    };
    const job = await submitAndFinish(submitBody({ retry: retry() }));
    await expect(cancel).resolves.toMatchObject({ cancelRequested: { mode: 'SEND_INTERRUPT' } });
    expect(job).toMatchObject({ status: 'CANCELLED', attempt: 2, stepId: gw.emr.steps[1]!.id });
    expect(gw.emr.steps[1]!.cancelledWith).toBe('SEND_INTERRUPT');
    expect(gw.emr.calls('AddJobFlowSteps')).toBe(2);
    const labels = await trail(job.jobId);
    expect(labels.slice(0, 5)).toEqual(['DECISION', 'SUBMITTED', 'ATTEMPT_ENDED', 'ATTEMPT_STARTED', 'CANCEL_REQUESTED']);
    expect(labels.at(-1)).toBe('CANCELLED');
  });

  it('a step cancelled by a caller is not retried', async () => {
    gw.emr.queue.push({ script: ['RUNNING'] });
    const { job } = await gw.service.submit({ caller: { callerArn: ALICE }, body: submitBody({ retry: retry() }) });
    await untilJob(gw.jobs, job.jobId, (j) => j.status === 'RUNNING');
    await gw.service.cancel({ callerArn: ALICE }, job.jobId);
    expect(await gw.finish(job.jobId)).toMatchObject({ status: 'CANCELLED' });
    expect(gw.emr.calls('AddJobFlowSteps')).toBe(1);
  });
});

describe('the request and the policy', () => {
  const LIMITED = ((): string => {
    const doc = parse(GATEWAY_CONFIG_YAML) as { clusters: Record<string, unknown>[]; policies: Record<string, { Statement: Record<string, unknown>[] }> };
    doc.clusters[0]!.defaultRetry = { maxAttempts: 2, intervalSeconds: 10 };
    doc.policies['team-a']!.Statement.push({
      Sid: 'AtMostThreeAttempts',
      Effect: 'Deny',
      Action: 'elasticmapreduce:AddJobFlowSteps',
      Resource: '*',
      Condition: { NumericGreaterThan: { 'emr-gateway:RetryMaxAttempts': '3' } },
    });
    return stringify(doc);
  })();
  beforeEach(() => start({ configYaml: LIMITED }));

  it("a policy limits the attempts (emr-gateway:RetryMaxAttempts): more is denied, with the statement that denied it, and audited", async () => {
    const denied = await gw.service.submit({ caller: { callerArn: ALICE }, body: submitBody({ retry: retry({ maxAttempts: 4 }) }) }).catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(ForbiddenError);
    expect((denied as ForbiddenError).message).toMatch(/AtMostThreeAttempts/);
    const deniedId = (denied as ForbiddenError).details?.jobId as string;
    expect(await gw.jobs.get(deniedId)).toMatchObject({ status: 'REJECTED', request: { retry: { maxAttempts: 4 } } });
    const [decision] = await gw.audit.list(deniedId);
    expect(decision).toMatchObject({ type: 'DECISION', decision: { result: 'ExplicitlyDenied' } });
    expect(gw.emr.calls('AddJobFlowSteps')).toBe(0);
    const { job } = await gw.service.submit({ caller: { callerArn: ALICE }, body: submitBody({ name: 'three', retry: retry({ maxAttempts: 3 }) }) });
    expect(job.status).toBe('ACCEPTED');
  });

  it("the cluster's defaultRetry applies to a request without one (and is what the job records); maxAttempts 1 opts out", async () => {
    gw.emr.queue.push({ script: ['FAILED'] }, { script: ['COMPLETED'] }, { script: ['FAILED'] });
    const defaulted = await submitAndFinish(submitBody());
    expect(defaulted.request.retry).toEqual({ maxAttempts: 2, intervalSeconds: 10, backoff: 1, on: ['FAILED'] });
    expect(defaulted).toMatchObject({ status: 'COMPLETED', attempt: 2 });
    const optedOut = await submitAndFinish(submitBody({ name: 'once', retry: { maxAttempts: 1, intervalSeconds: 1 } }));
    expect(optedOut).toMatchObject({ status: 'FAILED' });
    expect(gw.emr.calls('AddJobFlowSteps')).toBe(3);
  });

  it("GET /roles asks the policy as a default submission there would be asked: with the cluster's defaultRetry", async () => {
    await gw.stop();
    // No retries at all for team A: the analytics cluster's default (2 attempts) is then refused, the plain one's (none) not.
    await start({ configYaml: LIMITED.replace("'3'", "'1'").replace('"3"', '"1"') });
    const [analytics, plain] = gw.service.roles({ callerArn: ALICE });
    expect(analytics).toMatchObject({ clusterId: CLUSTER, roles: [] });
    expect(plain?.roles.map((r) => r.roleArn)).toEqual([role('CallerTeamRoleETL')]);
    await expect(gw.service.submit({ caller: { callerArn: ALICE }, body: submitBody() })).rejects.toThrow(ForbiddenError);
    const { job } = await gw.service.submit({ caller: { callerArn: ALICE }, body: submitBody({ retry: { maxAttempts: 1, intervalSeconds: 1 } }) });
    expect(job.status).toBe('ACCEPTED');
  });

  it('bad retry policies are 400s naming the field', async () => {
    const problems = async (body: Record<string, unknown>) => {
      const error = await gw.service.submit({ caller: { callerArn: ALICE }, body }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ValidationError);
      return (error as ValidationError).issues.map((i) => `${i.field}: ${i.message}`);
    };
    expect(await problems(submitBody({ retry: { maxAttempts: 11, intervalSeconds: 10 } }))).toEqual(['retry.maxAttempts: must be a whole number from 1 to 10 (got 11)']);
    expect(await problems(submitBody({ retry: { maxAttempts: 2 } }))).toEqual([expect.stringMatching(/^retry.intervalSeconds: /) as unknown]);
    expect(await problems(submitBody({ retry: { maxAttempts: 2, intervalSeconds: 0.5 } }))).toEqual(['retry.intervalSeconds: must be a whole number of seconds from 1 to 3600 (got 0.5)']);
    expect(await problems(submitBody({ retry: retry({ backoff: 5 }) }))).toEqual(['retry.backoff: must be a number from 1 to 4 (got 5)']);
    expect((await problems(submitBody({ retry: retry({ on: ['CANCELLED'] }) })))[0]).toMatch(/^retry.on\[0\]: must be one of FAILED, INTERRUPTED \(got "CANCELLED"\)/);
    expect(await problems(submitBody({ retry: retry({ on: [] }) }))).toEqual(['retry.on: must name at least one of FAILED, INTERRUPTED']);
    expect(await problems(submitBody({ retry: retry({ on: ['FAILED', 'FAILED'] }) }))).toEqual(['retry.on: must not name a state twice']);
    expect((await problems(submitBody({ retry: retry({ every: 1 }) })))[0]).toMatch(/^retry.every: unknown field \(a retry policy has: maxAttempts, intervalSeconds, backoff, on\)/);
    expect((await problems(submitBody({ retry: 'thrice' })))[0]).toMatch(/^retry: must be a JSON object/);
    expect(gw.emr.calls('AddJobFlowSteps')).toBe(0);
  });
});
