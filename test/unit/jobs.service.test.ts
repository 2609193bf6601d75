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
import { STEP_TYPES } from '../../src/jobs/request';
import { DEFAULT_POLLING } from '../../src/jobs/workflow-input';
import { verifiedTrail } from '../support/audit';
import { ACCOUNT, ALICE, AUDITOR, CAROL, CLUSTER, GATEWAY_CONFIG_YAML, NOREADS, PLAIN_CLUSTER, role, SPOOFED, submitBody, UNVERIFIED_CONFIG_YAML } from '../support/config';
import { crashAfterEvent } from '../support/fakes';
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

  it('a caller filter that is not an IAM principal is a ValidationError on `caller`', async () => {
    await expect(g.service.list({ callerArn: ALICE }, { caller: 'alice', limit: 10 })).rejects.toMatchObject({ issues: [{ field: 'caller' }] });
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
      { clusterId: CLUSTER, roles: [{ roleArn: role('Caller'), stepTypes: ['spark', 'hive'] }] },
      { clusterId: PLAIN_CLUSTER, roles: [{ roleArn: role('CallerTeamRoleETL'), stepTypes: ['spark', 'hive', 'command'] }] },
    ]);
    expect(g.service.roles({ callerArn: ALICE }, PLAIN_CLUSTER)).toEqual([{ clusterId: PLAIN_CLUSTER, roles: [{ roleArn: role('CallerTeamRoleETL'), stepTypes: [...STEP_TYPES] }] }]);
    expect(g.service.roles({ callerArn: CAROL })).toEqual([{ clusterId: CLUSTER, roles: [] }, { clusterId: PLAIN_CLUSTER, roles: [] }]);
    expect(() => g.service.roles({ callerArn: ALICE }, 'j-1NOTMANAGED')).toThrow(NotFoundError);
  });
});
