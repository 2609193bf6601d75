/**
 * Admission under load (`npx tsx bench/admission.ts [jobs=1000] [capacity=10]`), issue 16's target: N submissions at
 * once against a cluster of capacity C, from three principal groups (a quota each) with random priorities: never more
 * than C active, every job ends, and while all three groups wait, each gets a third of the admissions (within 10%).
 *
 * The harness is the integration tests' (test/support/gateway.ts): the job service, the real state machine run by
 * aws-local-stepfunctions with the real tasks, DynamoDB (dynalite) with the real admission record and its
 * conditional writes; EMR at the SDK (FakeEmr, each step PENDING, RUNNING, COMPLETED over three looks). So the
 * figures are admission's and the workflow's, not EMR's. Active jobs are counted two ways: the admission record,
 * sampled every 5 ms, and the steps EMR has not ended, counted at each AddJobFlowSteps.
 */
import { cpus, loadavg } from 'node:os';
import { parse, stringify } from 'yaml';
import { DynamoQueueStore } from '../src/adapters/dynamodb/queue-store';
import { isTerminal } from '../src/jobs/model';
import { GATEWAY_CONFIG_YAML } from '../test/support/config';
import { ALICE, CLUSTER, role, startGateway, submitBody } from '../test/support/gateway';
import { median, percentile } from './stats';

const ACCOUNT = '123456789012';
const GROUPS = [
  { name: 'team-a', caller: ALICE, role: 'DataTeamA' },
  { name: 'team-b', caller: `arn:aws:sts::${ACCOUNT}:assumed-role/TeamB/bob`, role: 'TeamB' },
  { name: 'team-c', caller: `arn:aws:sts::${ACCOUNT}:assumed-role/TeamC/cara`, role: 'TeamC' },
];
const FAIRNESS_TOLERANCE = 0.1;

function configYaml(capacity: number): string {
  const doc = parse(GATEWAY_CONFIG_YAML) as { clusters: Record<string, unknown>[]; principals: unknown[] };
  Object.assign(doc.clusters[0]!, { maxActiveJobs: capacity, maxQueuedJobs: 2000 });
  doc.principals.push({ match: role('TeamB'), policies: ['team-a'] }, { match: role('TeamC'), policies: ['team-a'] });
  return stringify({ ...doc, quotas: GROUPS.map((g) => ({ name: g.name, match: role(g.role) })) });
}

export async function main(args: string[] = process.argv.slice(2)): Promise<void> {
  const jobs = Number(args[0] ?? 1000);
  const capacity = Number(args[1] ?? 10);
  const gw = await startGateway({ admission: true, configYaml: configYaml(capacity) });
  try {
    const store = new DynamoQueueStore(gw.dynamo.client, gw.dynamo.jobsTable);
    let maxRecord = 0;
    let maxEmr = 0;
    const groupOfJob = new Map<string, string>();
    const admissions: string[] = [];
    gw.emr.duringAdd = () => {
      const live = gw.emr.steps.filter((s) => !['COMPLETED', 'FAILED', 'CANCELLED', 'INTERRUPTED'].includes(s.script[Math.max(s.position, 0)]!)).length;
      maxEmr = Math.max(maxEmr, live);
      const jobId = /\[(.+)\]$/.exec(gw.emr.steps.at(-1)!.name)?.[1];
      if (jobId) admissions.push(jobId);
      return Promise.resolve();
    };
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const q = await store.read(CLUSTER);
        maxRecord = Math.max(maxRecord, Object.keys(q.active).length);
        await new Promise((r) => setTimeout(r, 5));
      }
    })();

    console.log(`admission: ${jobs} submissions at once, capacity ${capacity}, ${GROUPS.length} groups; ${cpus().length} CPUs, load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    const start = performance.now();
    const latencies: number[] = [];
    let refused = 0;
    let errors = 0;
    const ids = await Promise.all(
      Array.from({ length: jobs }, async (_, i) => {
        const group = GROUPS[i % GROUPS.length]!;
        const t0 = performance.now();
        try {
          const { job } = await gw.service.submit({ caller: { callerArn: group.caller }, body: { ...submitBody(), name: `bench ${i}`, priority: Math.floor(Math.random() * 10) } });
          latencies.push(performance.now() - t0);
          groupOfJob.set(job.jobId, group.name);
          return job.jobId;
        } catch (error) {
          if ((error as Error).name === 'QueueFullError') refused++;
          else errors++;
          return undefined;
        }
      }),
    );
    const submitted = ids.filter((id): id is string => id !== undefined);
    const submitMs = performance.now() - start;
    console.log(`  submitted ${submitted.length} in ${(submitMs / 1000).toFixed(1)} s: p50 ${median(latencies).toFixed(0)} ms, p99 ${percentile([...latencies].sort((a, b) => a - b), 99).toFixed(0)} ms; ${refused} refused (queue full), ${errors} errors`);

    // Until every job has ended, with progress.
    let ended = 0;
    let lastPrint = 0;
    const byStatus = new Map<string, number>();
    for (;;) {
      const all = await Promise.all(submitted.map((id) => gw.jobs.get(id)));
      ended = all.filter((j) => j && isTerminal(j.status)).length;
      if (performance.now() - lastPrint > 5000 || ended === submitted.length) {
        const q = await store.read(CLUSTER);
        console.log(`  ${((performance.now() - start) / 1000).toFixed(0)} s: ${ended}/${submitted.length} ended, ${Object.keys(q.active).length} active, ${Object.keys(q.queued).length} queued`);
        lastPrint = performance.now();
      }
      if (ended === submitted.length) {
        for (const j of all) byStatus.set(j!.status, (byStatus.get(j!.status) ?? 0) + 1);
        break;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    const wallMs = performance.now() - start;
    sampling = false;
    await sampler;

    // The contended period: admissions while every group still had jobs waiting (until the first group's last admission).
    const totals = new Map(GROUPS.map((g) => [g.name, submitted.filter((id) => groupOfJob.get(id) === g.name).length]));
    const seen = new Map(GROUPS.map((g) => [g.name, 0]));
    const contended = new Map(GROUPS.map((g) => [g.name, 0]));
    for (const id of admissions) {
      const group = groupOfJob.get(id);
      if (!group) continue;
      seen.set(group, seen.get(group)! + 1);
      if ([...seen].some(([g, n]) => n >= totals.get(g)!)) break;
      contended.set(group, contended.get(group)! + 1);
    }
    const contendedTotal = [...contended.values()].reduce((a, b) => a + b, 0);
    const shares = GROUPS.map((g) => contended.get(g.name)! / Math.max(1, contendedTotal));
    const deviation = Math.max(...shares.map((s) => Math.abs(s - 1 / GROUPS.length) * GROUPS.length));

    console.log(`  all ended in ${(wallMs / 1000).toFixed(1)} s (${(submitted.length / (wallMs / 1000)).toFixed(1)} jobs/s): ${[...byStatus].map(([s, n]) => `${n} ${s}`).join(', ')}`);
    console.log(`  max active: ${maxRecord} by the admission record, ${maxEmr} steps on EMR (capacity ${capacity})`);
    console.log(`  fair share while all ${GROUPS.length} groups waited (${contendedTotal} admissions): ${GROUPS.map((g, i) => `${g.name} ${(shares[i]! * 100).toFixed(1)}%`).join(', ')}; max deviation ${(deviation * 100).toFixed(1)}% of equal`);
    const met = (ok: boolean) => (ok ? 'met' : 'NOT MET');
    console.log(`  target never more than ${capacity} active: ${met(maxRecord <= capacity && maxEmr <= capacity)}`);
    console.log(`  target every job ends: ${met(ended === submitted.length && errors === 0)}`);
    console.log(`  target fair share within ${FAIRNESS_TOLERANCE * 100}% of equal: ${met(deviation <= FAIRNESS_TOLERANCE)}`);
    console.log(`  load after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  } finally {
    await gw.stop();
  }
}

if (require.main === module) {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
