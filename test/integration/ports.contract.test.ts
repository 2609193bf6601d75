/**
 * The in-memory fakes (test/support/fakes.ts) against the adapters they stand in for: the same cases run on
 * both, so a unit test that passes on a fake means what it would mean on DynamoDB and EMR. The jobs table and
 * the audit trail run on dynalite; EMR is SdkEmrSteps over the SDK mock of FakeEmr.
 */
import { EMRClient } from '@aws-sdk/client-emr';
import type { STSClient } from '@aws-sdk/client-sts';
import { DynamoAuditStore } from '../../src/adapters/dynamodb/audit-store';
import { DynamoJobStore } from '../../src/adapters/dynamodb/job-store';
import { SdkEmrSteps, submitClientFactory } from '../../src/adapters/emr/emr-steps';
import { genesisHash, macMessage } from '../../src/audit/chain';
import type { HeadSource } from '../../src/audit/digester';
import { verifyTrail } from '../../src/audit/verify';
import { EmrRejectedError, JobConflictError, TransientError, ValidationError } from '../../src/errors';
import { newJobId } from '../../src/jobs/job-id';
import type { EmrStepState, FailureDetails, Job } from '../../src/jobs/model';
import type { AuditLog, EmrSteps, JobRepository } from '../../src/jobs/ports';
import { parseJobRequest } from '../../src/jobs/request';
import { stepMarker, stepNameFor } from '../../src/jobs/step-name';
import { ALICE, CLUSTER, PLAIN_CLUSTER, role, SimClock, submitBody } from '../support/config';
import { startDynamo } from '../support/dynamo';
import { awsError, FakeEmr } from '../support/fake-emr';
import { FakeEmrSteps, InMemoryAuditLog, InMemoryJobRepository, rejected, throttled } from '../support/fakes';
import { TestSealer } from '../support/sealer';

jest.setTimeout(30_000);

let clock: SimClock;
beforeEach(() => {
  clock = new SimClock();
});

/** A job as JobService creates it, `n` seconds after the clock's start. */
function jobAt(n: number, overrides: Partial<Job> = {}): Job {
  const createdAt = new Date(clock.now().getTime() + n * 1000).toISOString();
  const jobId = newJobId(new Date(createdAt));
  const request = parseJobRequest(submitBody());
  return {
    jobId, status: 'ACCEPTED', version: 1, createdAt, updatedAt: createdAt, listKey: `${createdAt}#${jobId}`,
    actor: { principalArn: role('DataTeamA'), callerArn: ALICE, sourceIdentity: 'alice' }, principalArn: role('DataTeamA'),
    clusterId: request.clusterId, executionRoleArn: request.executionRoleArn, name: request.name, stepType: request.step.type, request,
    requestHash: 'r'.repeat(64), argsHash: 'a'.repeat(64), decision: { result: 'Allowed', reason: 'allowed by team-a statement 0' },
    submitAttempts: 0, auditSeq: 0, auditHash: 'h'.repeat(64), ...overrides,
  };
}

interface Stores {
  jobs: JobRepository & HeadSource;
  audit: AuditLog;
  sealer: TestSealer;
  stop(): Promise<void>;
}
const stores: [string, () => Promise<Stores>][] = [
  ['in memory', () => {
    const sealer = new TestSealer();
    return Promise.resolve({ jobs: new InMemoryJobRepository(clock.now), audit: new InMemoryAuditLog(clock.now, sealer), sealer, stop: () => Promise.resolve() });
  }],
  ['DynamoDB (dynalite)', async () => {
    const dynamo = await startDynamo();
    const sealer = new TestSealer();
    return { jobs: new DynamoJobStore(dynamo.client, dynamo.jobsTable, clock.now), audit: new DynamoAuditStore(dynamo.client, dynamo.auditTable, sealer, clock.now), sealer, stop: () => dynamo.stop() };
  }],
];

describe.each(stores)('JobRepository and AuditLog: %s', (_name, make) => {
  let s: Stores;
  beforeEach(async () => {
    s = await make();
  });
  afterEach(() => s.stop());

  it('usage: the jobs that ended on a day within [from, to], with what a report counts; running ones and other days not', async () => {
    const running = jobAt(0);
    const ended = jobAt(1, { request: { ...parseJobRequest(submitBody()), tags: { project: 'alpha' } } });
    const rejectedAtOnce = jobAt(2, { status: 'REJECTED', finishedAt: new Date(clock.now().getTime() + 2000).toISOString() });
    for (const job of [running, ended, rejectedAtOnce]) expect(await s.jobs.create(job)).toBe(true);
    clock.advance(60);
    await s.jobs.transition(ended.jobId, () => ({ status: 'COMPLETED', finishedAt: clock.now().toISOString(), stepSeconds: 42 }));
    const day = clock.now().toISOString().slice(0, 10);
    const all = async (from: string, to: string, onDay = day) => {
      const entries = [];
      let cursor: string | undefined;
      do {
        const page = await s.jobs.usage({ day: onDay, from, to, ...(cursor !== undefined ? { cursor } : {}) });
        entries.push(...page.entries);
        cursor = page.cursor;
      } while (cursor !== undefined);
      return entries.sort((a, b) => a.finishedAt.localeCompare(b.finishedAt));
    };
    const start = new Date(Date.parse(running.createdAt) - 1000).toISOString();
    const got = await all(start, clock.now().toISOString());
    expect(got).toEqual([
      { jobId: rejectedAtOnce.jobId, status: 'REJECTED', principalArn: role('DataTeamA'), clusterId: CLUSTER, executionRoleArn: ended.executionRoleArn, finishedAt: rejectedAtOnce.finishedAt },
      { jobId: ended.jobId, status: 'COMPLETED', principalArn: role('DataTeamA'), clusterId: CLUSTER, executionRoleArn: ended.executionRoleArn, finishedAt: clock.now().toISOString(), stepSeconds: 42, tags: { project: 'alpha' } },
    ]);
    // Bounds within the day, and another day's partition.
    expect((await all(start, new Date(clock.now().getTime() - 1000).toISOString())).map((e) => e.jobId)).toEqual([rejectedAtOnce.jobId]);
    expect(await all(start, clock.now().toISOString(), '2000-01-01')).toEqual([]);
    // The job as read back holds none of the index's own attributes.
    expect(Object.keys((await s.jobs.get(ended.jobId))!).filter((k) => k === 'finishDay' || k === 'usageTags')).toEqual([]);
  });

  it('changedHeads: the heads of jobs updated in the window (across hours), each job under its last update only; all without a start', async () => {
    const early = jobAt(0);
    const late = jobAt(2 * 3600); // two hours on: another hour's index partition
    const moved = jobAt(10);
    for (const job of [early, late, moved]) expect(await s.jobs.create(job)).toBe(true);
    clock.advance(3 * 3600);
    await s.jobs.transition(moved.jobId, () => ({ auditSeq: 1, auditHash: 'b'.repeat(64) }));
    const at = (seconds: number) => new Date(Date.parse(early.createdAt) + seconds * 1000);
    const ids = async (window: { from?: Date; to: Date }) => (await s.jobs.changedHeads(window)).map((h) => h.chainId).sort();
    expect(await ids({ from: at(-1), to: at(60) })).toEqual([early.jobId]);
    expect(await ids({ from: at(-1), to: at(2 * 3600 + 1) })).toEqual([early.jobId, late.jobId].sort());
    expect(await s.jobs.changedHeads({ from: at(3 * 3600 - 1), to: at(3 * 3600 + 1) })).toEqual([{ chainId: moved.jobId, seq: 1, hash: 'b'.repeat(64) }]);
    expect(await ids({ to: at(0) })).toEqual([early.jobId, late.jobId, moved.jobId].sort()); // no start: every job, as the first digest needs
    // The index's key never shows on the job.
    expect(Object.keys((await s.jobs.get(moved.jobId))!)).not.toContain('updateHour');
  });

  it('create: true once, then false for the same id, and the first record stays', async () => {
    const job = jobAt(0);
    expect(await s.jobs.create(job)).toBe(true);
    expect(await s.jobs.create({ ...job, name: 'other' })).toBe(false);
    expect(await s.jobs.get(job.jobId)).toEqual(job);
    expect(await s.jobs.get(jobAt(1).jobId)).toBeUndefined();
  });

  it('get returns a copy: changing it changes nothing stored', async () => {
    const job = jobAt(0);
    await s.jobs.create(job);
    const read = (await s.jobs.get(job.jobId))!;
    read.status = 'FAILED';
    expect((await s.jobs.get(job.jobId))?.status).toBe('ACCEPTED');
  });

  it('transition: applies the changes with the next version and the time; undefined removes a field; no changes, no write', async () => {
    const job = jobAt(0, { cancelRequested: { by: ALICE, mode: 'SEND_INTERRUPT', at: clock.now().toISOString() } });
    await s.jobs.create(job);
    clock.advance(5);
    const changed = await s.jobs.transition(job.jobId, () => ({ status: 'SUBMITTED', stepId: 's-1', cancelRequested: undefined }));
    expect(changed).toMatchObject({ status: 'SUBMITTED', stepId: 's-1', version: 2, updatedAt: clock.now().toISOString() });
    const stored = (await s.jobs.get(job.jobId))!;
    expect(stored).toEqual(changed);
    expect('cancelRequested' in stored).toBe(false);
    const seen: number[] = [];
    expect(await s.jobs.transition(job.jobId, (j) => (seen.push(j.version), undefined))).toEqual(stored);
    expect(seen).toEqual([2]);
    expect((await s.jobs.get(job.jobId))?.version).toBe(2);
  });

  it('transition of a job that does not exist: JobConflictError', async () => {
    await expect(s.jobs.transition(jobAt(0).jobId, () => ({ status: 'FAILED' }))).rejects.toThrow(JobConflictError);
  });

  it('transition from the job the caller holds: no read while it is current; a stale one is read again; "no changes" is only ever said of a fresh read', async () => {
    const job = jobAt(0);
    await s.jobs.create(job);
    const reads = jest.spyOn(s.jobs, 'get');
    // Current: one conditional write, no read.
    const first = await s.jobs.transition(job.jobId, () => ({ status: 'SUBMITTED', stepId: 's-1' }), job);
    expect(reads).not.toHaveBeenCalled();
    expect(first).toMatchObject({ status: 'SUBMITTED', version: 2 });
    expect(await s.jobs.get(job.jobId)).toEqual(first);
    reads.mockClear();
    // Stale (version 1, the job is at 2): the write is refused, the job read, the change made on what it is now.
    const seen: number[] = [];
    const second = await s.jobs.transition(job.jobId, (j) => (seen.push(j.version), { submitAttempts: j.submitAttempts + 1 }), job);
    expect(seen).toEqual([1, 2]);
    expect(second).toMatchObject({ status: 'SUBMITTED', submitAttempts: 1, version: 3 });
    expect(reads).toHaveBeenCalledTimes(1);
    reads.mockClear();
    // A stale job that needs no change says nothing of the current one: it is read, and the change applies there.
    const third = await s.jobs.transition(job.jobId, (j) => (j.status === 'ACCEPTED' ? undefined : { status: 'RUNNING' }), job);
    expect(third).toMatchObject({ status: 'RUNNING', version: 4 });
    expect(reads).toHaveBeenCalledTimes(1);
  });

  it('concurrent transitions all apply: each retries on the version it lost', async () => {
    const job = jobAt(0);
    await s.jobs.create(job);
    await Promise.all(Array.from({ length: 5 }, () => s.jobs.transition(job.jobId, (j) => ({ submitAttempts: j.submitAttempts + 1 }))));
    expect(await s.jobs.get(job.jobId)).toMatchObject({ submitAttempts: 5, version: 6 });
  });

  it('list: by caller, cluster or status, newest first, one page from a position (a listKey)', async () => {
    const alice = [0, 1, 2, 3, 4].map((n) => jobAt(n));
    const plain = jobAt(5, { clusterId: PLAIN_CLUSTER });
    const carol = jobAt(6, { principalArn: role('Contractors'), status: 'REJECTED' });
    for (const job of [...alice, plain, carol]) await s.jobs.create(job);
    const ids = (jobs: Job[]) => jobs.map((j) => j.jobId);
    const newestFirst = [...alice].reverse();

    const all: string[] = [];
    let page = await s.jobs.list({ principalArn: role('DataTeamA'), limit: 2 });
    expect(ids(page.jobs)).toEqual([plain.jobId, alice[4]!.jobId]);
    const first = page.nextToken!;
    for (let i = 0; i < 10; i++) {
      all.push(...ids(page.jobs));
      if (!page.nextToken) break;
      page = await s.jobs.list({ principalArn: role('DataTeamA'), limit: 2, nextToken: page.nextToken });
    }
    expect(all).toEqual([plain, ...newestFirst].map((j) => j.jobId));

    expect(ids((await s.jobs.list({ status: 'REJECTED', limit: 10 })).jobs)).toEqual([carol.jobId]);
    expect(ids((await s.jobs.list({ clusterId: CLUSTER, status: 'ACCEPTED', limit: 10 })).jobs)).toEqual(ids(newestFirst));
    expect(ids((await s.jobs.list({ principalArn: role('DataTeamA'), clusterId: PLAIN_CLUSTER, limit: 10 })).jobs)).toEqual([plain.jobId]);
    expect(ids((await s.jobs.list({ principalArn: role('DataTeamA'), from: alice[3]!.createdAt, to: plain.createdAt, limit: 10 })).jobs)).toEqual([plain.jobId, alice[4]!.jobId, alice[3]!.jobId]);
    expect(ids((await s.jobs.list({ principalArn: role('DataTeamA'), to: alice[1]!.createdAt, limit: 10 })).jobs)).toEqual([alice[1]!.jobId, alice[0]!.jobId]);

    // The position is the raw listKey of the last job read (JobService seals it, bound to its caller and filters);
    // any listKey is a position in any listing, and anything else is a ValidationError on nextToken.
    expect(first).toBe(alice[4]!.listKey);
    expect(ids((await s.jobs.list({ clusterId: CLUSTER, limit: 2, nextToken: first })).jobs)).toEqual([alice[3]!.jobId, alice[2]!.jobId]);
    expect(ids((await s.jobs.list({ principalArn: role('Contractors'), limit: 2, nextToken: first })).jobs)).toEqual([]);
    const between = `${alice[2]!.createdAt.replace(/\.\d{3}Z$/, '.500Z')}#${newJobId()}`; // no such job: still a position
    expect(ids((await s.jobs.list({ principalArn: role('DataTeamA'), limit: 1, nextToken: between })).jobs)).toEqual([alice[2]!.jobId]);
    for (const garbage of ['garbage', '', alice[4]!.jobId, alice[4]!.createdAt, Buffer.from(JSON.stringify({ principalArn: role('DataTeamA'), jobId: alice[4]!.jobId, listKey: alice[4]!.listKey })).toString('base64url')]) {
      await expect(s.jobs.list({ principalArn: role('DataTeamA'), limit: 2, nextToken: garbage })).rejects.toMatchObject({ issues: [{ field: 'nextToken' }] });
    }
    await expect(s.jobs.list({ limit: 2 })).rejects.toThrow(ValidationError);
  });

  it('list: `limit` counts the jobs read from the index, before the filters it does not serve; a page may be short or empty and go on', async () => {
    const alice = [0, 1, 2, 3].map((n) => jobAt(n));
    const plain = [4, 5].map((n) => jobAt(n, { clusterId: PLAIN_CLUSTER }));
    for (const job of [...alice, ...plain]) await s.jobs.create(job);
    const ids = (jobs: Job[]) => jobs.map((j) => j.jobId);
    // byCaller, the cluster filtered on the way: the two newest read are the plain ones.
    const empty = await s.jobs.list({ principalArn: role('DataTeamA'), clusterId: CLUSTER, limit: 2 });
    expect(empty).toEqual({ jobs: [], nextToken: plain[0]!.listKey });
    const next = await s.jobs.list({ principalArn: role('DataTeamA'), clusterId: CLUSTER, limit: 3, nextToken: empty.nextToken! });
    expect(ids(next.jobs)).toEqual([alice[3]!.jobId, alice[2]!.jobId, alice[1]!.jobId]);
    expect(next.nextToken).toBe(alice[1]!.listKey);
    expect(ids((await s.jobs.list({ principalArn: role('DataTeamA'), clusterId: CLUSTER, limit: 3, nextToken: next.nextToken! })).jobs)).toEqual([alice[0]!.jobId]);
  });

  it('list: only jobs `visible` accepts (it sees owner, cluster and role), `limit` still counting every entry read', async () => {
    const alice = [0, 1, 2, 3].map((n) => jobAt(n, n % 2 ? { clusterId: PLAIN_CLUSTER } : {}));
    for (const job of alice) await s.jobs.create(job);
    const seen: string[] = [];
    const page = await s.jobs.list({ principalArn: role('DataTeamA'), limit: 3, visible: (j) => (seen.push(j.jobId), j.clusterId === CLUSTER) });
    expect(page.jobs.map((j) => j.jobId)).toEqual([alice[2]!.jobId]);
    expect(page.nextToken).toBe(alice[1]!.listKey);
    expect(seen).toEqual([alice[3]!.jobId, alice[2]!.jobId, alice[1]!.jobId]);
  });

  it('unfinished: every job not in a terminal state, from the table, page by page; no terminal one', async () => {
    const statuses = ['ACCEPTED', 'SUBMITTED', 'PENDING', 'RUNNING', 'CANCEL_PENDING', 'COMPLETED', 'FAILED', 'CANCELLED', 'INTERRUPTED', 'TIMED_OUT', 'REJECTED'] as const;
    const jobs = statuses.map((status, i) => jobAt(i, { status }));
    for (const job of jobs) await s.jobs.create(job);
    if (s.jobs instanceof InMemoryJobRepository) s.jobs.unfinishedPageSize = 2; // several pages
    const found: Job[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 20; pages++) {
      const page = await s.jobs.unfinished(cursor);
      found.push(...page.jobs);
      cursor = page.cursor;
      if (cursor === undefined) break;
    }
    expect(cursor).toBeUndefined();
    expect(found.map((j) => j.jobId).sort()).toEqual(jobs.slice(0, 5).map((j) => j.jobId).sort());
    expect(found.find((j) => j.status === 'RUNNING')).toEqual(jobs[3]);
  });

  it('audit append: seq from 0 linked from the genesis, each event sealed with the audit key, a chain that verifies', async () => {
    const draft = (type: string) => ({ type, dedupeKey: type, actor: { principalArn: role('A') } });
    const a = await s.audit.append('job-x', draft('A'), { firstEvent: true });
    clock.advance(1);
    const b = await s.audit.append('job-x', draft('B'));
    expect([a.seq, b.seq]).toEqual([0, 1]);
    expect(a).toMatchObject({ jobId: 'job-x', prevHash: genesisHash('job-x'), at: '2026-11-28T12:00:00.000Z' });
    expect(b).toMatchObject({ prevHash: a.hash, at: '2026-11-28T12:00:01.000Z' });
    for (const e of [a, b]) expect(e).toMatchObject({ mac: s.sealer.macOf(macMessage(e.hash)), keyId: s.sealer.keyId });
    const events = await s.audit.list('job-x');
    expect(events).toEqual([a, b]);
    expect(await verifyTrail(s.sealer, 'job-x', events)).toEqual({ ok: true, events: 2, head: b.hash, macs: 'verified' });
    expect(await s.audit.list('job-none')).toEqual([]);
  });

  it('audit append: an event whose dedupe key is in the chain is returned, nothing written, even with firstEvent', async () => {
    const draft = (type: string, detail?: Record<string, unknown>) => ({ type, dedupeKey: type, ...(detail ? { detail } : {}) });
    const a = await s.audit.append('job-x', draft('SUBMITTED', { try: 1 }));
    await s.audit.append('job-x', draft('OTHER'));
    expect(await s.audit.append('job-x', draft('SUBMITTED', { try: 2 }))).toEqual(a);
    expect(await s.audit.append('job-x', draft('SUBMITTED', { try: 3 }), { firstEvent: true })).toEqual(a);
    // firstEvent on a chain that has begun after all: appended after it, not over it.
    expect((await s.audit.append('job-x', draft('LATE'), { firstEvent: true })).seq).toBe(2);
    expect((await s.audit.list('job-x')).map((e) => e.type)).toEqual(['SUBMITTED', 'OTHER', 'LATE']);
  });

  it('audit append with a chain the caller read before: a stale one (an event appended since, even of its dedupe key) neither duplicates nor forks', async () => {
    const draft = (type: string, dedupeKey = type) => ({ type, dedupeKey });
    await s.audit.append('job-x', draft('DECISION'), { firstEvent: true });
    const read = await s.audit.list('job-x');
    const fresh = await s.audit.append('job-x', draft('A'), { chain: read });
    expect(fresh.seq).toBe(1);
    // The same read again: A is in the chain now, though not in the read; it is found, not written twice.
    expect(await s.audit.append('job-x', draft('A'), { chain: read })).toEqual(fresh);
    // And a new event on that stale read goes after A, linked to it.
    const b = await s.audit.append('job-x', draft('B'), { chain: read });
    expect(b).toMatchObject({ seq: 2, prevHash: fresh.hash });
    const events = await s.audit.list('job-x');
    expect(events.map((e) => e.type)).toEqual(['DECISION', 'A', 'B']);
    expect((await verifyTrail(s.sealer, 'job-x', events)).ok).toBe(true);
    // A stale read and an end appended since: a progress event that must precede the end is refused, the end returned.
    const end = await s.audit.append('job-x', draft('COMPLETED', 'TERMINAL'));
    expect(await s.audit.append('job-x', draft('STATE_CHANGED', 'STATE:RUNNING'), { chain: read, onlyBefore: ['TERMINAL'] })).toEqual(end);
    expect((await s.audit.list('job-x')).map((e) => e.type)).toEqual(['DECISION', 'A', 'B', 'COMPLETED']);
  });

  it('audit append onlyBefore: once the chain holds one of those events nothing is written, and that event is returned', async () => {
    const draft = (type: string, dedupeKey = type) => ({ type, dedupeKey });
    await s.audit.append('job-x', draft('SUBMITTED'));
    const running = await s.audit.append('job-x', draft('STATE_CHANGED', 'STATE:RUNNING'), { onlyBefore: ['TERMINAL', 'STATE:CANCEL_PENDING'] });
    expect(running.seq).toBe(1);
    const end = await s.audit.append('job-x', draft('COMPLETED', 'TERMINAL'));
    // Its own event, already in the chain before the end (a retry): found by its dedupe key, as without the option.
    expect(await s.audit.append('job-x', draft('STATE_CHANGED', 'STATE:RUNNING'), { onlyBefore: ['TERMINAL'] })).toEqual(running);
    // A new event that belongs before the end: refused, the end returned.
    expect(await s.audit.append('job-x', draft('STATE_CHANGED', 'STATE:PENDING'), { onlyBefore: ['STATE:RUNNING', 'TERMINAL'] })).toEqual(end);
    expect(await s.audit.append('job-x', draft('TIMEOUT'), { onlyBefore: ['TERMINAL'] })).toEqual(end);
    // What belongs after the end is appended after it.
    expect((await s.audit.append('job-x', draft('CANCEL_FAILED'))).seq).toBe(3);
    expect((await s.audit.list('job-x')).map((e) => e.dedupeKey)).toEqual(['SUBMITTED', 'STATE:RUNNING', 'TERMINAL', 'CANCEL_FAILED']);
  });

  it('concurrent appends: an event allowed only before the end never lands after it, whichever write wins the race', async () => {
    const draft = (type: string, dedupeKey = type) => ({ type, dedupeKey });
    for (let round = 0; round < 8; round++) {
      const chain = `job-race-${round}`;
      await s.audit.append(chain, draft('SUBMITTED'));
      const progress = Array.from({ length: 4 }, (_, i) => s.audit.append(chain, draft('STATE_CHANGED', `STATE:${i}`), { onlyBefore: ['TERMINAL'] }));
      await Promise.all([...progress.slice(0, round % 4), s.audit.append(chain, draft('COMPLETED', 'TERMINAL')), ...progress.slice(round % 4)]);
      const keys = (await s.audit.list(chain)).map((e) => e.dedupeKey);
      expect(keys.slice(keys.indexOf('TERMINAL') + 1)).toEqual([]);
      expect(keys.filter((k) => k === 'TERMINAL')).toHaveLength(1);
    }
  });

  it('concurrent audit appends make one contiguous chain that verifies', async () => {
    await Promise.all(Array.from({ length: 10 }, (_, i) => s.audit.append('job-x', { type: `C${i}`, dedupeKey: `C${i}` })));
    const events = await s.audit.list('job-x');
    expect(events.map((e) => e.seq)).toEqual(Array.from({ length: 10 }, (_, i) => i));
    expect(await verifyTrail(s.sealer, 'job-x', events)).toMatchObject({ ok: true, macs: 'verified' });
  });
});

interface Emr {
  steps: EmrSteps;
  script(states: EmrStepState[], failure?: FailureDetails): void;
  throttleNextAdd(): void;
  rejectNextAdd(message: string): void;
  stop(): void;
}
const emrs: [string, () => Emr][] = [
  ['FakeEmrSteps', () => {
    const fake = new FakeEmrSteps(clock.now, [CLUSTER]);
    return {
      steps: fake,
      script: (states, failure) => Object.assign(fake, { nextScript: states, nextFailure: failure }),
      throttleNextAdd: () => fake.failNext('add', throttled()),
      rejectNextAdd: (message) => fake.failNext('add', rejected(message)),
      stop: () => undefined,
    };
  }],
  ['SdkEmrSteps over the SDK mock', () => {
    const fake = new FakeEmr();
    const sts = { send: () => Promise.resolve({ Credentials: { AccessKeyId: 'ASIA', SecretAccessKey: 's', SessionToken: 't' } }) } as unknown as STSClient;
    const clusters = [{ id: CLUSTER, propagateSourceIdentity: true }, { id: PLAIN_CLUSTER, propagateSourceIdentity: false }];
    return {
      steps: new SdkEmrSteps(new EMRClient({ region: 'us-east-1' }), sts, clusters, role('EmrGatewaySubmitter'), submitClientFactory({ region: 'us-east-1' })),
      script: (states, failure) => Object.assign(fake, { nextScript: states, nextFailure: failure && { Reason: failure.reason, Message: failure.message, LogFile: failure.logFile } }),
      throttleNextAdd: () => fake.failNext('AddJobFlowSteps', awsError('ThrottlingException', 'Rate exceeded')),
      rejectNextAdd: (message) => fake.failNext('AddJobFlowSteps', awsError('ValidationException', message)),
      stop: () => fake.restore(),
    };
  }],
];

describe.each(emrs)('EmrSteps: %s', (_name, make) => {
  let emr: Emr;
  beforeEach(() => {
    emr = make();
  });
  afterEach(() => emr.stop());

  it('add names the step, carries the source identity where the cluster propagates it; DescribeStep walks the script', async () => {
    emr.script(['PENDING', 'RUNNING', 'COMPLETED']);
    const job = jobAt(0);
    const added = await emr.steps.add(job, stepNameFor(job));
    expect(added).toEqual({ stepId: expect.stringMatching(/^s-/), sourceIdentity: 'alice' });
    const states: string[] = [];
    for (let i = 0; i < 4; i++) states.push((await emr.steps.describe(CLUSTER, added.stepId)).state);
    expect(states).toEqual(['PENDING', 'RUNNING', 'COMPLETED', 'COMPLETED']);
    const plain = jobAt(1, { clusterId: PLAIN_CLUSTER, request: parseJobRequest(submitBody({ clusterId: PLAIN_CLUSTER })) });
    expect(await emr.steps.add(plain, stepNameFor(plain))).toEqual({ stepId: expect.stringMatching(/^s-/) });
  });

  it('a FAILED step shows its FailureDetails', async () => {
    emr.script(['FAILED'], { reason: 'Unknown Error.', message: 'boom', logFile: 's3://logs/stderr.gz' });
    const job = jobAt(0);
    const { stepId } = await emr.steps.add(job, stepNameFor(job));
    expect(await emr.steps.describe(CLUSTER, stepId)).toEqual({ state: 'FAILED', failureDetails: { reason: 'Unknown Error.', message: 'boom', logFile: 's3://logs/stderr.gz' } });
  });

  it('cancel: SUBMITTED for a live step, which then goes CANCEL_PENDING, CANCELLED; FAILED with a reason once it is not', async () => {
    emr.script(['RUNNING']);
    const job = jobAt(0);
    const { stepId } = await emr.steps.add(job, stepNameFor(job));
    expect((await emr.steps.describe(CLUSTER, stepId)).state).toBe('RUNNING');
    expect(await emr.steps.cancel(CLUSTER, stepId, 'TERMINATE_PROCESS')).toEqual({ status: 'SUBMITTED' });
    expect((await emr.steps.describe(CLUSTER, stepId)).state).toBe('CANCEL_PENDING');
    expect((await emr.steps.describe(CLUSTER, stepId)).state).toBe('CANCELLED');
    expect(await emr.steps.cancel(CLUSTER, stepId, 'TERMINATE_PROCESS')).toEqual({ status: 'FAILED', reason: expect.any(String) });
  });

  it('find: the step whose name ends with the marker, else undefined', async () => {
    const [a, b] = [jobAt(0), jobAt(1)];
    await emr.steps.add(a, stepNameFor(a));
    const { stepId } = await emr.steps.add(b, stepNameFor(b));
    expect(await emr.steps.find(CLUSTER, stepMarker(b.jobId), new Date(Date.parse(b.createdAt) - 60_000))).toBe(stepId);
    expect(await emr.steps.find(CLUSTER, stepMarker(jobAt(2).jobId), new Date(Date.parse(b.createdAt) - 60_000))).toBeUndefined();
  });

  it("find: each attempt's marker finds that attempt's step only (a retry's attempt 2 never takes attempt 1's step for its own)", async () => {
    const job = jobAt(0);
    const since = new Date(Date.parse(job.createdAt) - 60_000);
    const first = await emr.steps.add(job, stepNameFor(job));
    expect(await emr.steps.find(CLUSTER, stepMarker(job.jobId, 2), since)).toBeUndefined();
    const second = await emr.steps.add({ ...job, attempt: 2 }, stepNameFor({ ...job, attempt: 2 }));
    expect(await emr.steps.find(CLUSTER, stepMarker(job.jobId), since)).toBe(first.stepId);
    expect(await emr.steps.find(CLUSTER, stepMarker(job.jobId, 2), since)).toBe(second.stepId);
    expect(await emr.steps.find(CLUSTER, stepMarker(job.jobId, 3), since)).toBeUndefined();
  });

  it('errors: throttling is a TransientError (Gateway.Transient), a refusal an EmrRejectedError, an unknown step neither', async () => {
    const job = jobAt(0);
    emr.throttleNextAdd();
    await expect(emr.steps.add(job, stepNameFor(job))).rejects.toMatchObject({ name: 'Gateway.Transient', throttled: true });
    emr.rejectNextAdd('Runtime roles are not supported on this cluster.');
    const refusal = await emr.steps.add(job, stepNameFor(job)).catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(EmrRejectedError);
    expect(refusal).toMatchObject({ emrError: 'ValidationException', message: 'Runtime roles are not supported on this cluster.' });
    const unknown = await emr.steps.describe(CLUSTER, 's-000000000099').catch((e: unknown) => e);
    expect(unknown).toMatchObject({ name: 'InvalidRequestException' });
    expect(unknown).not.toBeInstanceOf(TransientError);
  });
});
