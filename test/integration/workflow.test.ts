/**
 * The job workflow end to end: the real ASL (statemachines/submit-job.asl.json) run by aws-local-stepfunctions,
 * every Task routed to the real task code, DynamoDB = dynalite, EMR mocked. Each scenario asserts the job's
 * final state and its exact audit sequence, and that the audit chain verifies.
 */
import { readFileSync } from 'node:fs';
import definition from '../../statemachines/submit-job.asl.json';
import validator from 'asl-validator';
import { resolve } from 'node:path';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { SFNClient } from '@aws-sdk/client-sfn';
import { marshall } from '@aws-sdk/util-dynamodb';
import { SfnWorkflowStarter } from '../../src/adapters/sfn/workflow-starter';
import { ConflictError, ForbiddenError } from '../../src/errors';
import { jobIdForIdempotencyKey, newJobId } from '../../src/jobs/job-id';
import { workflowRoutes } from '../../src/jobs/task-routes';
import type { Job } from '../../src/jobs/model';
import { DEFAULT_POLLING } from '../../src/jobs/workflow-input';
import { LocalWorkflowRunner } from '../../src/local/sfn/runner';
import { verifiedTrail } from '../support/audit';
import { awsError } from '../support/fake-emr';
import { crashAfterEvent } from '../support/faults';
import { ALICE, CAROL, PLAIN_CLUSTER, SPOOFED, SUBMITTER_ROLE, UNVERIFIED_CONFIG_YAML, role, startGateway, submitBody, type TestGateway } from '../support/gateway';
import { observeSends } from '../support/dynamo';
import { untilJob } from '../support/wait';

jest.setTimeout(30_000);

let gw: TestGateway;
beforeEach(async () => {
  gw = await startGateway();
});
afterEach(async () => {
  await gw.stop();
});

const auditOf = (jobId: string): Promise<string[]> => verifiedTrail(gw, jobId);

async function submitAndFinish(body = submitBody()): Promise<Job> {
  const { job } = await gw.service.submit({ caller: { callerArn: ALICE }, body });
  const finished = await gw.finish(job.jobId);
  expect(gw.runner.executions.get(job.jobId)?.status).not.toBe('RUNNING');
  return finished!;
}

describe('the state machine definition', () => {
  const asl = JSON.parse(readFileSync(resolve(__dirname, '../../statemachines/submit-job.asl.json'), 'utf8')) as { States: Record<string, { Type: string }> };

  it('passes asl-validator, with its Resources substituted as at deploy time', () => {
    const deployed = JSON.parse(JSON.stringify(asl).replace(/\$\{(\w+)\}/g, 'arn:aws:lambda:us-east-1:123456789012:function:$1')) as unknown;
    const result = validator(deployed, { checkArn: true, checkPaths: true });
    expect(result.errors).toEqual([]);
    expect(result.isValid).toBe(true);
  });
  it('is JSONPath only (no JSONata anywhere)', () => {
    expect(JSON.stringify(asl)).not.toMatch(/JSONata|\{%/);
  });
  it('the local runner refuses a Task it has no route for, rather than calling AWS Lambda', () => {
    expect(() => new LocalWorkflowRunner({ definition: asl, routes: { SubmitStepFunctionArn: () => Promise.resolve({}) } })).toThrow(
      /Task states without a local route: WaitForStepEnd \(arn:aws:states:::lambda:invoke\.waitForTaskToken with FunctionName "\$\{WatchStepFunctionArn\}"\), PollStep \(\$\{PollStepFunctionArn\}\), RecordFailure \(\$\{FailJobFunctionArn\}\)/,
    );
  });
});

describe('round trips', () => {
  it('the submit task reads the trail once: its SUBMITTED extends the trail it read for the admission check', async () => {
    await gw.stop();
    const queries: string[] = [];
    gw = await startGateway({
      wrapDb: (db) =>
        observeSends(db, (command) => {
          if (command.constructor.name === 'QueryCommand' && command.input.KeyConditionExpression === 'jobId = :j') queries.push(String(command.input.TableName));
        }),
    });
    gw.emr.nextScript = ['RUNNING', 'COMPLETED'];
    const job = await submitAndFinish();
    expect(job.status).toBe('COMPLETED');
    expect(await auditOf(job.jobId)).toEqual(['DECISION', 'SUBMITTED', 'STATE_CHANGED:RUNNING', 'COMPLETED']);
    // The trail's reads: the submit task's one (admission check and the SUBMITTED append), then one per later append
    // (each reads the chain it extends: a retried event is found by its dedupe key), then the check above.
    expect(queries.filter((t) => t === gw.dynamo.auditTable)).toHaveLength(1 + 2 + 1);
  });
});

describe('two runs of the submit task at once (a Lambda retry while the first still runs)', () => {
  it('the job follows the step its trail\'s SUBMITTED names; the other run stops its own step and says why', async () => {
    gw.emr.nextScript = ['RUNNING'];
    const { job } = await gw.serviceWith({ start: () => Promise.resolve() }).submit({ caller: { callerArn: ALICE }, body: submitBody() });
    // Both runs find no step and add one; then the first to append SUBMITTED writes the job only after the other has.
    let entered = 0;
    let bothAdding!: () => void;
    const bothIn = new Promise<void>((r) => (bothAdding = r));
    gw.emr.duringAdd = async () => {
      if (++entered === 2) bothAdding();
      await bothIn;
    };
    const append = gw.audit.append.bind(gw.audit);
    let otherDone!: () => void;
    const otherFinished = new Promise<void>((r) => (otherDone = r));
    let first = true;
    jest.spyOn(gw.audit, 'append').mockImplementation(async (id, draft, options) => {
      const event = await append(id, draft, options);
      if (draft.type === 'SUBMITTED' && first && event.emr?.stepId === (draft.emr as { stepId: string }).stepId) {
        first = false;
        await otherFinished;
      }
      return event;
    });
    const input = { jobId: job.jobId, polling: DEFAULT_POLLING };
    const runs = [gw.workflow.submit(input), gw.workflow.submit(input)];
    await Promise.allSettled(runs.map((run) => run.finally(() => (first ? undefined : otherDone()))));
    otherDone();
    await Promise.allSettled(runs);

    const events = await gw.audit.list(job.jobId);
    const submitted = events.filter((e) => e.type === 'SUBMITTED');
    expect(submitted).toHaveLength(1);
    const named = submitted[0]!.emr?.stepId;
    const after = await gw.jobs.get(job.jobId);
    expect(after?.stepId).toBe(named);
    expect(gw.emr.steps.map((s) => ({ id: s.id, cancelled: s.cancelledWith !== undefined }))).toEqual(
      expect.arrayContaining([{ id: named, cancelled: false }, { id: expect.not.stringMatching(String(named)), cancelled: true }]),
    );
    const stopped = events.find((e) => e.type === 'STEP_STOPPED');
    expect(stopped?.emr?.stepId).not.toBe(named);
    expect(String(stopped?.detail?.reason)).toMatch(/another run/);
  });
});

describe('scenarios', () => {
  it('completed: PENDING → RUNNING → COMPLETED, each state recorded once', async () => {
    gw.emr.nextScript = ['PENDING', 'PENDING', 'RUNNING', 'RUNNING', 'RUNNING', 'COMPLETED'];
    const job = await submitAndFinish();
    expect(job).toMatchObject({ status: 'COMPLETED', emrState: 'COMPLETED', stepId: gw.emr.steps[0]!.id });
    expect(await auditOf(job.jobId)).toEqual(['DECISION', 'SUBMITTED', 'STATE_CHANGED:PENDING', 'STATE_CHANGED:RUNNING', 'COMPLETED']);
    const step = gw.emr.steps[0]!;
    expect(step.input.ExecutionRoleArn).toBe(role('CallerTeamRoleETL'));
    expect(step.input.Steps?.[0]?.HadoopJarStep).toEqual({ Jar: 'command-runner.jar', Args: ['bash', '-c', 'echo hello'] });
    expect(step.name).toBe(`nightly etl [${job.jobId}]`);
    expect(gw.runner.executions.get(job.jobId)?.status).toBe('SUCCEEDED');
  });

  it("failed: the job ends FAILED with EMR's FailureDetails", async () => {
    gw.emr.nextScript = ['RUNNING', 'FAILED'];
    gw.emr.nextFailure = { Reason: 'Unknown Error.', Message: 'Exception in thread "main" java.lang.RuntimeException: boom', LogFile: 's3://logs/j-2AXXXXXXGAPLF/steps/s-1/stderr.gz' };
    const job = await submitAndFinish();
    expect(job.status).toBe('FAILED');
    expect(job.failureDetails).toEqual({ reason: 'Unknown Error.', message: 'Exception in thread "main" java.lang.RuntimeException: boom', logFile: 's3://logs/j-2AXXXXXXGAPLF/steps/s-1/stderr.gz' });
    expect(await auditOf(job.jobId)).toEqual(['DECISION', 'SUBMITTED', 'STATE_CHANGED:RUNNING', 'FAILED']);
    const [, , , failed] = await gw.audit.list(job.jobId);
    expect(failed?.emr).toMatchObject({ state: 'FAILED', failureDetails: { reason: 'Unknown Error.' } });
  });

  it('cancelled while RUNNING: CancelSteps, CANCEL_REQUESTED audited, CANCELLED once EMR says so', async () => {
    gw.emr.nextScript = ['RUNNING'];
    const { job } = await gw.service.submit({ caller: { callerArn: ALICE }, body: submitBody() });
    await untilJob(gw.jobs, job.jobId, (j) => j.status === 'RUNNING');
    const afterCancel = await gw.service.cancel({ callerArn: ALICE }, job.jobId);
    expect(afterCancel.cancelRequested).toMatchObject({ by: ALICE, mode: 'SEND_INTERRUPT', sent: true });
    const finished = await gw.finish(job.jobId);
    expect(finished?.status).toBe('CANCELLED');
    expect(gw.emr.steps[0]!.cancelledWith).toBe('SEND_INTERRUPT');
    expect(await auditOf(job.jobId)).toEqual(['DECISION', 'SUBMITTED', 'STATE_CHANGED:RUNNING', 'CANCEL_REQUESTED', 'STATE_CHANGED:CANCEL_PENDING', 'CANCELLED']);
    // Cancelling a finished job is a clear conflict, not an error.
    await expect(gw.service.cancel({ callerArn: ALICE }, job.jobId)).rejects.toThrow(ConflictError);
    await expect(gw.service.cancel({ callerArn: ALICE }, job.jobId)).rejects.toThrow(/is CANCELLED: there is nothing to cancel/);
  });

  it('cancelled before submission: the submit task sees the request and never adds the step', async () => {
    const held = gw.serviceWith({ start: () => Promise.resolve() }); // the state machine has not run yet
    const { job } = await held.submit({ caller: { callerArn: ALICE }, body: submitBody() });
    const cancelled = await held.cancel({ callerArn: ALICE }, job.jobId, 'TERMINATE_PROCESS');
    expect(cancelled).toMatchObject({ status: 'ACCEPTED', cancelRequested: { mode: 'TERMINATE_PROCESS' } });
    expect(cancelled.cancelRequested?.sent).toBeUndefined();
    await gw.runner.start({ jobId: job.jobId, polling: { initialSeconds: 15, factor: 2, maxSeconds: 300 } });
    const finished = await gw.finish(job.jobId);
    expect(finished?.status).toBe('CANCELLED');
    expect(gw.emr.mock.calls()).toHaveLength(0);
    expect(await auditOf(job.jobId)).toEqual(['DECISION', 'CANCEL_REQUESTED', 'CANCELLED']);
  });

  it('throttled three times, then accepted: retried with backoff, one step, same audit as a clean run', async () => {
    gw.emr.nextScript = ['RUNNING', 'COMPLETED'];
    const throttle = () => awsError('ThrottlingException', 'Rate exceeded');
    gw.emr.failNext('AddJobFlowSteps', throttle(), throttle(), throttle());
    const job = await submitAndFinish();
    expect(job.status).toBe('COMPLETED');
    expect(gw.emr.calls('AddJobFlowSteps')).toBe(4);
    expect(gw.emr.steps).toHaveLength(1);
    expect(await auditOf(job.jobId)).toEqual(['DECISION', 'SUBMITTED', 'STATE_CHANGED:RUNNING', 'COMPLETED']);
    const retries = gw.runner.executions.get(job.jobId)!.events.filter((e) => e.type === 'StateRetried');
    expect(retries).toHaveLength(3);
  });

  it('5xx and throttling on DescribeStep are retried too', async () => {
    gw.emr.nextScript = ['RUNNING', 'COMPLETED'];
    gw.emr.failNext('DescribeStep', awsError('InternalServerError', 'oops', 500), awsError('ThrottlingException', 'Rate exceeded'));
    const job = await submitAndFinish();
    expect(job.status).toBe('COMPLETED');
    expect(await auditOf(job.jobId)).toEqual(['DECISION', 'SUBMITTED', 'STATE_CHANGED:RUNNING', 'COMPLETED']);
  });

  it('timeout: at the deadline the step is cancelled (TERMINATE_PROCESS) and the job ends TIMED_OUT', async () => {
    gw.emr.nextScript = ['RUNNING'];
    const job = await submitAndFinish(submitBody({ timeoutSeconds: 60 }));
    expect(job.status).toBe('TIMED_OUT');
    expect(job.timedOut).toBe(true);
    expect(gw.emr.steps[0]!.cancelledWith).toBe('TERMINATE_PROCESS');
    expect(await auditOf(job.jobId)).toEqual(['DECISION', 'SUBMITTED', 'STATE_CHANGED:RUNNING', 'TIMEOUT', 'STATE_CHANGED:CANCEL_PENDING', 'TIMED_OUT']);
    // The deadline is kept: polls were capped so the timeout was noticed at 60 s, not at the next backoff step.
    const timeoutEvent = (await gw.audit.list(job.jobId)).find((e) => e.type === 'TIMEOUT')!;
    expect(Date.parse(timeoutEvent.at) - Date.parse(job.createdAt)).toBe(60_000);
  });

  it("EMR refusing the role: REJECTED with EMR's message, no polling", async () => {
    const message = 'Runtime roles are not supported on this cluster.';
    gw.emr.failNext('AddJobFlowSteps', awsError('ValidationException', message));
    const job = await submitAndFinish();
    expect(job.status).toBe('REJECTED');
    expect(job.failureDetails).toEqual({ reason: 'EMR_REJECTED', message });
    expect(await auditOf(job.jobId)).toEqual(['DECISION', 'REJECTED']);
    expect(gw.emr.calls('DescribeStep')).toBe(0);
    expect(gw.runner.executions.get(job.jobId)?.status).toBe('SUCCEEDED');
  });

  it('denied by policy: a REJECTED job with its audit event, and no execution, no EMR call', async () => {
    const denied = gw.service.submit({ caller: { callerArn: CAROL }, body: submitBody() });
    await expect(denied).rejects.toThrow(ForbiddenError);
    const error = (await denied.catch((e: unknown) => e)) as ForbiddenError;
    const jobId = error.details?.jobId as string;
    expect(error.message).toMatch(/^implicitly denied/);
    const job = await gw.jobs.get(jobId);
    expect(job).toMatchObject({ status: 'REJECTED', decision: { result: 'ImplicitlyDenied' } });
    expect(await auditOf(jobId)).toEqual(['DECISION']);
    expect((await gw.audit.list(jobId))[0]?.decision).toMatchObject({ result: 'ImplicitlyDenied' });
    expect(gw.runner.executions.size).toBe(0);
    expect(gw.emr.mock.calls()).toHaveLength(0);
  });

  it('an unexpected error (AccessDenied from EMR) ends FAILED with the error and a final audit event', async () => {
    gw.emr.failNext('AddJobFlowSteps', awsError('AccessDeniedException', 'not authorized to perform elasticmapreduce:AddJobFlowSteps'));
    const job = await submitAndFinish();
    expect(job.status).toBe('FAILED');
    expect(job.failureDetails?.reason).toBe('GATEWAY_ERROR');
    expect(job.failureDetails?.message).toMatch(/AccessDeniedException: not authorized/);
    expect(await auditOf(job.jobId)).toEqual(['DECISION', 'FAILED']);
    expect(gw.runner.executions.get(job.jobId)?.status).toBe('FAILED');
  });
});

describe('an execution started with the previous release\'s input (no polling.heartbeatSeconds: code not yet updated during a deploy)', () => {
  it('waits with the default heartbeat and ends the job, never failing on the missing field', async () => {
    const held = gw.serviceWith({ start: () => Promise.resolve() });
    const { job } = await held.submit({ caller: { callerArn: ALICE }, body: submitBody() });
    gw.emr.nextScript = ['RUNNING', 'COMPLETED'];
    const execution = gw.runner.run(job.jobId, { jobId: job.jobId, polling: { initialSeconds: 15, factor: 2, maxSeconds: 300 } });
    await execution.done;
    expect(execution.status).toBe('SUCCEEDED');
    expect(await gw.jobs.get(job.jobId)).toMatchObject({ status: 'COMPLETED' });
  });
});

describe('idempotency', () => {
  it('100 concurrent duplicates: exactly one job, one execution, one decision event', async () => {
    gw.emr.nextScript = ['RUNNING', 'COMPLETED'];
    const results = await Promise.all(
      Array.from({ length: 100 }, () => gw.service.submit({ caller: { callerArn: ALICE }, body: submitBody(), idempotencyKey: 'nightly-2026-11-28' })),
    );
    const ids = new Set(results.map((r) => r.job.jobId));
    expect(ids.size).toBe(1);
    expect(results.filter((r) => !r.replayed)).toHaveLength(1);
    expect(gw.runner.executions.size).toBe(1);
    const [jobId] = [...ids];
    await gw.finish(jobId!);
    expect(gw.emr.steps).toHaveLength(1);
    expect(await auditOf(jobId!)).toEqual(['DECISION', 'SUBMITTED', 'STATE_CHANGED:RUNNING', 'COMPLETED']);
    const listed = await gw.jobs.list({ principalArn: role('DataTeamA'), limit: 100 });
    expect(listed.jobs).toHaveLength(1);
  });

  it('the same key and body returns the same job; another body is a conflict', async () => {
    const first = await gw.service.submit({ caller: { callerArn: ALICE }, body: submitBody(), idempotencyKey: 'k1' });
    const again = await gw.service.submit({ caller: { callerArn: ALICE }, body: submitBody(), idempotencyKey: 'k1' });
    expect(again).toMatchObject({ replayed: true, job: { jobId: first.job.jobId } });
    await expect(gw.service.submit({ caller: { callerArn: ALICE }, body: submitBody({ name: 'other' }), idempotencyKey: 'k1' })).rejects.toThrow(
      /already used with a different request body/,
    );
    // Keys are per principal: another principal's identical key is another job (here: denied).
    await expect(gw.service.submit({ caller: { callerArn: CAROL }, body: submitBody(), idempotencyKey: 'k1' })).rejects.toThrow(ForbiddenError);
    await gw.finish(first.job.jobId);
  });
});

describe('faults between two writes', () => {
  it('a crash between the audit write and the job update is repaired by the retry: no duplicate event, no second step', async () => {
    await gw.stop();
    const fault = crashAfterEvent('SUBMITTED');
    gw = await startGateway({ wrapDb: fault });
    gw.emr.nextScript = ['RUNNING', 'COMPLETED'];
    const job = await submitAndFinish();
    expect(fault.crashes).toBe(1);
    expect(job.status).toBe('COMPLETED');
    expect(gw.emr.calls('AddJobFlowSteps')).toBe(1); // the retry found the step by its job marker
    expect(gw.emr.calls('ListSteps')).toBe(1);
    expect(await auditOf(job.jobId)).toEqual(['DECISION', 'SUBMITTED', 'STATE_CHANGED:RUNNING', 'COMPLETED']);
  });
});

describe('source identity', () => {
  it('where the cluster propagates it, the submission assumes the submitter role with the caller as SourceIdentity', async () => {
    gw.emr.nextScript = ['COMPLETED'];
    const job = await submitAndFinish();
    expect(gw.sts.calls).toEqual([{ RoleArn: SUBMITTER_ROLE, RoleSessionName: `emr-gateway-${job.jobId}`, SourceIdentity: 'alice', DurationSeconds: 900 }]);
    expect(gw.assumed).toHaveLength(1);
    const submitted = (await gw.audit.list(job.jobId)).find((e) => e.type === 'SUBMITTED');
    expect(submitted?.emr).toMatchObject({ sourceIdentity: 'alice' });
  });
  it('a session name the rule does not mark verified is never sent as SourceIdentity: the gateway submits with its own role', async () => {
    const unverified = await startGateway({ configYaml: UNVERIFIED_CONFIG_YAML });
    try {
      unverified.emr.nextScript = ['COMPLETED'];
      const { job } = await unverified.service.submit({ caller: { callerArn: SPOOFED }, body: submitBody() });
      expect((await unverified.finish(job.jobId))?.status).toBe('COMPLETED');
      expect(unverified.sts.calls).toEqual([]);
      expect(unverified.assumed).toEqual([]);
      const submitted = (await unverified.audit.list(job.jobId)).find((e) => e.type === 'SUBMITTED');
      expect(submitted?.emr).not.toHaveProperty('sourceIdentity');
    } finally {
      await unverified.stop();
    }
  });
  it("elsewhere the gateway submits with its own role", async () => {
    gw.emr.nextScript = ['COMPLETED'];
    const job = await submitAndFinish(submitBody({ clusterId: PLAIN_CLUSTER }));
    expect(job.status).toBe('COMPLETED');
    expect(gw.sts.calls).toEqual([]);
    expect(gw.assumed).toEqual([]);
  });
});

describe('when the workflow cannot start', () => {
  // Step Functions answering StartExecution with `error`, seen through the real adapter.
  const broken = (error: Error) => new SfnWorkflowStarter({ send: () => Promise.reject(error) } as unknown as SFNClient, 'arn:aws:states:us-east-1:123456789012:stateMachine:test');
  it('without an Idempotency-Key the job ends FAILED (not ACCEPTED for ever), with a final audit event', async () => {
    const service = gw.serviceWith(broken(awsError('ThrottlingException', 'Rate exceeded')));
    await expect(service.submit({ caller: { callerArn: ALICE }, body: submitBody() })).rejects.toThrow('Rate exceeded');
    const [job] = (await gw.jobs.list({ principalArn: role('DataTeamA'), limit: 10 })).jobs;
    expect(job).toMatchObject({ status: 'FAILED', failureDetails: { reason: 'GATEWAY_ERROR', message: expect.stringMatching(/could not start/) } });
    expect(await auditOf(job!.jobId)).toEqual(['DECISION', 'FAILED']);
  });
  it('with a key and a transient error it stays ACCEPTED, and the retried request starts it', async () => {
    const flaky = gw.serviceWith(broken(awsError('ServiceUnavailable', 'try later', 503)));
    await expect(flaky.submit({ caller: { callerArn: ALICE }, body: submitBody(), idempotencyKey: 'retry-me' })).rejects.toThrow('try later');
    gw.emr.nextScript = ['COMPLETED'];
    const { job, replayed } = await gw.service.submit({ caller: { callerArn: ALICE }, body: submitBody(), idempotencyKey: 'retry-me' });
    expect(replayed).toBe(true);
    expect((await gw.finish(job.jobId))?.status).toBe('COMPLETED');
  });
});

describe('listing', () => {
  it('lists by caller, status and cluster, newest first, paginated by position (the store\'s raw cursor, sealed by JobService)', async () => {
    const held = gw.serviceWith({ start: () => Promise.resolve() });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      gw.clock.advance(1);
      ids.push((await held.submit({ caller: { callerArn: ALICE }, body: submitBody({ name: `job ${i}` }) })).job.jobId);
    }
    await held.submit({ caller: { callerArn: CAROL }, body: submitBody() }).catch(() => undefined);
    const page1 = await gw.jobs.list({ principalArn: role('DataTeamA'), limit: 2 });
    expect(page1.jobs.map((j) => j.jobId)).toEqual([ids[4], ids[3]]);
    const page2 = await gw.jobs.list({ principalArn: role('DataTeamA'), limit: 2, nextToken: page1.nextToken! });
    expect(page2.jobs.map((j) => j.jobId)).toEqual([ids[2], ids[1]]);
    expect((await gw.jobs.list({ status: 'REJECTED', limit: 10 })).jobs.map((j) => j.principalArn)).toEqual([role('Contractors')]);
    expect((await gw.jobs.list({ clusterId: 'j-2AXXXXXXGAPLF', status: 'ACCEPTED', limit: 10 })).jobs).toHaveLength(5);
    const from = ids[1] && (await gw.jobs.get(ids[1]))!.createdAt;
    expect((await gw.jobs.list({ principalArn: role('DataTeamA'), from: from!, limit: 10 })).jobs).toHaveLength(4);
    // The store's position is a listKey: it stays in its partition (another caller's holds nothing after it here).
    expect((await gw.jobs.list({ principalArn: role('Contractors'), limit: 2, nextToken: page1.nextToken! })).jobs).toEqual([]);
    await expect(gw.jobs.list({ principalArn: role('DataTeamA'), limit: 2, nextToken: 'garbage' })).rejects.toThrow(/nextToken/);
    // What a caller gets is sealed: the same page through the service, its token opaque and for ALICE alone.
    const sealed = await held.list({ callerArn: ALICE }, { limit: 2 });
    expect(sealed.jobs.map((j) => j.jobId)).toEqual([ids[4], ids[3]]);
    expect(sealed.nextToken).not.toContain(page1.nextToken!);
    expect(Buffer.from(sealed.nextToken!, 'base64url').toString('latin1')).not.toContain(ids[3]!);
    expect((await held.list({ callerArn: ALICE }, { limit: 2, nextToken: sealed.nextToken! })).jobs.map((j) => j.jobId)).toEqual([ids[2], ids[1]]);
    await expect(held.list({ callerArn: CAROL }, { caller: ALICE, limit: 2, nextToken: sealed.nextToken! })).rejects.toMatchObject({ issues: [{ field: 'nextToken' }] });
  });
});

describe('an execution whose job does not exist (yet)', () => {
  it('ends without recording anything (Gateway.NoSuchJob): a job created under that id meanwhile is not failed by it', async () => {
    // The execution starts for a job id whose record is not there (e.g. recovery trusted a ghost index entry);
    // the caller's retry creates the job while the execution is still on its way to its end.
    const held = gw.serviceWith({ start: () => Promise.resolve() });
    const create = () => held.submit({ caller: { callerArn: ALICE }, body: submitBody(), idempotencyKey: 'created-meanwhile' });
    const jobId = jobIdForIdempotencyKey(role('DataTeamA'), 'created-meanwhile');
    const routes = workflowRoutes(gw.workflow);
    let created: Promise<unknown> | undefined;
    const runner = new LocalWorkflowRunner({
      definition,
      routes: {
        ...routes,
        SubmitStepFunctionArn: (input) => routes.SubmitStepFunctionArn(input).catch(async (error: unknown) => {
          await (created ??= create());
          throw error;
        }),
      },
      waitOverrideMs: 0,
      retryOverrideMs: 0,
    });
    try {
      const execution = runner.run(jobId, { jobId, polling: DEFAULT_POLLING });
      await execution.done;
      expect(created).toBeDefined();
      expect(execution).toMatchObject({ status: 'FAILED', error: { error: 'Gateway.NoSuchJob' } });
      expect(await gw.jobs.get(jobId)).toMatchObject({ status: 'ACCEPTED' });
      expect(await auditOf(jobId)).toEqual(['DECISION']);
    } finally {
      await runner.stop();
    }
  });
});

describe('a job planted straight into the jobs table', () => {
  it('is refused by the submit task without any EMR call, and ends REJECTED with the reason in its trail', async () => {
    const { job } = await gw.serviceWith({ start: () => Promise.resolve() }).submit({ caller: { callerArn: ALICE }, body: submitBody() });
    // A copy of an accepted job under a new id, with no audit trail, written with the table's own API.
    const jobId = newJobId(gw.clock.now());
    const planted: Job = { ...job, jobId, listKey: `${job.createdAt}#${jobId}` };
    await gw.dynamo.client.send(new PutItemCommand({ TableName: gw.dynamo.jobsTable, Item: marshall(planted, { removeUndefinedValues: true }) }));
    await gw.runner.start({ jobId, polling: DEFAULT_POLLING });
    expect(await gw.finish(jobId)).toMatchObject({ status: 'REJECTED', failureDetails: { reason: 'GATEWAY_REFUSED' } });
    expect(gw.emr.mock.calls()).toEqual([]);
    expect((await gw.audit.list(jobId)).map((e) => [e.type, e.detail?.reason])).toEqual([['REJECTED', expect.stringMatching(/no decision/)]]);
  });
});
