/**
 * GET /jobs when most jobs are hidden from the caller (`npx tsx bench/list.ts`): JobService.list over the in-memory
 * store and over dynalite (the local DynamoDB), with N jobs in the listing that the caller may not read, and, for
 * comparison, one's own jobs and a listing where every 10th job is readable. Prints the latency of one request
 * (p50/p95 over the runs), the store Queries it made, and what it answered (jobs, whether a nextToken).
 * The page budget is 10 Queries per request (service.ts LIST_STORE_PAGES), so beyond ~limit + 900 hidden jobs the
 * answer becomes an empty page with a nextToken.
 */
import { DynamoJobStore } from '../src/adapters/dynamodb/job-store';
import { DigestVerifier } from '../src/audit/digester';
import { DEFAULT_POLLING } from '../src/jobs/workflow-input';
import { JobService, type ListJobsQuery } from '../src/jobs/service';
import type { Job } from '../src/jobs/model';
import type { JobRepository } from '../src/jobs/ports';
import { CAROL, CLUSTER, loadTestConfig, PEER, role, SCOPED, SCOPED_CONFIG_YAML, SimClock } from '../test/support/config';
import { InMemoryDigestStore, TestDigestSigner } from '../test/support/digests';
import { startDynamo } from '../test/support/dynamo';
import { InMemoryAuditLog, InMemoryJobRepository, RecordingStarter } from '../test/support/fakes';
import { jobRecords } from '../test/support/jobs';
import { TestSealer } from '../test/support/sealer';

const SIZES = [0, 250, 1000, 5000];
const RUNS = 15;
const LIMIT = 20;

interface Backend {
  name: string;
  jobs: JobRepository;
  add(jobs: Job[]): Promise<void>;
  stop(): Promise<void>;
}

function inMemory(clock: SimClock): Promise<Backend> {
  const jobs = new InMemoryJobRepository(clock.now);
  return Promise.resolve({
    name: 'in memory',
    jobs,
    add: (planted) => Promise.resolve(planted.forEach((job) => jobs.items.set(job.jobId, job))),
    stop: () => Promise.resolve(),
  });
}

async function dynalite(clock: SimClock): Promise<Backend> {
  const dynamo = await startDynamo();
  const jobs = new DynamoJobStore(dynamo.client, dynamo.jobsTable, clock.now);
  return {
    name: 'dynalite',
    jobs,
    async add(planted) {
      for (let i = 0; i < planted.length; i += 50) await Promise.all(planted.slice(i, i + 50).map((job) => jobs.create(job)));
    },
    stop: () => dynamo.stop(),
  };
}

const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;

export async function main(): Promise<void> {
  const { config, engine } = loadTestConfig(SCOPED_CONFIG_YAML);
  console.log(`GET /jobs (JobService.list, limit ${LIMIT}), ${RUNS} runs each; "hidden" = the caller may read none of the listing's jobs`);
  console.log('store     | jobs in listing | listing                         | p50 ms | p95 ms | Queries | answer');
  console.log('----------|-----------------|---------------------------------|--------|--------|---------|-------');
  for (const make of [inMemory, dynalite]) {
    let planted = 0;
    const clock = new SimClock();
    const backend = await make(clock);
    const queries: number[] = [];
    const store: JobRepository = {
      create: (job) => backend.jobs.create(job),
      get: (jobId) => backend.jobs.get(jobId),
      transition: (jobId, change) => backend.jobs.transition(jobId, change),
      list: (query) => {
        queries[queries.length - 1]!++;
        return backend.jobs.list(query);
      },
      unfinished: (cursor) => backend.jobs.unfinished(cursor),
      usage: (query) => backend.jobs.usage(query),
    };
    const sealer = new TestSealer();
    const service = new JobService({
      config, engine, jobs: store, audit: new InMemoryAuditLog(clock.now, sealer), sealer, digests: new DigestVerifier(new InMemoryDigestStore(), new TestDigestSigner()), workflow: new RecordingStarter(),
      tasks: { sendCancel: () => Promise.reject(new Error('no cancels here')), fail: () => Promise.reject(new Error('no failures here')), cancelBetweenAttempts: () => Promise.reject(new Error('no cancels here')) },
      polling: DEFAULT_POLLING, now: clock.now,
    });
    for (const size of SIZES) {
      // Peers' jobs on the analytics cluster, every 10th as CallerTeamRoleETL (Scoped may read those), the rest as Caller.
      await backend.add(jobRecords(new Date(Date.parse('2026-01-01T00:00:00Z') + planted * 1000), size - planted, (i) => ({
        callerArn: PEER, clusterId: CLUSTER, executionRoleArn: role((planted + i) % 10 === 0 ? 'CallerTeamRoleETL' : 'Caller'),
      })));
      planted = size;
      const listings: [string, string, ListJobsQuery][] = [
        ['hidden: carol, clusterId', CAROL, { clusterId: CLUSTER, limit: LIMIT }],
        ['every 10th: scoped, clusterId', SCOPED, { clusterId: CLUSTER, limit: LIMIT }],
        ['own jobs: peer, no filter', PEER, { limit: LIMIT }],
      ];
      for (const [label, callerArn, query] of listings) {
        const times: number[] = [];
        let answer = '';
        for (let run = 0; run < RUNS; run++) {
          queries.push(0);
          const started = process.hrtime.bigint();
          const page = await service.list({ callerArn }, query);
          times.push(Number(process.hrtime.bigint() - started) / 1e6);
          answer = `${page.jobs.length} jobs${page.nextToken ? ' + nextToken' : ''}`;
        }
        times.sort((a, b) => a - b);
        console.log(`${backend.name.padEnd(9)} | ${String(size).padStart(15)} | ${label.padEnd(31)} | ${percentile(times, 0.5).toFixed(1).padStart(6)} | ${percentile(times, 0.95).toFixed(1).padStart(6)} | ${String(queries.at(-1)).padStart(7)} | ${answer}`);
      }
    }
    await backend.stop();
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
