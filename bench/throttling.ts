/**
 * Jobs under EMR throttling (`npx tsx bench/throttling.ts [JOBS] [RATE]`): JOBS valid jobs (default 1,000) through
 * the real ASL (the local runner, waits and retry pauses skipped), dynalite and EMR at the SDK (FakeEmr), every EMR
 * call throttled with probability RATE (default 0.3). Prints how the jobs ended, and how many ended FAILED without
 * their step ever being added: with transient errors retried until the job's deadline, that should be none.
 */
import { ALICE, startGateway, submitBody } from '../test/support/gateway';
import { awsError } from '../test/support/fake-emr';
import { seededRandom } from './random';


export async function main(jobs = 1000, rate = 0.3): Promise<void> {
  const gw = await startGateway();
  try {
    const next = seededRandom(20261128);
    gw.emr.nextScript = ['RUNNING', 'COMPLETED'];
    gw.emr.chaos = () => (next() < rate ? awsError('ThrottlingException', 'Rate exceeded') : undefined);
    const started = Date.now();
    const ids: string[] = [];
    const concurrency = 50;
    for (let i = 0; i < jobs; i += concurrency) {
      const batch = await Promise.all(Array.from({ length: Math.min(concurrency, jobs - i) }, () => gw.service.submit({ caller: { callerArn: ALICE }, body: submitBody() })));
      ids.push(...batch.map((r) => r.job.jobId));
    }
    const finished = await Promise.all(ids.map((id) => gw.finish(id)));
    const byStatus = new Map<string, number>();
    for (const job of finished) byStatus.set(job?.status ?? 'MISSING', (byStatus.get(job?.status ?? 'MISSING') ?? 0) + 1);
    const failedUnsubmitted = finished.filter((j) => j?.status === 'FAILED' && !j.stepId);
    console.log(`${jobs} jobs, every EMR call throttled with probability ${rate}, in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    console.log(`  statuses: ${[...byStatus].map(([s, n]) => `${s} ${n}`).join(', ')}`);
    console.log(`  FAILED with the step never submitted: ${failedUnsubmitted.length}${failedUnsubmitted[0] ? ` (e.g. ${failedUnsubmitted[0].failureDetails?.message?.slice(0, 120)})` : ''}`);
    console.log(`  AddJobFlowSteps calls: ${gw.emr.calls('AddJobFlowSteps')}, steps added: ${gw.emr.steps.length}`);
  } finally {
    gw.emr.chaos = undefined;
    await gw.stop();
  }
}

if (require.main === module) {
  main(Number(process.argv[2] ?? 1000), Number(process.argv[3] ?? 0.3)).catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
