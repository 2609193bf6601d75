/**
 * Admission control on the real workflow: the ASL run by aws-local-stepfunctions with every Task routed to the real
 * task code, dynalite, EMR at the SDK (FakeEmr); the service places each job, the job store gives each end's place
 * back, the reconciler sweeps (cluster-queues.ts). Races (many submissions and completions at once against a small
 * capacity) and faults (a crash between the place and the record, a lost end, a crash between admission and start).
 */
import { parse, stringify } from 'yaml';
import { DynamoQueueStore } from '../../src/adapters/dynamodb/queue-store';
import { QueueFullError } from '../../src/errors';
import { ORPHAN_GRACE_MS } from '../../src/jobs/cluster-queues';
import { isTerminal, type Job } from '../../src/jobs/model';
import { GATEWAY_CONFIG_YAML } from '../support/config';
import { ALICE, CLUSTER, role, startGateway, submitBody, type TestGateway } from '../support/gateway';
import { observeSends } from '../support/dynamo';
import { until } from '../support/wait';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { verifiedTrail } from '../support/audit';

jest.setTimeout(60_000);

const ACCOUNT = '123456789012';
const BOB = `arn:aws:sts::${ACCOUNT}:assumed-role/TeamB/bob`;
const CARA = `arn:aws:sts::${ACCOUNT}:assumed-role/TeamC/cara`;

/** The shared configuration, with two more teams, a quota each, and a small capacity on CLUSTER. */
function configYaml(cluster: Record<string, unknown>, quotas: Record<string, unknown>[] = [
  { name: 'team-a', match: role('DataTeamA') },
  { name: 'team-b', match: role('TeamB') },
  { name: 'team-c', match: role('TeamC') },
]): string {
  const doc = parse(GATEWAY_CONFIG_YAML) as { clusters: Record<string, unknown>[]; principals: unknown[] };
  Object.assign(doc.clusters[0]!, cluster);
  doc.principals.push({ match: role('TeamB'), policies: ['team-a'] }, { match: role('TeamC'), policies: ['team-a'] });
  return stringify({ ...doc, quotas });
}

let gw: TestGateway;
afterEach(async () => {
  await gw?.stop();
});

const submit = (callerArn: string, overrides: Record<string, unknown> = {}, idempotencyKey?: string) =>
  gw.service.submit({ caller: { callerArn }, body: { ...submitBody(), name: `job ${Math.random()}`, ...overrides }, ...(idempotencyKey ? { idempotencyKey } : {}) }).then((r) => r.job);
const record = () => gw.queues!.read(CLUSTER);
const allEnded = (ids: string[]) => until(async () => ((await Promise.all(ids.map((id) => gw.jobs.get(id)))).every((j) => j && isTerminal(j.status)) ? true : undefined), { timeoutMs: 45_000, what: 'every job to end' });
const jobOf = async (jobId: string): Promise<Job> => (await gw.jobs.get(jobId))!;

/** Steps on EMR not yet ended, as AddJobFlowSteps sees them: never more than the capacity. */
function trackEmrConcurrency(): { max: number } {
  const seen = { max: 0 };
  gw.emr.duringAdd = () => {
    const live = gw.emr.steps.filter((s) => !['COMPLETED', 'FAILED', 'CANCELLED', 'INTERRUPTED'].includes(s.script[Math.max(s.position, 0)]!)).length;
    seen.max = Math.max(seen.max, live);
    return Promise.resolve();
  };
  return seen;
}

describe('admission under races', () => {
  it('never puts more jobs on the cluster than its capacity while many submissions and completions race, and every job ends', async () => {
    gw = await startGateway({ admission: true, configYaml: configYaml({ maxActiveJobs: 2, maxQueuedJobs: 100 }) });
    const emr = trackEmrConcurrency();
    let maxActive = 0;
    const store = new DynamoQueueStore(gw.dynamo.client, gw.dynamo.jobsTable);
    const sampling = setInterval(() => void store.read(CLUSTER).then((q) => (maxActive = Math.max(maxActive, Object.keys(q.active).length))), 2);
    const callers = [ALICE, BOB, CARA];
    const jobs = await Promise.all(Array.from({ length: 24 }, (_, i) => submit(callers[i % 3]!)));
    expect(jobs.filter((j) => j.status === 'QUEUED').length).toBeGreaterThanOrEqual(20);
    await allEnded(jobs.map((j) => j.jobId));
    clearInterval(sampling);
    const ended = await Promise.all(jobs.map((j) => jobOf(j.jobId)));
    expect(ended.map((j) => j.status)).toEqual(jobs.map(() => 'COMPLETED'));
    expect(maxActive).toBeLessThanOrEqual(2);
    expect(emr.max).toBeLessThanOrEqual(2);
    expect(gw.emr.steps).toHaveLength(24);
    // Nothing is left holding a place.
    expect(await record()).toMatchObject({ clusterId: CLUSTER, active: {}, queued: {} });
    // Each queued job's trail: its decision, QUEUED, ADMITTED, then the workflow's events; all verified.
    const queuedOne = jobs.find((j) => j.status === 'QUEUED')!;
    const types = await verifiedTrail(gw, queuedOne.jobId, { headAtEnd: true });
    expect(types.slice(0, 3)).toEqual(['DECISION', 'QUEUED', 'ADMITTED']);
    expect(types.at(-1)).toBe('COMPLETED');
  });

  it('takes exactly the capacity from racing writers at the record (the conditional write holds the limit)', async () => {
    gw = await startGateway({ admission: true, configYaml: configYaml({ maxActiveJobs: 5, maxQueuedJobs: 7 }) });
    const store = new DynamoQueueStore(gw.dynamo.client, gw.dynamo.jobsTable);
    const limits = { clusterActive: 5, clusterQueued: 7, groupActive: Infinity, groupQueued: Infinity };
    const at = new Date().toISOString();
    const started = await Promise.all(Array.from({ length: 40 }, (_, i) => store.startAtOnce(CLUSTER, `job-${i}`, { group: 'g', at }, limits)));
    expect(started.filter(Boolean)).toHaveLength(5);
    const queued = await Promise.all(Array.from({ length: 40 }, (_, i) => store.enqueue(CLUSTER, `wait-${i}`, { group: 'g', priority: 5, at }, limits)));
    expect(queued.filter(Boolean)).toHaveLength(7);
    // With a job queued, nobody takes a slot at once, even a freed one: it goes to the queue first.
    const first = Object.keys((await store.read(CLUSTER)).active)[0]!;
    // The removal answers with the record after it: the freed slot and the queue still waiting.
    const left = await store.remove(CLUSTER, first, 'active', 'g');
    expect(left && { active: Object.keys(left.active).length, queued: Object.keys(left.queued).length, has: first in left.active }).toEqual({ active: 4, queued: 7, has: false });
    expect(await store.remove(CLUSTER, first, 'active', 'g')).toBeUndefined();
    expect(await store.startAtOnce(CLUSTER, 'newcomer', { group: 'g', at }, limits)).toBe(false);
    // Racing promotions of every queued job into the one free slot: one wins.
    const waiting = Object.keys((await store.read(CLUSTER)).queued);
    const promoted = await Promise.all(waiting.map((id) => store.promote(CLUSTER, id, 'g', at, limits)));
    expect(promoted.filter(Boolean)).toHaveLength(1);
    const after = await store.read(CLUSTER);
    expect(Object.keys(after.active)).toHaveLength(5);
    expect(Object.keys(after.queued)).toHaveLength(6);
  });
});

describe('admission order', () => {
  it('starts queued jobs by priority within a group, and fairly between groups', async () => {
    gw = await startGateway({ admission: true, configYaml: configYaml({ maxActiveJobs: 1 }) });
    gw.emr.nextScript = ['RUNNING'];
    // The first job holds the only slot (its step stays RUNNING until released below).
    const holder = await submit(ALICE);
    expect(holder.status).toBe('ACCEPTED');
    await until(() => Promise.resolve(gw.emr.steps.length === 1 ? true : undefined));
    const a = [];
    for (const priority of [1, 9, 5]) a.push(await submit(ALICE, { priority }));
    const b = await submit(BOB, { priority: 0 });
    expect([...a, b].map((j) => j.status)).toEqual(['QUEUED', 'QUEUED', 'QUEUED', 'QUEUED']);
    const view = await gw.service.queueView({ callerArn: ALICE }, CLUSTER);
    // Team B has nobody active, team A has the holder: B's job goes first, whatever its priority; then A's by priority.
    expect(view.entries.map((e) => [e.group, e.priority])).toEqual([['team-b', 0], ['team-a', 9], ['team-a', 5], ['team-a', 1]]);
    // Alice sees her own jobs' ids only.
    expect(view.entries.map((e) => e.jobId)).toEqual([undefined, a[1]!.jobId, a[2]!.jobId, a[0]!.jobId]);
    expect(view).toMatchObject({ maxActiveJobs: 1, active: 1, queued: 4 });

    // Each step completes once it runs; the holder's now.
    gw.emr.nextScript = ['PENDING', 'RUNNING', 'COMPLETED'];
    gw.emr.steps[0]!.script.push('COMPLETED');
    await allEnded([holder, ...a, b].map((j) => j.jobId));
    const admittedAt = await Promise.all([b, a[1]!, a[2]!, a[0]!].map(async (j) => (await jobOf(j.jobId)).admission?.admittedAt));
    expect(admittedAt.every((t) => t !== undefined)).toBe(true);
    expect([...admittedAt].sort()).toEqual(admittedAt);
    // The steps were added to EMR in the same order.
    expect(gw.emr.steps.map((s) => /\[(.+)\]$/.exec(s.name)?.[1])).toEqual([holder, b, a[1]!, a[2]!, a[0]!].map((j) => j.jobId));
  });
});

describe('admission round trips', () => {
  it('a job that ends gives its place back with one read of the cluster\'s record: the removal answers with the record after it', async () => {
    let reads = 0;
    gw = await startGateway({
      admission: true,
      configYaml: configYaml({ maxActiveJobs: 2, maxQueuedJobs: 5 }),
      // The gateway's client counts its reads of the cluster's record; the test reads through the client beneath.
      wrapDb: (db) =>
        observeSends(db, (command) => {
          if (command.constructor.name === 'GetItemCommand' && command.input.Key?.jobId?.S?.startsWith('que-')) reads++;
        }),
    });
    const store = new DynamoQueueStore(gw.dynamo.client, gw.dynamo.jobsTable);
    const placesFree = () => until(async () => {
      const { active, queued } = await store.read(CLUSTER);
      return Object.keys(active).length + Object.keys(queued).length === 0 ? true : undefined;
    });
    for (let i = 0; i < 2; i++) {
      const { jobId } = await submit(ALICE);
      await allEnded([jobId]);
      await placesFree();
      // The end's dispatch (the next step after the removal) has had its time.
      await new Promise((r) => setTimeout(r, 200));
    }
    // Each end: one read to find its place; the removal's answer says whether any job waits, so no read to dispatch.
    expect(reads).toBe(2);
  });
});

describe('admission refusals and cancels', () => {
  it('refuses a job beyond a full queue with QueueFullError and records nothing but its decision; an idempotent retry keeps its one place', async () => {
    gw = await startGateway({ admission: true, configYaml: configYaml({ maxActiveJobs: 1, maxQueuedJobs: 1 }) });
    gw.emr.nextScript = ['RUNNING'];
    await submit(ALICE);
    const waiting = await submit(ALICE, {}, 'key-1');
    expect(waiting.status).toBe('QUEUED');
    const again = await gw.service.submit({ caller: { callerArn: ALICE }, body: { ...submitBody(), name: waiting.name }, idempotencyKey: 'key-1' });
    expect(again).toMatchObject({ replayed: true, job: { jobId: waiting.jobId, status: 'QUEUED' } });
    expect(Object.keys((await record()).queued)).toEqual([waiting.jobId]);

    const refused = await submit(BOB, {}, 'key-2').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(QueueFullError);
    expect(refused).toMatchObject({ retryAfterSeconds: 30, message: expect.stringMatching(/queue of j-2AXXXXXXGAPLF is full \(1 of 1/) });
    // No job record; its decision is on the trail of the job id it would have had (a retry finds it).
    const { jobIdForIdempotencyKey } = await import('../../src/jobs/job-id');
    const id = jobIdForIdempotencyKey('arn:aws:iam::123456789012:role/TeamB', 'key-2');
    expect(await gw.jobs.get(id)).toBeUndefined();
    expect((await gw.audit.list(id)).map((e) => e.type)).toEqual(['DECISION']);
  });

  it('refuses a job beyond its group queue while others may still queue', async () => {
    gw = await startGateway({ admission: true, configYaml: configYaml({ maxActiveJobs: 1 }, [{ name: 'team-b', match: role('TeamB'), maxActiveJobs: 1, maxQueuedJobs: 1 }]) });
    gw.emr.nextScript = ['RUNNING'];
    await submit(BOB);
    expect((await submit(BOB)).status).toBe('QUEUED');
    await expect(submit(BOB)).rejects.toThrow(/queue of group team-b on j-2AXXXXXXGAPLF is full/);
    expect((await submit(ALICE)).status).toBe('QUEUED');
  });

  it('ends a cancelled queued job CANCELLED at once, never on EMR, and gives its place to the next', async () => {
    gw = await startGateway({ admission: true, configYaml: configYaml({ maxActiveJobs: 1 }) });
    gw.emr.nextScript = ['RUNNING'];
    const holder = await submit(ALICE);
    const cancelled = await submit(ALICE, { priority: 9 });
    const next = await submit(ALICE);
    const after = await gw.service.cancel({ callerArn: ALICE }, cancelled.jobId);
    expect(after).toMatchObject({ status: 'CANCELLED' });
    expect(after.stepId).toBeUndefined();
    expect(Object.keys((await record()).queued)).toEqual([next.jobId]);
    expect(await verifiedTrail(gw, cancelled.jobId, { headAtEnd: true })).toEqual(['DECISION', 'QUEUED', 'CANCEL_REQUESTED', 'CANCELLED']);
    gw.emr.steps[0]!.script.push('COMPLETED');
    gw.emr.nextScript = ['COMPLETED'];
    await allEnded([holder.jobId, next.jobId]);
    expect(gw.emr.steps).toHaveLength(2);
    expect(gw.runner.executions.has(cancelled.jobId)).toBe(false);
  });

  it('refuses no denied request by capacity: a denial takes no place', async () => {
    gw = await startGateway({ admission: true, configYaml: configYaml({ maxActiveJobs: 1, maxQueuedJobs: 0 }) });
    gw.emr.nextScript = ['RUNNING'];
    await submit(ALICE);
    // Contractors have no policy: denied (403), not told the queue is full.
    await expect(submit(`arn:aws:sts::${ACCOUNT}:assumed-role/Contractors/carol`)).rejects.toThrow(/denied|not allowed|no policy/i);
    expect(Object.keys((await record()).queued)).toHaveLength(0);
  });
});

describe('admission under faults', () => {
  it('a lost end: the place stays taken until the sweep gives it back and admits the next job', async () => {
    gw = await startGateway({ admission: true, configYaml: configYaml({ maxActiveJobs: 1 }) });
    gw.emr.nextScript = ['RUNNING', 'COMPLETED'];
    // The job store's call to admission is lost (a crash right after the job's end was written).
    gw.onEnded = async () => {};
    const first = await submit(ALICE);
    const second = await submit(ALICE);
    expect(second.status).toBe('QUEUED');
    await allEnded([first.jobId]);
    expect(Object.keys((await record()).active)).toEqual([first.jobId]);
    expect((await jobOf(second.jobId)).status).toBe('QUEUED');
    gw.onEnded = async (job) => void (await gw.queues!.released(job));
    const run = await gw.reconciler.run();
    expect(run.admission?.[0]).toMatchObject({ clusterId: CLUSTER, freed: [first.jobId], admitted: [second.jobId] });
    await allEnded([second.jobId]);
    expect((await jobOf(second.jobId)).status).toBe('COMPLETED');
  });

  it('a crash between the place and the record: the orphan place is held through the grace, then given back', async () => {
    gw = await startGateway({ admission: true, configYaml: configYaml({ maxActiveJobs: 1 }) });
    gw.emr.nextScript = ['RUNNING'];
    // The submission died after taking the slot, before writing its job.
    await gw.queues!.place({ jobId: 'j-orphan-0001', clusterId: CLUSTER, principalArn: role('DataTeamA') });
    const waiting = await submit(ALICE);
    expect(waiting.status).toBe('QUEUED');
    expect((await gw.queues!.sweep())[0]).toMatchObject({ freed: [], admitted: [] });
    gw.clock.advance(ORPHAN_GRACE_MS / 1000 + 1);
    expect((await gw.queues!.sweep())[0]).toMatchObject({ freed: ['j-orphan-0001'], admitted: [waiting.jobId] });
    await until(async () => ((await jobOf(waiting.jobId)).stepId ? true : undefined));
  });

  it('a crash between admitting a job and starting it: the sweep launches it', async () => {
    gw = await startGateway({ admission: true, configYaml: configYaml({ maxActiveJobs: 1 }) });
    // The holder's step completes; the next one's runs until the test ends.
    gw.emr.queue.push({ script: ['COMPLETED'] });
    gw.emr.nextScript = ['RUNNING'];
    const holder = await submit(ALICE);
    // Admission moves the job into the slot, then dies before its record changes (no launch).
    const launch = gw.queues!.launch.bind(gw.queues);
    let crashed = false;
    gw.queues!.launch = async (jobId) => {
      if (!crashed) {
        crashed = true;
        throw new Error('crash before launch');
      }
      return launch(jobId);
    };
    const waiting = await submit(ALICE);
    await allEnded([holder.jobId]);
    await until(async () => (Object.keys((await record()).active)[0] === waiting.jobId ? true : undefined));
    expect(crashed).toBe(true);
    expect((await jobOf(waiting.jobId)).status).toBe('QUEUED');
    expect((await gw.queues!.sweep())[0]).toMatchObject({ launched: [waiting.jobId] });
    await until(async () => ((await jobOf(waiting.jobId)).stepId ? true : undefined));
    expect(await verifiedTrail(gw, waiting.jobId)).toEqual(expect.arrayContaining(['DECISION', 'QUEUED', 'ADMITTED']));
  });

  it('planted entries in the admission record: shapes it cannot trust are no place, a place of no job is given back', async () => {
    gw = await startGateway({ admission: true, configYaml: configYaml({ maxActiveJobs: 2 }) });
    await gw.dynamo.client.send(new PutItemCommand({
      TableName: gw.dynamo.jobsTable,
      Item: marshall({
        jobId: `que-${CLUSTER}`,
        active: 2,
        'A@team-a': 1,
        'A@default': 1,
        'A:j-planted-0001': { group: 'team-a', at: '2026-01-01T00:00:00.000Z' },
        'A:bad': { group: 'no spaces allowed', at: 'yesterday' },
        'Q:j-planted-0002': { group: 'team-a', priority: 99, at: '2026-01-01T00:00:00.000Z' },
      }),
    }));
    const q = await record();
    expect(Object.keys(q.active)).toEqual(['j-planted-0001']);
    expect(q.queued).toEqual({});
    // The planted active place belongs to no job and is old: the sweep gives it back.
    expect((await gw.queues!.sweep())[0]).toMatchObject({ freed: ['j-planted-0001'] });
  });
});

describe('admission over HTTP', () => {
  it('GET /queues shows capacity, groups and the queue in order; a full queue is 429 QueueFull with Retry-After; a queued job shows its place', async () => {
    gw = await startGateway({ admission: true, configYaml: configYaml({ maxActiveJobs: 1, maxQueuedJobs: 2 }) });
    gw.emr.nextScript = ['RUNNING'];
    const { apiFor } = await import('../support/api');
    const api = apiFor(gw);
    const post = (callerArn: string, priority: number) => api('POST', '/jobs', { caller: callerArn, body: { ...submitBody(), name: `p${priority}`, priority } });
    expect((await post(ALICE, 5)).status).toBe(202);
    const queued = await post(ALICE, 7);
    expect(queued).toMatchObject({ status: 202, body: { status: 'QUEUED' } });
    expect((await post(BOB, 2)).status).toBe(202);
    const full = await post(BOB, 9);
    expect(full).toMatchObject({ status: 429, body: { error: { code: 'QueueFull', details: { clusterId: CLUSTER, maxQueuedJobs: 2 } } } });
    expect(full.headers['retry-after']).toBe('30');

    const view = await api('GET', '/queues', { caller: ALICE, query: { clusterId: CLUSTER } });
    expect(view.status).toBe(200);
    expect(view.body).toMatchObject({ clusterId: CLUSTER, maxActiveJobs: 1, maxQueuedJobs: 2, active: 1, queued: 2 });
    expect((view.body.entries as { group: string; priority: number; jobId?: string }[]).map((e) => [e.group, e.priority, e.jobId])).toEqual([
      ['team-b', 2, undefined],
      ['team-a', 7, queued.body.jobId],
    ]);
    const job = await api('GET', `/jobs/${String(queued.body.jobId)}`, { caller: ALICE });
    expect(job.body).toMatchObject({ status: 'QUEUED', admission: { group: 'team-a', priority: 7 } });

    expect(await api('GET', '/queues', { caller: ALICE })).toMatchObject({ status: 400, body: { error: { message: expect.stringMatching(/clusterId/) } } });
    expect(await api('GET', '/queues', { caller: ALICE, query: { clusterId: 'j-1NOTCONFIGURED' } })).toMatchObject({ status: 404 });
    expect(await api('GET', '/queues', { caller: ALICE, query: { clusterId: CLUSTER, extra: '1' } })).toMatchObject({ status: 400 });
    expect((await api('POST', '/jobs', { caller: ALICE, body: { ...submitBody(), priority: 10 } })).body).toMatchObject({ error: { message: expect.stringMatching(/priority: must be a whole number from 0 to 9/) } });
  });
});
