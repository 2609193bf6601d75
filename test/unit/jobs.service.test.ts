/**
 * JobService (src/jobs/service.ts) against the in-memory ports, with the real policy engine from the config
 * the integration tests use (test/support/config.ts), plus one principal whose policy depends on the cluster,
 * the role and the step type, so that GET /roles and POST /jobs have something to disagree about.
 */
import { parse, stringify } from 'yaml';
import { verifyTrail } from '../../src/audit/verify';
import { ConflictError, ForbiddenError, NotFoundError, TransientError, ValidationError } from '../../src/errors';
import { denialsChain, JOB_ID } from '../../src/identifiers';
import type { Job } from '../../src/jobs/model';
import type { JobService } from '../../src/jobs/service';
import { STEP_TYPES } from '../../src/jobs/request';
import { DEFAULT_POLLING } from '../../src/jobs/workflow-input';
import { verifiedTrail } from '../support/audit';
import { ACCOUNT, ALICE, AUDITOR, CAROL, CLUSTER, GATEWAY_CONFIG_YAML, NOREADS, PEER, PLAIN_CLUSTER, role, SCOPED, SCOPED_CONFIG_YAML, SPOOFED, submitBody, UNVERIFIED_CONFIG_YAML } from '../support/config';
import { crashAfterEvent } from '../support/fakes';
import { jobRecords } from '../support/jobs';
import { memoryGateway, type MemoryGateway } from '../support/memory-gateway';

const ANALYST = `arn:aws:sts::${ACCOUNT}:assumed-role/Analysts/ann`;
const CODY = `arn:aws:sts::${ACCOUNT}:assumed-role/Contractors/cody`;
const clusterArn = (id: string): string => `arn:aws:elasticmapreduce:us-east-1:${ACCOUNT}:cluster/${id}`;
const SUBMIT = 'elasticmapreduce:AddJobFlowSteps';

/** The test config plus Analysts: spark and hive as Caller on the analytics cluster, CallerTeamRole* on the plain one, never a jar, only CONTINUE. */
function configWithAnalysts(): string {
  const doc = parse(GATEWAY_CONFIG_YAML) as { principals: unknown[]; policies: Record<string, unknown> };
  doc.principals.push({ match: role('Analysts'), policies: ['analysts'] });
  doc.policies.analysts = {
    Version: '2012-10-17',
    Statement: [
      { Sid: 'SparkHiveAsCaller', Effect: 'Allow', Action: SUBMIT, Resource: clusterArn(CLUSTER), Condition: { StringEquals: { 'elasticmapreduce:ExecutionRoleArn': role('Caller'), 'emr-gateway:StepType': ['spark', 'hive'] } } },
      { Sid: 'TeamRolesOnPlain', Effect: 'Allow', Action: SUBMIT, Resource: clusterArn(PLAIN_CLUSTER), Condition: { StringLike: { 'elasticmapreduce:ExecutionRoleArn': role('CallerTeamRole*') } } },
      { Sid: 'NoJars', Effect: 'Deny', Action: SUBMIT, Resource: '*', Condition: { StringEquals: { 'emr-gateway:StepType': 'jar' } } },
      { Sid: 'OnlyContinue', Effect: 'Deny', Action: SUBMIT, Resource: '*', Condition: { StringNotEquals: { 'emr-gateway:ActionOnFailure': 'CONTINUE' } } },
    ],
  };
  return stringify(doc);
}
const CONFIG = configWithAnalysts();

const STEPS: Record<(typeof STEP_TYPES)[number], Record<string, unknown>> = {
  spark: { type: 'spark', args: ['s3://code-bucket/app.py'] },
  hive: { type: 'hive', script: 's3://code-bucket/query.sql' },
  command: { type: 'command', args: ['bash', '-c', 'echo hi'] },
  jar: { type: 'jar', jar: 's3://code-bucket/app.jar' },
};

let g: MemoryGateway;
beforeEach(() => {
  g = memoryGateway({ configYaml: CONFIG });
});

const submit = (callerArn: string, body: Record<string, unknown> = submitBody(), idempotencyKey?: string) =>
  g.service.submit({ caller: { callerArn }, body, ...(idempotencyKey !== undefined ? { idempotencyKey } : {}) });
const rejection = <T>(promise: Promise<T>): Promise<unknown> => promise.then(() => undefined, (e: unknown) => e);
const trail = (jobId: string): Promise<string[]> => verifiedTrail(g, jobId, { headAtEnd: true });
const eventsOf = async (jobId: string, type: string) => (await g.audit.list(jobId)).filter((e) => e.type === type);
const denialsOf = (principalArn: string) => g.audit.list(denialsChain(principalArn));
const nothingWritten = () => {
  expect(g.jobs.items.size).toBe(0);
  expect(g.audit.chains.size).toBe(0);
  expect(g.starter.attempts).toEqual([]);
  expect(g.emr.calls).toEqual([]);
};

describe('submit', () => {
  it('allowed: an ACCEPTED job, its DECISION event first, the workflow started with the job id', async () => {
    const { job, replayed } = await submit(ALICE);
    expect(replayed).toBe(false);
    expect(job).toMatchObject({
      status: 'ACCEPTED', version: 1, principalArn: role('DataTeamA'), clusterId: CLUSTER, executionRoleArn: role('CallerTeamRoleETL'),
      actor: { principalArn: role('DataTeamA'), callerArn: ALICE, sourceIdentity: 'alice' },
      decision: { result: 'Allowed', reason: 'allowed by team-a statement 0' }, submitAttempts: 0, auditSeq: 0,
      createdAt: g.clock.now().toISOString(), listKey: `${g.clock.now().toISOString()}#${job.jobId}`,
    });
    expect(await g.jobs.get(job.jobId)).toEqual(job);
    expect(await trail(job.jobId)).toEqual(['DECISION']);
    const [decision] = await g.audit.list(job.jobId);
    expect(decision).toMatchObject({ hash: job.auditHash, actor: { callerArn: ALICE }, decision: { result: 'Allowed' }, subject: { clusterId: CLUSTER, name: 'nightly etl', stepType: 'command', argsHash: job.argsHash } });
    expect(g.starter.attempts).toEqual([{ jobId: job.jobId, polling: DEFAULT_POLLING }]);
    expect(g.emr.calls).toEqual([]); // EMR is the workflow's business
  });

  it('denied: a REJECTED job, audited, ForbiddenError with the reason, no workflow', async () => {
    const error = await rejection(submit(CAROL));
    expect(error).toBeInstanceOf(ForbiddenError);
    const { message, details } = error as ForbiddenError;
    expect(message).toMatch(/^implicitly denied/);
    const jobId = details?.jobId as string;
    expect(await g.jobs.get(jobId)).toMatchObject({ status: 'REJECTED', principalArn: role('Contractors'), decision: { result: 'ImplicitlyDenied', reason: message }, finishedAt: g.clock.now().toISOString() });
    expect(await trail(jobId)).toEqual(['DECISION']);
    expect((await g.audit.list(jobId))[0]?.decision).toMatchObject({ result: 'ImplicitlyDenied', reason: message });
    expect(g.starter.attempts).toEqual([]);
  });

  it('explicitly denied: the reason names the statement', async () => {
    const error = await rejection(submit(ANALYST, submitBody({ clusterId: PLAIN_CLUSTER, step: STEPS.jar })));
    expect(error).toMatchObject({ name: 'ForbiddenError', message: 'explicitly denied by analysts statement 2 (Sid NoJars)' });
    expect(g.starter.attempts).toEqual([]);
  });

  it.each([
    ['clusterId', submitBody({ clusterId: 'j-1NOTMANAGED' }), undefined, /is not a cluster this gateway manages/],
    ['executionRoleArn', submitBody({ executionRoleArn: role('OutsideTheCatalogue') }), undefined, /is not one of the runtime roles/],
    ['Idempotency-Key', submitBody(), 'has a space', /printable ASCII/],
    ['Idempotency-Key', submitBody(), '', /printable ASCII/],
    ['Idempotency-Key', submitBody(), 'k'.repeat(256), /printable ASCII/],
    ['name', submitBody({ name: '' }), undefined, /must not be empty/],
  ])('validation: %s (%#) is a ValidationError naming the field, and nothing is written', async (field, body, key, message) => {
    const error = await rejection(submit(ALICE, body, key));
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues).toEqual([{ field, message: expect.stringMatching(message) }]);
    nothingWritten();
  });

  it('a caller that is not an IAM principal is refused before anything is written', async () => {
    await expect(submit('not-an-arn')).rejects.toThrow(ForbiddenError);
    nothingWritten();
  });

  it('idempotent replay: the same key and body return the same job (replayed); another body is a conflict, with its own decision audited', async () => {
    const first = await submit(ALICE, submitBody(), 'nightly-2026-11-28');
    g.clock.advance(5);
    const again = await submit(ALICE, submitBody(), 'nightly-2026-11-28');
    expect(again).toEqual({ job: first.job, replayed: true });
    // Still ACCEPTED: the first attempt may have died before starting the workflow; a second start is harmless.
    expect(g.starter.attempts.map((i) => i.jobId)).toEqual([first.job.jobId, first.job.jobId]);

    const conflict = await rejection(submit(ALICE, submitBody({ name: 'other' }), 'nightly-2026-11-28'));
    expect(conflict).toBeInstanceOf(ConflictError);
    expect(conflict).toMatchObject({ message: 'this Idempotency-Key was already used with a different request body', details: { jobId: first.job.jobId } });
    const decisions = await eventsOf(first.job.jobId, 'DECISION');
    expect(decisions.map((e) => e.subject?.name)).toEqual(['nightly etl', 'other']);
    // The job is unchanged but for its head, which moves over the other body's decision (else it would stay
    // beyond the head, where only a write in flight may be); and the trail still verifies.
    const { updatedAt: _u, version: _v, auditSeq: _s, auditHash: _h, ...unchanged } = first.job;
    expect(await g.jobs.get(first.job.jobId)).toEqual({ ...unchanged, auditSeq: 1, auditHash: decisions[1]!.hash, version: 2, updatedAt: g.clock.now().toISOString() });
    await verifiedTrail(g, first.job.jobId, { headAtEnd: true });
    expect(g.starter.attempts).toHaveLength(2);

    // Keys are per principal: the same key from another principal is another job.
    const other = await rejection(submit(CAROL, submitBody(), 'nightly-2026-11-28'));
    expect((other as ForbiddenError).details?.jobId).not.toBe(first.job.jobId);
  });

  it('replaying a denied submission is denied again, without a second decision event', async () => {
    const first = (await rejection(submit(CAROL, submitBody(), 'k'))) as ForbiddenError;
    const second = (await rejection(submit(CAROL, submitBody(), 'k'))) as ForbiddenError;
    expect(second).toBeInstanceOf(ForbiddenError);
    expect(second.details?.jobId).toBe(first.details?.jobId);
    expect(await trail(first.details?.jobId as string)).toEqual(['DECISION']);
  });

  it('replaying a job the workflow has taken on returns it without starting the workflow again', async () => {
    const first = await submit(ALICE, submitBody(), 'k');
    await g.tasks.submit(g.input(first.job.jobId));
    const again = await submit(ALICE, submitBody(), 'k');
    expect(again).toMatchObject({ replayed: true, job: { jobId: first.job.jobId, status: 'SUBMITTED' } });
    expect(g.starter.attempts).toHaveLength(1);
  });

  it('a workflow start failing with TransientError keeps the job ACCEPTED when a key was given; the retry starts it', async () => {
    g.starter.failNext(new TransientError('StartExecution: ServiceUnavailable: try later'));
    await expect(submit(ALICE, submitBody(), 'retry-me')).rejects.toThrow(TransientError);
    const [job] = [...g.jobs.items.values()];
    expect(job).toMatchObject({ status: 'ACCEPTED' });
    expect(await trail(job!.jobId)).toEqual(['DECISION']);
    expect(await submit(ALICE, submitBody(), 'retry-me')).toMatchObject({ replayed: true, job: { jobId: job!.jobId, status: 'ACCEPTED' } });
    expect(g.starter.attempts.map((i) => i.jobId)).toEqual([job!.jobId, job!.jobId]);
  });

  it.each([
    ['without a key, a TransientError', new TransientError('StartExecution: ThrottlingException: Rate exceeded'), undefined, 'Gateway.Transient'],
    ['with a key, an error no retry cures', Object.assign(new Error('no such state machine'), { name: 'StateMachineDoesNotExist' }), 'k', 'StateMachineDoesNotExist'],
  ])('a workflow start failing %s ends the job FAILED (never ACCEPTED for ever), audited', async (_title, error, key, name) => {
    g.starter.failNext(error);
    await expect(submit(ALICE, submitBody(), key)).rejects.toBe(error);
    const [job] = [...g.jobs.items.values()];
    expect(job).toMatchObject({ status: 'FAILED', failureDetails: { reason: 'GATEWAY_ERROR', message: `${name}: the workflow could not start: ${error.message}` } });
    expect(await trail(job!.jobId)).toEqual(['DECISION', 'FAILED']);
  });
});

describe('actionOnFailure per cluster (a failing CANCEL_AND_WAIT step cancels every pending step on its cluster)', () => {
  /** CONFIG, with the plain cluster allowing CANCEL_AND_WAIT; the analytics cluster keeps the default. */
  function configAllowingCancelOnPlain(): string {
    const doc = parse(CONFIG) as { clusters: Record<string, unknown>[] };
    doc.clusters = doc.clusters.map((c) => (c.id === PLAIN_CLUSTER ? { ...c, allowedActionsOnFailure: ['CONTINUE', 'CANCEL_AND_WAIT'] } : c));
    return stringify(doc);
  }
  beforeEach(() => {
    g = memoryGateway({ configYaml: configAllowingCancelOnPlain() });
  });

  it.each([
    ['CANCEL_AND_WAIT', ALICE],
    ['TERMINATE_CLUSTER', ALICE],
    ['TERMINATE_JOB_FLOW', ALICE],
    ['CANCEL_AND_WAIT', CAROL], // whom the policy would deny: refused the same way, before the policy is asked
  ])('%s on a cluster that allows only CONTINUE (the default), as %s: a ValidationError naming actionOnFailure and the allowed values; nothing written', async (actionOnFailure, caller) => {
    const error = await rejection(submit(caller, submitBody({ actionOnFailure })));
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues).toEqual([
      { field: 'actionOnFailure', message: expect.stringContaining(`${actionOnFailure} is not allowed on cluster ${CLUSTER} (analytics): it allows CONTINUE`) },
    ]);
    nothingWritten();
  });

  it('a cluster configured to allow CANCEL_AND_WAIT takes it (the policy still decides), and refuses what it does not list', async () => {
    const { job } = await submit(ALICE, submitBody({ clusterId: PLAIN_CLUSTER, actionOnFailure: 'CANCEL_AND_WAIT' }));
    expect(job).toMatchObject({ status: 'ACCEPTED', request: { actionOnFailure: 'CANCEL_AND_WAIT' } });
    await expect(submit(CAROL, submitBody({ clusterId: PLAIN_CLUSTER, actionOnFailure: 'CANCEL_AND_WAIT' }))).rejects.toThrow(ForbiddenError);
    const error = await rejection(submit(ALICE, submitBody({ clusterId: PLAIN_CLUSTER, actionOnFailure: 'TERMINATE_CLUSTER' })));
    expect((error as ValidationError).issues).toEqual([{ field: 'actionOnFailure', message: expect.stringContaining('it allows CONTINUE, CANCEL_AND_WAIT') }]);
    expect((await submit(ALICE, submitBody())).job.status).toBe('ACCEPTED'); // CONTINUE, the default, everywhere
  });
});

describe('session names: an identity only where the principals rule marks them verified', () => {
  const submittedEmr = async (m: MemoryGateway, jobId: string) => (await m.audit.list(jobId)).find((e) => e.type === 'SUBMITTED')?.emr;

  it('on a rule that says nothing, a spoofed session name is not the source identity: not on the job, not in the audit, not sent to EMR', async () => {
    const u = memoryGateway({ configYaml: UNVERIFIED_CONFIG_YAML });
    const { job } = await u.service.submit({ caller: { callerArn: SPOOFED }, body: submitBody() });
    // The owner is the role; the session name is kept only as what the caller chose.
    expect(job.actor).toEqual({ principalArn: role('DataTeamA'), callerArn: SPOOFED, sessionName: 'chosen-by-caller' });
    expect((await u.audit.list(job.jobId))[0]?.actor).toEqual(job.actor);
    await u.run(job.jobId);
    expect(await submittedEmr(u, job.jobId)).toEqual({ stepId: expect.stringMatching(/^s-/) });
  });

  it('on a rule marked sessionNames: verified, the session name is the source identity, in the audit and sent to EMR', async () => {
    const { job } = await g.service.submit({ caller: { callerArn: SPOOFED }, body: submitBody() });
    expect(job.actor).toEqual({ principalArn: role('DataTeamA'), callerArn: SPOOFED, sourceIdentity: 'chosen-by-caller' });
    expect((await g.audit.list(job.jobId))[0]?.actor).toEqual(job.actor);
    await g.run(job.jobId);
    expect(await submittedEmr(g, job.jobId)).toEqual({ stepId: expect.stringMatching(/^s-/), sourceIdentity: 'chosen-by-caller' });
  });

  it("a schedule's configured source identity is kept on either kind of rule", async () => {
    const u = memoryGateway({ configYaml: UNVERIFIED_CONFIG_YAML });
    const caller = { callerArn: role('DataTeamA'), sourceIdentity: 'schedule-nightly', trigger: 'schedule:nightly' };
    const { job } = await u.service.submit({ caller, body: submitBody() });
    expect(job.actor).toEqual({ principalArn: role('DataTeamA'), callerArn: role('DataTeamA'), sourceIdentity: 'schedule-nightly', trigger: 'schedule:nightly' });
  });
});

describe('cancel', () => {
  it('own job before its step exists: recorded for the submit task, nothing sent to EMR', async () => {
    const { job } = await submit(ALICE);
    const cancelled = await g.service.cancel({ callerArn: ALICE }, job.jobId);
    expect(cancelled).toMatchObject({ status: 'ACCEPTED', cancelRequested: { by: ALICE, mode: 'SEND_INTERRUPT', at: g.clock.now().toISOString() } });
    expect(cancelled.cancelRequested).not.toHaveProperty('sent');
    expect(g.emr.calls).toEqual([]);
    expect(await trail(job.jobId)).toEqual(['DECISION', 'CANCEL_REQUESTED']);
    expect((await eventsOf(job.jobId, 'CANCEL_REQUESTED'))[0]).toMatchObject({ actor: { callerArn: ALICE }, detail: { mode: 'SEND_INTERRUPT' } });
  });

  it('own job with a step: EMR CancelSteps with the mode asked for, marked sent', async () => {
    g.emr.nextScript = ['RUNNING'];
    const { job } = await submit(ALICE);
    await g.tasks.submit(g.input(job.jobId));
    const cancelled = await g.service.cancel({ callerArn: ALICE }, job.jobId, 'TERMINATE_PROCESS');
    expect(cancelled.cancelRequested).toMatchObject({ mode: 'TERMINATE_PROCESS', sent: true });
    expect(g.emr.calls.at(-1)).toEqual({ operation: 'cancel', args: [CLUSTER, cancelled.stepId, 'TERMINATE_PROCESS'] });
    expect(await trail(job.jobId)).toEqual(['DECISION', 'SUBMITTED', 'CANCEL_REQUESTED']);
    // Asked again: nothing new is sent or audited.
    await g.service.cancel({ callerArn: ALICE }, job.jobId, 'TERMINATE_PROCESS');
    expect(g.emr.count('cancel')).toBe(1);
    expect(await trail(job.jobId)).toEqual(['DECISION', 'SUBMITTED', 'CANCEL_REQUESTED']);
  });

  it('a finished job: ConflictError, nothing audited', async () => {
    g.emr.nextScript = ['COMPLETED'];
    const { job } = await submit(ALICE);
    await g.run(job.jobId);
    const error = await rejection(g.service.cancel({ callerArn: ALICE }, job.jobId));
    expect(error).toBeInstanceOf(ConflictError);
    expect(error).toMatchObject({ message: `job ${job.jobId} is COMPLETED: there is nothing to cancel`, details: { status: 'COMPLETED' } });
    expect(await trail(job.jobId)).toEqual(['DECISION', 'SUBMITTED', 'COMPLETED']);
  });

  it('racing the step\'s end (it completes while CancelSteps is in flight): ConflictError, not the COMPLETED job as if cancelled', async () => {
    g.emr.nextScript = ['RUNNING', 'COMPLETED'];
    const { job } = await submit(ALICE);
    await g.tasks.submit(g.input(job.jobId));
    await g.tasks.poll({ ...g.input(job.jobId), poll: { done: false, status: 'SUBMITTED', waitSeconds: 1 } });
    expect((await g.jobs.get(job.jobId))?.status).toBe('RUNNING');
    // The step ends on EMR, and the workflow records it, just before CancelSteps reaches EMR.
    const cancelSteps = g.emr.cancel.bind(g.emr);
    g.emr.cancel = async (...args) => {
      await g.tasks.poll({ ...g.input(job.jobId), poll: { done: false, status: 'RUNNING', waitSeconds: 1 } });
      return cancelSteps(...args);
    };
    const error = await rejection(g.service.cancel({ callerArn: ALICE }, job.jobId));
    expect(error).toBeInstanceOf(ConflictError);
    expect(error).toMatchObject({ message: `job ${job.jobId} is COMPLETED: there is nothing to cancel`, details: { status: 'COMPLETED' } });
    expect((await g.jobs.get(job.jobId))?.status).toBe('COMPLETED');
  });

  it('a cancel EMR accepted, the step then CANCELLED before the answer: the job as cancelled, no conflict', async () => {
    g.emr.nextScript = ['RUNNING'];
    const { job } = await submit(ALICE);
    await g.tasks.submit(g.input(job.jobId));
    const cancelSteps = g.emr.cancel.bind(g.emr);
    g.emr.cancel = async (...args) => {
      const answer = await cancelSteps(...args);
      for (let i = 0; i < 3; i++) await g.tasks.poll({ ...g.input(job.jobId), poll: { done: false, status: 'RUNNING', waitSeconds: 1 } });
      return answer;
    };
    const cancelled = await g.service.cancel({ callerArn: ALICE }, job.jobId);
    expect(cancelled.status).toBe('CANCELLED');
  });

  it('retried after a crash between its two writes: one CANCEL_REQUESTED', async () => {
    const { job } = await submit(ALICE);
    const fault = crashAfterEvent(g, 'CANCEL_REQUESTED');
    await expect(g.service.cancel({ callerArn: ALICE }, job.jobId)).rejects.toThrow(TransientError);
    expect((await g.jobs.get(job.jobId))?.cancelRequested).toBeUndefined();
    expect((await g.service.cancel({ callerArn: ALICE }, job.jobId)).cancelRequested).toMatchObject({ mode: 'SEND_INTERRUPT' });
    expect(fault.crashes).toBe(1);
    expect(await trail(job.jobId)).toEqual(['DECISION', 'CANCEL_REQUESTED']);
  });

  it('an unknown job: NotFoundError', async () => {
    await expect(g.service.cancel({ callerArn: ALICE }, 'job-0123456789abcdefghjkmnpqrs')).rejects.toThrow(NotFoundError);
    await expect(g.service.get({ callerArn: ALICE }, 'job-0123456789abcdefghjkmnpqrs')).rejects.toThrow(NotFoundError);
  });
});

describe('reads and cancels by others', () => {
  it('a denied read: READ_DENIED once per job and hour on its trail (first principal, not the session), every one in full on the denier\'s chain', async () => {
    const { job } = await submit(ALICE);
    const error = await rejection(g.service.get({ callerArn: CAROL }, job.jobId));
    expect(error).toBeInstanceOf(ForbiddenError);
    expect((error as Error).message).toMatch(new RegExp(`^not allowed to read ${job.jobId}: implicitly denied`));
    await expect(g.service.auditTrail({ callerArn: CAROL }, job.jobId)).rejects.toThrow(ForbiddenError);
    g.clock.advance(60);
    await expect(g.service.get({ callerArn: CAROL }, job.jobId)).rejects.toThrow(ForbiddenError);
    await expect(g.service.get({ callerArn: CODY }, job.jobId)).rejects.toThrow(ForbiddenError);
    expect(await trail(job.jobId)).toEqual(['DECISION', 'READ_DENIED']);
    const [onJob] = await eventsOf(job.jobId, 'READ_DENIED');
    expect(onJob).toMatchObject({
      actor: { principalArn: role('Contractors') },
      decision: { result: 'ImplicitlyDenied' },
      detail: { action: 'elasticmapreduce:DescribeStep', hour: g.clock.now().toISOString().slice(0, 13), recordedOn: denialsChain(role('Contractors')) },
    });
    expect(JSON.stringify(onJob)).not.toContain('carol');
    // In full on the denied principal's own chain: one per caller, job, action and minute.
    const mine = await denialsOf(role('Contractors'));
    expect(mine.map((e) => [e.type, e.actor?.callerArn, e.subject?.jobId, e.detail?.action])).toEqual([
      ['READ_DENIED', CAROL, job.jobId, 'elasticmapreduce:DescribeStep'],
      ['READ_DENIED', CAROL, job.jobId, 'elasticmapreduce:DescribeStep'],
      ['READ_DENIED', CODY, job.jobId, 'elasticmapreduce:DescribeStep'],
    ]);
    expect(mine[0]).toMatchObject({ actor: { principalArn: role('Contractors'), callerArn: CAROL }, decision: { result: 'ImplicitlyDenied' } });
    // The next hour: one more on the job.
    g.clock.advance(3600);
    await expect(g.service.get({ callerArn: CAROL }, job.jobId)).rejects.toThrow(ForbiddenError);
    expect(await trail(job.jobId)).toEqual(['DECISION', 'READ_DENIED', 'READ_DENIED']);
    expect(await denialsOf(role('Contractors'))).toHaveLength(4);
  });

  it('1,000 denied reads from 1,000 session names of one role add one event to the job\'s trail; all 1,000 are on the role\'s chain', async () => {
    const { job } = await submit(ALICE);
    const sessions = Array.from({ length: 1000 }, (_, i) => `arn:aws:sts::${ACCOUNT}:assumed-role/Contractors/session-${i}`);
    for (const [i, callerArn] of sessions.entries()) {
      if (i % 100 === 99) g.clock.advance(5); // within the hour
      await expect(i % 2 ? g.service.get({ callerArn }, job.jobId) : g.service.auditTrail({ callerArn }, job.jobId)).rejects.toThrow(ForbiddenError);
    }
    expect(await trail(job.jobId)).toEqual(['DECISION', 'READ_DENIED']);
    const mine = await denialsOf(role('Contractors'));
    expect(mine).toHaveLength(1000);
    expect(new Set(mine.map((e) => e.actor?.callerArn))).toEqual(new Set(sessions));
    expect(mine.every((e) => e.subject?.jobId === job.jobId && e.type === 'READ_DENIED')).toBe(true);
    // An allowed read adds nothing to either.
    expect((await g.service.get({ callerArn: AUDITOR }, job.jobId)).jobId).toBe(job.jobId);
    expect((await g.service.auditTrail({ callerArn: ALICE }, job.jobId)).verification).toMatchObject({ ok: true, macs: 'verified' });
    expect(await trail(job.jobId)).toEqual(['DECISION', 'READ_DENIED']);
    expect(g.audit.chains.get(denialsChain(role('Auditors')))).toBeUndefined();
    expect(await denialsOf(role('Contractors'))).toHaveLength(1000);
  });

  it('a denied cancel: CANCEL_DENIED once per job and hour on its trail, each caller on its own principal\'s chain, and cancels nothing', async () => {
    const { job } = await submit(ALICE);
    for (const caller of [CAROL, CAROL, AUDITOR, CODY]) await expect(g.service.cancel({ callerArn: caller }, job.jobId)).rejects.toThrow(/^not allowed to cancel/);
    await expect(g.service.get({ callerArn: CAROL }, job.jobId)).rejects.toThrow(ForbiddenError);
    expect(await trail(job.jobId)).toEqual(['DECISION', 'CANCEL_DENIED', 'READ_DENIED']);
    expect((await eventsOf(job.jobId, 'CANCEL_DENIED')).map((e) => e.actor)).toEqual([{ principalArn: role('Contractors') }]);
    expect((await denialsOf(role('Contractors'))).map((e) => [e.type, e.actor?.callerArn])).toEqual([['CANCEL_DENIED', CAROL], ['CANCEL_DENIED', CODY], ['READ_DENIED', CAROL]]);
    expect((await denialsOf(role('Auditors'))).map((e) => [e.type, e.actor?.callerArn])).toEqual([['CANCEL_DENIED', AUDITOR]]);
    expect((await g.jobs.get(job.jobId))?.cancelRequested).toBeUndefined();
  });

  it('a principal\'s chain of denials verifies (links, hashes, MACs), and its id is no job id', async () => {
    const { job } = await submit(ALICE);
    for (const callerArn of [CAROL, CODY]) await expect(g.service.get({ callerArn }, job.jobId)).rejects.toThrow(ForbiddenError);
    const chain = denialsChain(role('Contractors'));
    expect(chain).toBe(`denials:${role('Contractors')}`);
    expect(JOB_ID.test(chain)).toBe(false);
    expect(await verifyTrail(g.sealer, chain, await g.audit.list(chain))).toMatchObject({ ok: true, events: 2, macs: 'verified' });
    await expect(g.service.auditTrail({ callerArn: AUDITOR }, chain)).rejects.toThrow(NotFoundError);
  });

  it("others' jobs can be read where a policy allows DescribeStep; own jobs unless a policy denies it", async () => {
    const { job } = await submit(ALICE);
    expect((await g.service.get({ callerArn: AUDITOR }, job.jobId)).jobId).toBe(job.jobId);
    expect((await g.service.auditTrail({ callerArn: AUDITOR }, job.jobId)).events.map((e) => e.type)).toEqual(['DECISION']);
    expect((await g.service.get({ callerArn: ALICE }, job.jobId)).jobId).toBe(job.jobId);
    const own = await submit(NOREADS);
    await expect(g.service.get({ callerArn: NOREADS }, own.job.jobId)).rejects.toThrow(/explicitly denied by no-reads statement 0/);
    expect(await trail(own.job.jobId)).toEqual(['DECISION', 'READ_DENIED']);
    expect(await trail(job.jobId)).toEqual(['DECISION']);
  });
});

describe('list', () => {
  async function jobsOfThree(): Promise<{ alice: Job[]; carol: string; nick: Job }> {
    const alice: Job[] = [];
    for (const name of ['a', 'b']) {
      g.clock.advance(1);
      alice.push((await submit(ALICE, submitBody({ name }))).job);
    }
    g.clock.advance(1);
    const carol = ((await rejection(submit(CAROL))) as ForbiddenError).details?.jobId as string;
    g.clock.advance(1);
    const nick = (await submit(NOREADS, submitBody({ clusterId: PLAIN_CLUSTER }))).job;
    return { alice, carol, nick };
  }
  const ids = (page: { jobs: Job[] }) => page.jobs.map((j) => j.jobId);

  it("without filters: the caller's own jobs, newest first", async () => {
    const { alice, carol } = await jobsOfThree();
    expect(ids(await g.service.list({ callerArn: ALICE }, { limit: 10 }))).toEqual([alice[1]!.jobId, alice[0]!.jobId]);
    expect(ids(await g.service.list({ callerArn: CAROL }, { limit: 10 }))).toEqual([carol]);
    expect(ids(await g.service.list({ callerArn: AUDITOR }, { limit: 10 }))).toEqual([]);
  });

  it("with a filter: others' jobs only where a policy allows ListSteps on their cluster", async () => {
    const { alice, carol, nick } = await jobsOfThree();
    expect(ids(await g.service.list({ callerArn: AUDITOR }, { clusterId: CLUSTER, limit: 10 }))).toEqual([carol, alice[1]!.jobId, alice[0]!.jobId]);
    expect(ids(await g.service.list({ callerArn: AUDITOR }, { status: 'ACCEPTED', limit: 10 }))).toEqual([nick.jobId, alice[1]!.jobId, alice[0]!.jobId]);
    expect(ids(await g.service.list({ callerArn: AUDITOR }, { caller: ALICE, limit: 10 }))).toEqual([alice[1]!.jobId, alice[0]!.jobId]);
    expect(ids(await g.service.list({ callerArn: CAROL }, { clusterId: CLUSTER, limit: 10 }))).toEqual([carol]);
    expect(ids(await g.service.list({ callerArn: CAROL }, { caller: ALICE, limit: 10 }))).toEqual([]);
    expect(ids(await g.service.list({ callerArn: ALICE }, { status: 'ACCEPTED', limit: 10 }))).toEqual([alice[1]!.jobId, alice[0]!.jobId]);
  });

  it('from and to bound the creation instant, whatever the precision or offset they are written with', async () => {
    g.clock.advance(0.25);
    const { job } = await submit(ALICE); // created at 12:00:00.250Z
    const listed = async (from?: string, to?: string) => ids(await g.service.list({ callerArn: ALICE }, { limit: 10, ...(from ? { from } : {}), ...(to ? { to } : {}) }));
    expect(await listed('2026-11-28T12:00:00Z')).toEqual([job.jobId]);
    expect(await listed('2026-11-28T14:00:00+02:00')).toEqual([job.jobId]);
    expect(await listed('2026-11-28T12:00:00.250Z', '2026-11-28T12:00:00.250Z')).toEqual([job.jobId]);
    expect(await listed(undefined, '2026-11-28T13:00:00+01:00')).toEqual([]);
    expect(await listed(undefined, '2026-11-28T12:00:01Z')).toEqual([job.jobId]);
    expect(await listed('2026-11-28T12:00:00.251Z')).toEqual([]);
    expect(await listed('2026-11-28T11:00:01-01:00')).toEqual([]);
  });

  it('a caller filter that is not an IAM principal is a ValidationError on `caller`', async () => {
    await expect(g.service.list({ callerArn: ALICE }, { caller: 'alice', limit: 10 })).rejects.toMatchObject({ issues: [{ field: 'caller' }] });
  });
});

describe('list: each job passes the decision reading it would', () => {
  let m: MemoryGateway;
  beforeEach(() => {
    m = memoryGateway({ configYaml: SCOPED_CONFIG_YAML });
  });
  const ids = (page: { jobs: Job[] }) => page.jobs.map((j) => j.jobId);
  const submitAs = async (callerArn: string, clusterId: string, roleName: string): Promise<string> => {
    m.clock.advance(1);
    return (await m.service.submit({ caller: { callerArn }, body: submitBody({ clusterId, executionRoleArn: role(roleName) }) })).job.jobId;
  };
  const readable = (callerArn: string, jobId: string): Promise<boolean> => m.service.get({ callerArn }, jobId).then(() => true, () => false);
  const eventCount = (): number => [...m.audit.chains.values()].reduce((n, chain) => n + chain.length, 0);
  /** Every page of a listing, following nextToken; asserts each page is full but the last. */
  async function everyPage(callerArn: string, query: Parameters<JobService['list']>[1]): Promise<{ pages: number[]; ids: string[] }> {
    const pages: number[] = [];
    const all: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await m.service.list({ callerArn }, { ...query, ...(nextToken ? { nextToken } : {}) });
      pages.push(page.jobs.length);
      all.push(...ids(page));
      nextToken = page.nextToken;
    } while (nextToken && pages.length < 100);
    return { pages, ids: all };
  }
  const plant = (jobs: Job[]) => {
    for (const job of jobs) m.jobs.items.set(job.jobId, job);
  };
  const START = new Date('2026-11-01T00:00:00Z');

  it('a Deny tied to the runtime role hides a job from GET /jobs exactly as from GET /jobs/{id}, own jobs included; listing audits nothing', async () => {
    const ownEtl = await submitAs(SCOPED, CLUSTER, 'CallerTeamRoleETL');
    const ownCaller = await submitAs(SCOPED, CLUSTER, 'Caller'); // DescribeStep denied: not readable
    const ownCallerPlain = await submitAs(SCOPED, PLAIN_CLUSTER, 'Caller'); // ListSteps denied: readable, not listed
    const peerEtl = await submitAs(PEER, CLUSTER, 'CallerTeamRoleETL');
    const peerCaller = await submitAs(PEER, CLUSTER, 'Caller');
    const peerCallerPlain = await submitAs(PEER, PLAIN_CLUSTER, 'Caller');
    const events = eventCount();

    expect(ids(await m.service.list({ callerArn: SCOPED }, { limit: 10 }))).toEqual([ownEtl]);
    expect(ids(await m.service.list({ callerArn: SCOPED }, { clusterId: CLUSTER, limit: 10 }))).toEqual([peerEtl, ownEtl]);
    expect(ids(await m.service.list({ callerArn: SCOPED }, { clusterId: PLAIN_CLUSTER, limit: 10 }))).toEqual([]);
    expect(ids(await m.service.list({ callerArn: SCOPED }, { status: 'ACCEPTED', limit: 10 }))).toEqual([peerEtl, ownEtl]);
    expect(ids(await m.service.list({ callerArn: SCOPED }, { caller: PEER, limit: 10 }))).toEqual([peerEtl]);
    // Peers read only their own jobs, whatever their role: all of them, none of Scoped's.
    expect(ids(await m.service.list({ callerArn: PEER }, { limit: 10 }))).toEqual([peerCallerPlain, peerCaller, peerEtl]);
    expect(ids(await m.service.list({ callerArn: PEER }, { status: 'ACCEPTED', limit: 10 }))).toEqual([peerCallerPlain, peerCaller, peerEtl]);
    expect(eventCount()).toBe(events); // no READ_DENIED, nor anything else, for the jobs a listing hid

    // Whatever a listing shows, GET /jobs/{id} shows; a DescribeStep Deny hides a job from both.
    const jobs = [ownEtl, ownCaller, ownCallerPlain, peerEtl, peerCaller, peerCallerPlain];
    const reads = await Promise.all(jobs.map((jobId) => readable(SCOPED, jobId)));
    expect(Object.fromEntries(jobs.map((jobId, i) => [jobId, reads[i]]))).toEqual({
      [ownEtl]: true, [ownCaller]: false, [ownCallerPlain]: true, [peerEtl]: true, [peerCaller]: false, [peerCallerPlain]: true,
    });
  });

  it("a caller who may read none of 250 jobs gets {jobs: []} without a nextToken, as from an empty table", async () => {
    const listings = [
      [CAROL, { clusterId: CLUSTER }], [CAROL, { status: 'ACCEPTED' }], [CAROL, { caller: PEER }],
      [SCOPED, { clusterId: CLUSTER }], [SCOPED, { caller: PEER }], [AUDITOR, { clusterId: PLAIN_CLUSTER }],
    ] as const;
    const answers = async () => {
      const out: unknown[] = [];
      for (const [callerArn, filters] of listings) for (const limit of [1, 20, 100]) out.push(await m.service.list({ callerArn }, { ...filters, limit }));
      return out;
    };
    const empty = await answers();
    expect(empty.every((answer) => JSON.stringify(answer) === '{"jobs":[]}')).toBe(true);
    // Peers' jobs as Caller on the analytics cluster: Scoped is denied DescribeStep on them, the others have no Allow.
    plant(jobRecords(START, 250, () => ({ callerArn: PEER, clusterId: CLUSTER, executionRoleArn: role('Caller') })));
    expect(await answers()).toEqual(empty);
    // The owner sees them.
    expect((await everyPage(PEER, { limit: 100 })).pages).toEqual([100, 100, 50]);
  });

  it('a caller who may read every 10th job gets full pages, newest first, and the last page has no nextToken', async () => {
    const planted = jobRecords(START, 250, (i) => ({ callerArn: PEER, clusterId: CLUSTER, executionRoleArn: role(i % 10 === 0 ? 'CallerTeamRoleETL' : 'Caller') }));
    plant(planted);
    const visible = planted.filter((_, i) => i % 10 === 0).map((j) => j.jobId).reverse();
    expect(await everyPage(SCOPED, { clusterId: CLUSTER, limit: 10 })).toEqual({ pages: [10, 10, 5], ids: visible });
    expect(await everyPage(SCOPED, { clusterId: CLUSTER, limit: 20 })).toEqual({ pages: [20, 5], ids: visible });
    expect(await everyPage(SCOPED, { clusterId: CLUSTER, limit: 100 })).toEqual({ pages: [25], ids: visible });
    expect(await everyPage(SCOPED, { caller: PEER, limit: 7 })).toEqual({ pages: [7, 7, 7, 4], ids: visible });
  });

  it('fills a page within 10 store pages (at most limit + 900 jobs read); past that, an empty or short page with a nextToken that goes on', async () => {
    const hidden = jobRecords(START, 2500, () => ({ callerArn: PEER, clusterId: CLUSTER, executionRoleArn: role('Caller') }));
    const oldest = jobRecords(new Date(START.getTime() - 3600_000), 3, () => ({ callerArn: PEER, clusterId: CLUSTER, executionRoleArn: role('CallerTeamRoleETL') }));
    plant([...hidden, ...oldest]);
    const reads: number[][] = [];
    const list = m.jobs.list.bind(m.jobs);
    m.jobs.list = (query) => {
      reads.at(-1)!.push(query.limit);
      return list(query);
    };
    const pages: { jobs: number; more: boolean }[] = [];
    let nextToken: string | undefined;
    do {
      reads.push([]);
      const page = await m.service.list({ callerArn: SCOPED }, { clusterId: CLUSTER, limit: 20, ...(nextToken ? { nextToken } : {}) });
      pages.push({ jobs: page.jobs.length, more: page.nextToken !== undefined });
      nextToken = page.nextToken;
    } while (nextToken && pages.length < 10);
    expect(pages).toEqual([{ jobs: 0, more: true }, { jobs: 0, more: true }, { jobs: 3, more: false }]);
    for (const request of reads) {
      expect(request.length).toBeLessThanOrEqual(10);
      expect(request[0]).toBe(20);
      expect(request.slice(1).every((n) => n === 100)).toBe(true);
    }
    expect(reads[0]).toHaveLength(10);
  });

  it('nextToken: sealed (no job id, time, principal or cluster readable), bound to the caller and the exact filters, expiring after 24 hours', async () => {
    const mine: string[] = [];
    for (let i = 0; i < 3; i++) mine.push(await submitAs(ALICE, CLUSTER, 'CallerTeamRoleETL'));
    const page1 = await m.service.list({ callerArn: ALICE }, { limit: 2 });
    expect(ids(page1)).toEqual([mine[2], mine[1]]);
    const token = page1.nextToken!;
    for (const text of [token, Buffer.from(token, 'base64url').toString('latin1'), Buffer.from(token, 'base64').toString('latin1')]) {
      for (const secret of [...mine, ...page1.jobs.map((j) => j.createdAt.slice(0, 16)), ALICE, role('DataTeamA'), CLUSTER]) expect(text).not.toContain(secret);
    }
    // The same caller and filters go on, with any limit.
    expect(ids(await m.service.list({ callerArn: ALICE }, { limit: 1, nextToken: token }))).toEqual([mine[0]]);
    const refused = async (callerArn: string, query: Parameters<JobService['list']>[1]) => {
      const error = await rejection(m.service.list({ callerArn }, query));
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).issues.map((i) => i.field)).toEqual(['nextToken']);
      return (error as ValidationError).message;
    };
    const messages = new Set([
      await refused(SPOOFED, { limit: 2, nextToken: token }), // the same role, another session
      await refused(AUDITOR, { caller: ALICE, limit: 2, nextToken: token }),
      await refused(ALICE, { caller: ALICE, limit: 2, nextToken: token }), // the same jobs, other filters
      await refused(ALICE, { status: 'ACCEPTED', limit: 2, nextToken: token }),
      await refused(ALICE, { limit: 2, nextToken: `${token.slice(0, -2)}${token.endsWith('AA') ? 'BA' : 'AA'}` }),
      await refused(ALICE, { limit: 2, nextToken: token.slice(0, -1) }),
    ]);
    m.clock.advance(24 * 3600 - 2);
    expect(ids(await m.service.list({ callerArn: ALICE }, { limit: 2, nextToken: token }))).toEqual([mine[0]]);
    m.clock.advance(3);
    messages.add(await refused(ALICE, { limit: 2, nextToken: token }));
    expect(messages.size).toBe(1);
  });
});

describe('roles', () => {
  const callers = [ALICE, CAROL, AUDITOR, NOREADS, ANALYST];

  it('lists a role and step type exactly when a submission with them would be allowed (GET /roles and POST /jobs never disagree)', async () => {
    let allowed = 0;
    let denied = 0;
    for (const callerArn of callers) {
      const offered = new Set(g.service.roles({ callerArn }).flatMap((c) => c.roles.flatMap((r) => r.stepTypes.map((t) => `${c.clusterId} ${r.roleArn} ${t}`))));
      for (const cluster of [CLUSTER, PLAIN_CLUSTER]) {
        for (const roleArn of [role('CallerTeamRoleETL'), role('Caller')]) {
          for (const type of STEP_TYPES) {
            const outcome = await submit(callerArn, submitBody({ clusterId: cluster, executionRoleArn: roleArn, step: STEPS[type] })).then(
              () => 'allowed',
              (e: unknown) => {
                if (e instanceof ForbiddenError) return 'denied';
                throw e;
              },
            );
            expect({ callerArn, cluster, roleArn, type, offered: offered.has(`${cluster} ${roleArn} ${type}`) }).toEqual({ callerArn, cluster, roleArn, type, offered: outcome === 'allowed' });
            if (outcome === 'allowed') allowed++;
            else denied++;
          }
        }
      }
    }
    // Not vacuous: both answers occur, and step types matter for someone.
    expect(allowed).toBeGreaterThan(0);
    expect(denied).toBeGreaterThan(0);
  });

  it("lists each cluster's usable roles with their step types; a role with none is left out", () => {
    expect(g.service.roles({ callerArn: ANALYST })).toEqual([
      {
        clusterId: CLUSTER,
        roles: [
          {
            roleArn: role('Caller'),
            stepTypes: ['spark', 'hive'],
            // Why: the decision's reason and the statements that allow it.
            reason: 'allowed by analysts statement 0 (Sid SparkHiveAsCaller)',
            allowedBy: [{ policy: 'analysts', index: 0, sid: 'SparkHiveAsCaller', effect: 'Allow' }],
          },
        ],
      },
      { clusterId: PLAIN_CLUSTER, roles: [expect.objectContaining({ roleArn: role('CallerTeamRoleETL'), stepTypes: ['spark', 'hive', 'command'] })] },
    ]);
    expect(g.service.roles({ callerArn: ALICE }, PLAIN_CLUSTER)).toEqual([{ clusterId: PLAIN_CLUSTER, roles: [expect.objectContaining({ roleArn: role('CallerTeamRoleETL'), stepTypes: [...STEP_TYPES] })] }]);
    expect(g.service.roles({ callerArn: CAROL })).toEqual([{ clusterId: CLUSTER, roles: [] }, { clusterId: PLAIN_CLUSTER, roles: [] }]);
    expect(() => g.service.roles({ callerArn: ALICE }, 'j-1NOTMANAGED')).toThrow(NotFoundError);
  });
});
