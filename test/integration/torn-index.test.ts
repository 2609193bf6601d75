/**
 * kill -9 of the local DynamoDB (dynalite) in the middle of a job write, between its index writes and its item
 * write (test/support/torn-index.ts), and what the next start finds: recovery reads the table itself, so it
 * finds every unfinished job and no job that does not exist; listings read every entry through to its item, so
 * they show each job once, under the state the table holds, whatever ghost entries the indexes kept.
 */
import type { Job, JobStatus } from '../../src/jobs/model';
import { repairJobIndexes } from '../../src/local/dynamodb';
import { resumeUnfinished } from '../../src/local/stack';
import { ALICE, startGateway, submitBody, type TestGateway } from '../support/gateway';
import { tearDynalite, type Tear, type TearStage } from '../support/torn-index';
import { FakeExecutions } from '../support/fakes';
import { Reconciler } from '../../src/jobs/reconciler';
import { DEFAULT_POLLING } from '../../src/jobs/workflow-input';

jest.setTimeout(30_000);

let gw: TestGateway;
let tear: Tear;
beforeEach(async () => {
  tear = tearDynalite();
  gw = await startGateway();
});
afterEach(async () => {
  tear.restore();
  await gw.stop();
});

const held = () => gw.serviceWith({ start: () => Promise.resolve() });
/** A job of ALICE's, ACCEPTED, a second after the previous one. */
async function submitted(name: string, idempotencyKey?: string): Promise<Job> {
  gw.clock.advance(1);
  return (await held().submit({ caller: { callerArn: ALICE }, body: submitBody({ name }), ...(idempotencyKey ? { idempotencyKey } : {}) })).job;
}
/** The write dies at `stage` (the process is killed), then the stack starts again. */
async function killedDuring(match: (item: Record<string, { S?: string }>) => boolean, stage: TearStage, write: () => Promise<unknown>): Promise<void> {
  tear.next(match as (item: Record<string, unknown>) => boolean, stage);
  await expect(write()).rejects.toThrow(/killed mid-write/);
  tear.revive();
}
const named = (name: string) => (item: Record<string, { S?: string }>) => item.name?.S === name;
const byId = (jobId: string) => (item: Record<string, { S?: string }>) => item.jobId?.S === jobId;

/** Every page of ALICE's listing (`limit` 2, so jobs cross pages), as [jobId, status]. */
async function listing(filters: { status?: string } = {}): Promise<[string, string][]> {
  const seen: [string, string][] = [];
  let nextToken: string | undefined;
  for (let i = 0; i < 50; i++) {
    const page = await gw.service.list({ callerArn: ALICE }, { ...filters, limit: 2, ...(nextToken ? { nextToken } : {}) });
    seen.push(...page.jobs.map((j): [string, string] => [j.jobId, j.status]));
    nextToken = page.nextToken;
    if (!nextToken) break;
  }
  return seen;
}

/**
 * The jobs as the table holds them, after a burst that a kill tore four times:
 * - `lost`: ACCEPTED → SUBMITTED killed after its index deletes: in no status index at all;
 * - `ghostEnd`: RUNNING → COMPLETED killed after its index writes: the indexes say COMPLETED, the item RUNNING;
 * - `recreated`: its create killed after the index writes, the request retried after the restart (same
 *   Idempotency-Key, a later time): ghost entries at the first attempt's position, the real ones at the second's;
 * - `phantom`: its create killed after the index writes and never retried: entries, no item.
 */
type BurstJobs = Record<'accepted' | 'completed' | 'running' | 'lost' | 'ghostEnd' | 'recreated', string>;
async function tornBurst(): Promise<{ jobs: BurstJobs; truth: Map<string, JobStatus> }> {
  const accepted = await submitted('accepted');
  const completed = await submitted('completed');
  await gw.jobs.transition(completed.jobId, () => ({ status: 'COMPLETED', finishedAt: gw.clock.now().toISOString() }));
  const running = await submitted('running');
  await gw.jobs.transition(running.jobId, () => ({ status: 'RUNNING', stepId: 's-000000000001', emrState: 'RUNNING' }));
  const lost = await submitted('lost');
  await killedDuring(byId(lost.jobId), 'deletes', () => gw.jobs.transition(lost.jobId, () => ({ status: 'SUBMITTED', stepId: 's-000000000002' })));
  const ghostEnd = await submitted('ghost end');
  await gw.jobs.transition(ghostEnd.jobId, () => ({ status: 'RUNNING', stepId: 's-000000000003', emrState: 'RUNNING' }));
  await killedDuring(byId(ghostEnd.jobId), 'indexes', () => gw.jobs.transition(ghostEnd.jobId, () => ({ status: 'COMPLETED', emrState: 'COMPLETED' })));
  await killedDuring(named('recreated'), 'indexes', () => submitted('recreated', 'retried-after-restart'));
  gw.clock.advance(30);
  const recreated = await submitted('recreated', 'retried-after-restart');
  await killedDuring(named('phantom'), 'indexes', () => submitted('phantom'));
  expect(tear.torn).toBe(4);
  const jobs: BurstJobs = { accepted: accepted.jobId, completed: completed.jobId, running: running.jobId, lost: lost.jobId, ghostEnd: ghostEnd.jobId, recreated: recreated.jobId };
  const truth = new Map<string, JobStatus>();
  for (const jobId of Object.values(jobs)) truth.set(jobId, (await gw.jobs.get(jobId))!.status);
  expect(Object.fromEntries(Object.entries(jobs).map(([name, id]) => [name, truth.get(id)]))).toEqual({
    accepted: 'ACCEPTED', completed: 'COMPLETED', running: 'RUNNING', lost: 'ACCEPTED', ghostEnd: 'RUNNING', recreated: 'ACCEPTED',
  });
  return { jobs, truth };
}

it('listings show each job once, under the state the table holds, across pages, whatever ghost entries the indexes kept', async () => {
  const { jobs, truth } = await tornBurst();
  const all = await listing();
  // Newest first, each once, as the table says: no phantom, no second `recreated`, `ghostEnd` still RUNNING.
  const newestFirst = [jobs.recreated, jobs.ghostEnd, jobs.lost, jobs.running, jobs.completed, jobs.accepted];
  expect(all).toEqual(newestFirst.map((id) => [id, truth.get(id)]));
  for (const status of ['ACCEPTED', 'SUBMITTED', 'RUNNING', 'COMPLETED']) {
    const listed = await listing({ status });
    expect(new Set(listed.map(([id]) => id)).size).toBe(listed.length);
    // Never a job under a state it is not in (an entry a kill deleted may be missing until the job's next write).
    for (const [id, shown] of listed) expect([id, shown, truth.get(id)]).toEqual([id, status, status]);
  }
  expect((await listing({ status: 'COMPLETED' })).map(([id]) => id)).toEqual([jobs.completed]);
  // The store itself drops what the index says and the table does not (GSIs lag in AWS too: the same read-through).
  const stored = await gw.jobs.list({ status: 'COMPLETED', limit: 10 });
  expect(stored.jobs.map((j) => j.jobId)).toEqual([jobs.completed]);
});

it('recovery finds every unfinished job from the table, none that does not exist; afterwards each status listing holds exactly its jobs', async () => {
  const { jobs, truth } = await tornBurst();
  // After a restart no execution exists: the reconciler, which recovery runs, starts every unfinished job again.
  const executions = new FakeExecutions();
  const reconciler = new Reconciler({ jobs: gw.jobs, audit: gw.audit, executions, workflow: executions, tasks: gw.workflow, polling: DEFAULT_POLLING, now: gw.clock.now });
  const resumed = await resumeUnfinished(gw.jobs, reconciler, (ids) => repairJobIndexes(gw.dynamo.client, gw.dynamo.jobsTable, ids));
  const unfinished = [jobs.accepted, jobs.running, jobs.lost, jobs.ghostEnd, jobs.recreated];
  expect([...executions.started].sort()).toEqual([...unfinished].sort());
  expect([...resumed].sort()).toEqual([...unfinished].sort());
  // The entries a kill deleted are written again: each status listing is exactly the jobs in that status.
  for (const status of ['ACCEPTED', 'SUBMITTED', 'RUNNING', 'COMPLETED'] as const) {
    const expected = [...truth].filter(([, s]) => s === status).map(([id]) => id).sort();
    expect((await listing({ status })).map(([id]) => id).sort()).toEqual(expected);
  }
});

it('a job whose create was killed, retried by its caller after the restart, runs: it is neither stuck nor FAILED "does not exist"', async () => {
  await killedDuring(named('retried'), 'indexes', () => submitted('retried', 'retry-me'));
  // The restart: recovery, then the caller's retry of the request it never had an answer to.
  await resumeUnfinished(gw.jobs, gw.reconciler);
  gw.emr.nextScript = ['COMPLETED'];
  const { job } = await gw.service.submit({ caller: { callerArn: ALICE }, body: submitBody({ name: 'retried' }), idempotencyKey: 'retry-me' });
  expect(await gw.finish(job.jobId)).toMatchObject({ status: 'COMPLETED' });
  expect(gw.emr.steps).toHaveLength(1);
});
