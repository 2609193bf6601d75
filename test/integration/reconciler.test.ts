/**
 * The reconciler with the real workflow: dynalite, the real ASL run by the local runner (its executions seen as
 * Step Functions shows them), EMR at the SDK. Each case leaves a job unfinished with no execution following it
 * (never started, vanished, stopped, failed, run before the job existed); one reconciler run repairs it through
 * the workflow's own code, and the trail says so.
 */
import definition from '../../statemachines/submit-job.asl.json';
import { jobIdForIdempotencyKey } from '../../src/jobs/job-id';
import { Reconciler } from '../../src/jobs/reconciler';
import { workflowRoutes } from '../../src/jobs/task-routes';
import { DEFAULT_POLLING } from '../../src/jobs/workflow-input';
import { LocalWorkflowRunner, type TaskHandler } from '../../src/local/sfn/runner';
import { verifiedTrail } from '../support/audit';
import { awsError } from '../support/fake-emr';
import { ALICE, role, runnerExecutions, startGateway, submitBody, type TestGateway } from '../support/gateway';
import { untilJob } from '../support/wait';

jest.setTimeout(30_000);

let gw: TestGateway;
let runners: LocalWorkflowRunner[] = [];
beforeEach(async () => {
  gw = await startGateway();
});
afterEach(async () => {
  for (const runner of runners) await runner.stop();
  runners = [];
  await gw.stop();
});

const trail = (jobId: string): Promise<string[]> => verifiedTrail(gw, jobId);
const held = () => gw.serviceWith({ start: () => Promise.resolve() });
const later = () => gw.clock.advance(3600);

/** A runner of the real ASL whose task routes are the workflow's, some replaced; and a reconciler over its executions. */
function withRoutes(replace: (routes: ReturnType<typeof workflowRoutes>) => Partial<Record<string, TaskHandler>>): { runner: LocalWorkflowRunner; reconciler: Reconciler } {
  const routes = workflowRoutes(gw.workflow);
  // No EMR events in the test gateway: each wait ends at once for PollStep to look (as gateway.ts's runner).
  const runner = new LocalWorkflowRunner({ definition, routes: { ...routes, ...replace(routes) }, waitOverrideMs: 0, retryOverrideMs: 0, heartbeatOverrideMs: 0 });
  runners.push(runner);
  gw.sfn.runner = runner;
  const executions = runnerExecutions(runner);
  return { runner, reconciler: new Reconciler({ jobs: gw.jobs, audit: gw.audit, executions, workflow: executions, tasks: gw.workflow, polling: DEFAULT_POLLING, now: gw.clock.now }) };
}

it('never started (ACCEPTED, no execution): started, and the job runs to its end', async () => {
  const { job } = await held().submit({ caller: { callerArn: ALICE }, body: submitBody() });
  later();
  gw.emr.nextScript = ['RUNNING', 'COMPLETED'];
  expect((await gw.reconciler.run()).repaired).toEqual([{ jobId: job.jobId, action: 'started', execution: job.jobId, found: 'NONE' }]);
  expect(await gw.finish(job.jobId)).toMatchObject({ status: 'COMPLETED' });
  expect(await trail(job.jobId)).toEqual(['DECISION', 'RECONCILED', 'SUBMITTED', 'STATE_CHANGED:RUNNING', 'COMPLETED']);
});

async function untilExecution(name: string, done: (status: string) => boolean): Promise<void> {
  for (let i = 0; i < 200 && !done(gw.runner.executions.get(name)?.status ?? ''); i++) await new Promise((r) => setTimeout(r, 10));
  await new Promise((r) => setTimeout(r, 50));
}

describe('a job RUNNING on EMR whose execution', () => {
  /** A job whose step is RUNNING, and its execution stopped (the local stack's stop does that to every one). */
  async function stopped(): Promise<string> {
    gw.emr.nextScript = ['RUNNING'];
    const { job } = await gw.service.submit({ caller: { callerArn: ALICE }, body: submitBody() });
    await untilJob(gw.jobs, job.jobId, (j) => j.status === 'RUNNING');
    // Aborted as the local stack's stop aborts every execution (the runner itself goes on: a stopped one refuses
    // every later execution, as the next start's new runner would not). Then its task in flight settles.
    gw.runner.abort(job.jobId);
    await untilExecution(job.jobId, (status) => status === 'ABORTED');
    gw.emr.steps[0]!.script.push('COMPLETED'); // the step goes on without anyone watching, and ends
    later();
    return job.jobId;
  }

  it('vanished: followed again under its name, to the step\'s real end', async () => {
    const jobId = await stopped();
    gw.runner.executions.delete(jobId); // Step Functions no longer has it (the local one forgets all at a restart)
    expect((await gw.reconciler.run()).repaired).toEqual([{ jobId, action: 'started', execution: jobId, found: 'NONE' }]);
    expect(await gw.finish(jobId)).toMatchObject({ status: 'COMPLETED' });
    expect(gw.emr.calls('AddJobFlowSteps')).toBe(1);
    expect(await trail(jobId)).toEqual(['DECISION', 'SUBMITTED', 'STATE_CHANGED:RUNNING', 'RECONCILED', 'COMPLETED']);
  });

  it('was stopped (ABORTED): a new execution follows it, to the step\'s real end; the step is not added again', async () => {
    const jobId = await stopped();
    expect(gw.runner.executions.get(jobId)?.status).toBe('ABORTED');
    expect((await gw.reconciler.run()).repaired).toEqual([{ jobId, action: 'refollowed', execution: jobId, found: 'ABORTED', next: `${jobId}-2` }]);
    expect(await gw.finish(jobId)).toMatchObject({ status: 'COMPLETED', execution: `${jobId}-2` });
    expect(gw.runner.executions.get(`${jobId}-2`)?.status).toBe('SUCCEEDED');
    expect(gw.emr.calls('AddJobFlowSteps')).toBe(1);
    expect(await trail(jobId)).toEqual(['DECISION', 'SUBMITTED', 'STATE_CHANGED:RUNNING', 'RECONCILED', 'COMPLETED']);
  });
});

it('failed with the job unfinished (RecordFailure could not record it): the job ends FAILED with the reason, audited', async () => {
  const { runner, reconciler } = withRoutes(() => ({ FailJobFunctionArn: () => Promise.reject(Object.assign(new Error('the jobs table refused the write'), { name: 'AccessDeniedException' })) }));
  gw.emr.failNext('AddJobFlowSteps', awsError('AccessDeniedException', 'not authorized to perform elasticmapreduce:AddJobFlowSteps'));
  const { job } = await held().submit({ caller: { callerArn: ALICE }, body: submitBody() });
  await runner.run(job.jobId, { jobId: job.jobId, polling: DEFAULT_POLLING }).done;
  expect(runner.executions.get(job.jobId)).toMatchObject({ status: 'FAILED', error: { error: 'AccessDeniedException' } });
  expect((await gw.jobs.get(job.jobId))?.status).toBe('ACCEPTED');
  later();
  expect((await reconciler.run()).repaired).toEqual([{ jobId: job.jobId, action: 'ended', execution: job.jobId, found: 'FAILED' }]);
  expect(await gw.jobs.get(job.jobId)).toMatchObject({ status: 'FAILED', failureDetails: { reason: 'GATEWAY_ERROR', message: expect.stringMatching(/^Gateway.ExecutionEnded: the workflow execution job-\w+ ended FAILED \(AccessDeniedException/) as unknown } });
  expect(await trail(job.jobId)).toEqual(['DECISION', 'RECONCILED', 'FAILED']);
  expect(runner.executions.size).toBe(1); // nothing started again
});

it('ran before its job existed (Gateway.NoSuchJob), the job created meanwhile: a new execution runs it', async () => {
  const key = 'created-meanwhile';
  const jobId = jobIdForIdempotencyKey(role('DataTeamA'), key);
  let created: Promise<unknown> | undefined;
  const { runner, reconciler } = withRoutes((routes) => ({
    SubmitStepFunctionArn: (input) => routes.SubmitStepFunctionArn(input).catch(async (error: unknown) => {
      await (created ??= held().submit({ caller: { callerArn: ALICE }, body: submitBody(), idempotencyKey: key }));
      throw error;
    }),
  }));
  await runner.run(jobId, { jobId, polling: DEFAULT_POLLING }).done;
  expect(runner.executions.get(jobId)).toMatchObject({ status: 'FAILED', error: { error: 'Gateway.NoSuchJob' } });
  later();
  gw.emr.nextScript = ['COMPLETED'];
  expect((await reconciler.run()).repaired).toEqual([{ jobId, action: 'refollowed', execution: jobId, found: 'FAILED', next: `${jobId}-2` }]);
  await runner.executions.get(`${jobId}-2`)!.done;
  expect(await gw.jobs.get(jobId)).toMatchObject({ status: 'COMPLETED', execution: `${jobId}-2` });
  expect(await trail(jobId)).toEqual(['DECISION', 'RECONCILED', 'SUBMITTED', 'COMPLETED']);
});
