/**
 * The reconciler (src/jobs/reconciler.ts) against the in-memory ports: it finds the jobs that are not terminal
 * while no execution follows them (never started, ended, failed or vanished) and repairs each through the same
 * workflow code, audited: a new execution follows the job again, or, where the workflow had given up on it, the
 * job ends FAILED with the reason. Executions are FakeExecutions (named, ended by the test).
 */
import { RECONCILE_CONCURRENCY, Reconciler } from '../../src/jobs/reconciler';
import { TransientError } from '../../src/errors';
import { verifiedTrail } from '../support/audit';
import { ALICE, submitBody } from '../support/config';
import { FakeExecutions } from '../support/fakes';
import { memoryGateway, type MemoryGateway } from '../support/memory-gateway';

let g: MemoryGateway;
let executions: FakeExecutions;
let reconciler: Reconciler;
beforeEach(() => {
  g = memoryGateway();
  executions = new FakeExecutions();
  reconciler = new Reconciler({ jobs: g.jobs, audit: g.audit, executions, workflow: executions, tasks: g.tasks, polling: g.polling, now: g.clock.now });
});

const trail = (jobId: string): Promise<string[]> => verifiedTrail(g, jobId, { headAtEnd: true });
const reconciled = async (jobId: string) => (await g.audit.list(jobId)).filter((e) => e.type === 'RECONCILED');
/** An ACCEPTED job (the service's StartExecution went to g.starter, so no execution is known). */
async function accepted(): Promise<string> {
  return (await g.service.submit({ caller: { callerArn: ALICE }, body: submitBody() })).job.jobId;
}
/** A job whose step is RUNNING on EMR, followed by a running execution named after it. */
async function running(): Promise<string> {
  const jobId = await accepted();
  g.emr.nextScript = ['RUNNING'];
  await executions.start(g.input(jobId));
  await g.tasks.poll({ ...g.input(jobId), poll: await g.tasks.submit(g.input(jobId)) });
  expect((await g.jobs.get(jobId))?.status).toBe('RUNNING');
  return jobId;
}

it('leaves alone every job an execution follows, and every terminal job', async () => {
  const live = await running();
  const done = await accepted();
  g.emr.nextScript = ['COMPLETED'];
  await g.run(done);
  g.clock.advance(3600);
  const run = await reconciler.run();
  expect(run).toEqual({ unfinished: 1, followed: 1, waits: { completed: 0, heartbeat: 0, stale: 0 }, repaired: [], queued: 0, errors: [] });
  expect(executions.started).toEqual([live]);
  expect(await trail(live)).toEqual(['DECISION', 'SUBMITTED', 'STATE_CHANGED:RUNNING']);
});

it('never started (ACCEPTED, no execution): starts it under its name, audited', async () => {
  const jobId = await accepted();
  g.clock.advance(600);
  const run = await reconciler.run();
  expect(run.repaired).toEqual([{ jobId, action: 'started', execution: jobId, found: 'NONE' }]);
  expect(executions.started).toEqual([jobId]);
  expect(executions.executions.get(jobId)?.input).toEqual(g.input(jobId));
  expect(await trail(jobId)).toEqual(['DECISION', 'RECONCILED']);
  expect((await reconciled(jobId))[0]).toMatchObject({
    actor: { principalArn: 'emr-step-gateway', callerArn: 'emr-step-gateway:reconciler' },
    detail: { action: 'started', execution: { name: jobId, status: 'NONE' }, reason: expect.stringMatching(/no execution/) as unknown },
  });
  // The next run finds it followed.
  expect(await reconciler.run()).toMatchObject({ followed: 1, repaired: [] });
});

it('a job changed less than idleSeconds ago is its writer\'s: not touched yet', async () => {
  const jobId = await accepted();
  g.clock.advance(30);
  expect(await reconciler.run({ idleSeconds: 60 })).toMatchObject({ unfinished: 1, repaired: [] });
  g.clock.advance(31);
  expect((await reconciler.run({ idleSeconds: 60 })).repaired).toEqual([expect.objectContaining({ jobId, action: 'started' })]);
});

it('an execution that vanished (ExecutionDoesNotExist): the job is followed again under the same name', async () => {
  const jobId = await running();
  executions.end(jobId, 'VANISHED');
  g.clock.advance(600);
  expect((await reconciler.run()).repaired).toEqual([{ jobId, action: 'started', execution: jobId, found: 'NONE' }]);
  expect(executions.executions.get(jobId)?.status).toBe('RUNNING');
  expect(await trail(jobId)).toEqual(['DECISION', 'SUBMITTED', 'STATE_CHANGED:RUNNING', 'RECONCILED']);
});

it.each(['ABORTED', 'SUCCEEDED'] as const)('an execution that ended %s with its job unfinished: a new execution follows the job, named after it', async (status) => {
  const jobId = await running();
  executions.end(jobId, status);
  g.clock.advance(600);
  expect((await reconciler.run()).repaired).toEqual([{ jobId, action: 'refollowed', execution: jobId, found: status, next: `${jobId}-2` }]);
  expect(await g.jobs.get(jobId)).toMatchObject({ status: 'RUNNING', execution: `${jobId}-2` });
  expect(executions.started).toEqual([jobId, `${jobId}-2`]);
  expect((await reconciled(jobId))[0]?.detail).toMatchObject({ action: 'refollowed', execution: { name: jobId, status }, next: `${jobId}-2` });
  // It follows the new one from now on; when that one ends too, the next.
  expect(await reconciler.run()).toMatchObject({ followed: 1, repaired: [] });
  executions.end(`${jobId}-2`, 'ABORTED');
  g.clock.advance(600);
  expect((await reconciler.run()).repaired).toEqual([expect.objectContaining({ action: 'refollowed', execution: `${jobId}-2`, next: `${jobId}-3` })]);
  expect(await trail(jobId)).toEqual(['DECISION', 'SUBMITTED', 'STATE_CHANGED:RUNNING', 'RECONCILED', 'RECONCILED']);
});

it('an execution that failed before its job existed (Gateway.NoSuchJob): the job, there now, is followed by a new one', async () => {
  const jobId = await accepted();
  await executions.start(g.input(jobId));
  executions.end(jobId, 'FAILED', { error: 'Gateway.NoSuchJob', cause: 'The job does not exist' });
  g.clock.advance(600);
  expect((await reconciler.run()).repaired).toEqual([expect.objectContaining({ jobId, action: 'refollowed', found: 'FAILED', next: `${jobId}-2` })]);
  expect((await g.jobs.get(jobId))?.status).toBe('ACCEPTED');
});

it('an execution that failed otherwise (RecordFailure gave up): the job ends FAILED with the reason, its step stopped, audited', async () => {
  const jobId = await running();
  executions.end(jobId, 'FAILED', { error: 'Gateway.JobFailed', cause: 'The workflow failed; the job is recorded FAILED with the error.' });
  g.clock.advance(600);
  expect((await reconciler.run()).repaired).toEqual([{ jobId, action: 'ended', execution: jobId, found: 'FAILED' }]);
  const job = await g.jobs.get(jobId);
  expect(job).toMatchObject({ status: 'FAILED', failureDetails: { reason: 'GATEWAY_ERROR', message: expect.stringMatching(new RegExp(`^Gateway.ExecutionEnded: the workflow execution ${jobId} ended FAILED \\(Gateway.JobFailed`)) as unknown } });
  expect(g.emr.steps[0]!.cancelledWith).toBe('TERMINATE_PROCESS');
  expect(await trail(jobId)).toEqual(['DECISION', 'SUBMITTED', 'STATE_CHANGED:RUNNING', 'RECONCILED', 'FAILED']);
  expect(executions.started).toEqual([jobId]); // nothing started again
});

it('a job that ended between the scan and the look at its execution is not touched, and nothing lands after its end', async () => {
  const jobId = await running();
  executions.end(jobId, 'SUCCEEDED');
  g.clock.advance(600);
  const describe = executions.describe.bind(executions);
  jest.spyOn(executions, 'describe').mockImplementationOnce(async (name) => {
    g.emr.steps[0]!.script.push('COMPLETED');
    await g.tasks.poll({ ...g.input(jobId), poll: { done: false, status: 'RUNNING', waitSeconds: 15 } });
    return describe(name);
  });
  expect(await reconciler.run()).toMatchObject({ repaired: [] });
  expect(await trail(jobId)).toEqual(['DECISION', 'SUBMITTED', 'STATE_CHANGED:RUNNING', 'COMPLETED']);
});

it('finds every unfinished job across pages of the table; one that fails is reported, the others repaired', async () => {
  g.jobs.unfinishedPageSize = 2;
  const ids = [await accepted(), await accepted(), await accepted(), await accepted(), await accepted()];
  g.clock.advance(600);
  executions.failNext('describe', new TransientError('StepFunctions DescribeExecution: ThrottlingException', { throttled: true }));
  const run = await reconciler.run();
  expect(run.unfinished).toBe(5);
  expect(run.errors).toEqual([{ jobId: expect.any(String) as unknown, error: 'Gateway.Transient: StepFunctions DescribeExecution: ThrottlingException' }]);
  expect(run.repaired.map((r) => r.jobId).sort()).toEqual(ids.filter((id) => id !== run.errors[0]!.jobId).sort());
  // The next run repairs the one left.
  expect((await reconciler.run()).repaired.map((r) => r.jobId)).toEqual([run.errors[0]!.jobId]);
});

it('repairs the jobs of a page several at a time, and reports them in the table\'s order (a restart with many unfinished jobs waits on this)', async () => {
  const jobIds: string[] = [];
  for (let i = 0; i < 12; i++) jobIds.push(await accepted());
  g.clock.advance(600);
  // Each DescribeExecution takes a while, as under throttling: count how many are in flight at once.
  const describe = executions.describe.bind(executions);
  let inFlight = 0;
  let most = 0;
  executions.describe = async (name) => {
    most = Math.max(most, ++inFlight);
    await new Promise((r) => setTimeout(r, 5));
    inFlight--;
    return describe(name);
  };
  const run = await reconciler.run();
  expect(run.repaired.map((r) => r.jobId)).toEqual((await g.jobs.unfinished()).jobs.map((j) => j.jobId));
  expect(run.repaired).toHaveLength(12);
  expect(most).toBeGreaterThan(1);
  expect(most).toBeLessThanOrEqual(RECONCILE_CONCURRENCY);
});

it('once its signal aborts (the local stack stopping), looks at no further job: a stop does not wait for hundreds of repairs', async () => {
  for (let i = 0; i < 40; i++) await accepted();
  g.clock.advance(600);
  const stopping = new AbortController();
  const describe = executions.describe.bind(executions);
  let described = 0;
  executions.describe = async (name) => {
    if (++described === 3) stopping.abort();
    return describe(name);
  };
  const run = await reconciler.run({ signal: stopping.signal });
  // The repairs already begun finish; no other job is looked at.
  expect(described).toBeLessThanOrEqual(RECONCILE_CONCURRENCY);
  expect(run.repaired.length).toBeLessThan(40);
  expect(executions.started).toHaveLength(run.repaired.length);
});
