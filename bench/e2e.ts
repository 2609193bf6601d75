/**
 * End to end through the local stack (`npx tsx bench/e2e.ts [jobs] [concurrency]`): POST /jobs through the gateway
 * (SigV4 API front → handler → policy → audit → DynamoDB → StartExecution) against direct AddJobFlowSteps calls to
 * the local EMR, in the same run, each phase on a settled stack (every job and step of the phase before has
 * ended), so that no phase pays for another's leftovers:
 * - one at a time on an idle stack (each job's workflow ends before the next submission): the cost of one
 *   submission, with its profile (submission.ts);
 * - one at a time back to back: each submission shares the machine with the previous job's workflow;
 * - N at concurrency C: submissions/s (a 202 each), p50/p99, errors; then the time until every one of them ended.
 * All of it for each of the local stack's DynamoDB modes (persisted, in memory), side by side at the end.
 * Prints the targets with "met"/"not met", the figures they compare and the machine's load.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, cpus } from 'node:os';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { AddJobFlowStepsCommand, EMRClient } from '@aws-sdk/client-emr';
import { GatewayClient } from '../src/client';
import { startLocalStack, type LocalStack } from '../src/local/stack';
import { cpuShares, printShares } from './cpu-profile';
import { median, percentile } from './stats';
import { MODES, printProfile, profileOnItsOwnStack, type Mode, type SubmissionProfile } from './submission';

const CLUSTER = 'j-2AXXXXXXGAPLF';
const ROLE = 'arn:aws:iam::123456789012:role/CallerTeamRoleETL';
/** The targets: p50 overhead unloaded, and the share of direct throughput at concurrency 50. */
const TARGET_OVERHEAD_MS = 5;
const TARGET_THROUGHPUT_SHARE = 0.5;

interface Run {
  ms: number[];
  errors: number;
  wallMs: number;
}

async function run(n: number, concurrency: number, call: (i: number) => Promise<unknown>): Promise<Run> {
  const ms: number[] = [];
  let errors = 0;
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < n; i = next++) {
        const t = performance.now();
        try {
          await call(i);
          ms.push(performance.now() - t);
        } catch {
          errors++;
        }
      }
    }),
  );
  return { ms: ms.sort((a, b) => a - b), errors, wallMs: performance.now() - start };
}

const perSecond = (r: Run): number => (r.ms.length / r.wallMs) * 1000;

/** Until no execution runs and no step is active: the next phase starts on a settled stack. Returns the ms it took. */
async function settle(stack: LocalStack): Promise<number> {
  const start = performance.now();
  const busy = (): boolean =>
    [...stack.runner.executions.values()].some((e) => e.status === 'RUNNING') ||
    stack.emr.listSteps({ ClusterId: CLUSTER, StepStates: ['PENDING', 'RUNNING', 'CANCEL_PENDING'] }).Steps.length > 0;
  while (busy()) await new Promise((r) => setTimeout(r, 20));
  return performance.now() - start;
}

const load = (): string => `load average ${loadavg().map((l) => l.toFixed(2)).join(' ')} on ${cpus().length} CPUs`;

interface ModeFigures {
  mode: Mode;
  profile: SubmissionProfile;
  gatewaySerial: Run;
  directSerial: Run;
  gateway: Run;
  directLoaded: Run;
}

/** Every phase on one stack of `mode` (after its own profiled idle stack), printed as it goes. */
async function measure(mode: Mode, jobs: number, concurrency: number): Promise<ModeFigures> {
  console.log(`\n=== the local stack with DynamoDB ${mode.name} ===`);
  // 1. One at a time on an idle stack, with where the time goes: a stack of its own, whose AWS port times each call.
  const profiled = 100;
  const profile = await profileOnItsOwnStack(profiled, mode);
  printProfile(profile, profiled);

  const dataDir = mkdtempSync(join(tmpdir(), 'emr-gateway-bench-'));
  const stack = await startLocalStack({ configFile: resolve(__dirname, '../config/example.yaml'), port: 0, awsPort: 0, dataDir, inMemory: mode.inMemory, env: { PATH: process.env.PATH } });
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
  try {
    await stack.startup;
    console.log(`${load()} at the start`);
    const client = new GatewayClient({ endpoint: stack.apiUrl, region: stack.region, credentials: { accessKeyId: 'AKIALOCALALICE000001', secretAccessKey: 'local-alice-secret' } });
    const emr = new EMRClient({ region: stack.region, endpoint: stack.awsUrl, credentials: { accessKeyId: 'AKIABENCH00000000000', secretAccessKey: 'x' }, maxAttempts: 1 });
    const body = (i: number) => ({ clusterId: CLUSTER, executionRoleArn: ROLE, name: `bench ${i}`, step: { type: 'command' as const, args: ['true'] } });
    const direct = (i: number) =>
      emr.send(new AddJobFlowStepsCommand({ JobFlowId: CLUSTER, ExecutionRoleArn: ROLE, Steps: [{ Name: `direct ${i}`, HadoopJarStep: { Jar: 'command-runner.jar', Args: ['true'] } }] }));

    // 2. Back to back, then 3. at the concurrency: each phase on a settled stack.
    const gatewaySerial = await run(100, 1, (i) => client.submit(body(i), { idempotencyKey: `serial-${i}` }));
    await settle(stack);
    const directSerial = await run(100, 1, direct);
    await settle(stack);
    const directLoaded = await run(jobs, concurrency, direct);
    await settle(stack);
    const cpuBefore = process.cpuUsage();
    const { result: [gateway, drainedMs], shares, workers } = await cpuShares(async () => {
      const loaded = await run(jobs, concurrency, (i) => client.submit(body(i), { idempotencyKey: `bench-${i}` }));
      return [loaded, loaded.wallMs + (await settle(stack))] as const;
    });
    const cpu = process.cpuUsage(cpuBefore);
    const cpuPerJobMs = (cpu.user + cpu.system) / 1000 / jobs;
    const row = (name: string, r: Run) =>
      `${name.padEnd(34)} | ${String(r.ms.length).padStart(5)} | ${String(r.errors).padStart(6)} | ${perSecond(r).toFixed(0).padStart(8)} | ${percentile(r.ms, 50).toFixed(2).padStart(7)} | ${percentile(r.ms, 99).toFixed(2).padStart(7)}`;
    console.log(`\n${jobs} submissions at concurrency ${concurrency} (and 100 one at a time, back to back), node ${process.version}, the local stack and the load in this process`);
    console.log('path                               |    ok | errors |    per s | p50 ms  | p99 ms');
    console.log('-----------------------------------|-------|--------|----------|---------|--------');
    console.log(row('gateway POST /jobs, back to back', gatewaySerial));
    console.log(row('direct AddJobFlowSteps, back to back', directSerial));
    console.log(row(`gateway POST /jobs, c=${concurrency}`, gateway));
    console.log(row(`direct AddJobFlowSteps, c=${concurrency}`, directLoaded));
    console.log(`every one of the ${jobs} gateway jobs ended ${(drainedMs / 1000).toFixed(1)} s after the first submission: ${((jobs / drainedMs) * 1000).toFixed(0)} jobs/s end to end, ${cpuPerJobMs.toFixed(1)} ms of CPU per job (this process: stack and load generator; ${((cpu.user + cpu.system) / 1000 / drainedMs * 100).toFixed(0)}% of one core)`);
    printShares(`where this process's main thread (the emulators, the API front, the load generator) spent the c=${concurrency} run, until every job ended (sampled; the load generator's client is part of "AWS SDK clients" and "HTTP")`, shares, jobs);
    // Only threads that worked: tsx's module loader runs in worker threads of its own too, idle here.
    for (const worker of workers.filter((w) => w.shares.some((x) => x.component !== '(idle)' && x.share > 0.05))) printShares(`where the functions' worker thread ${worker.title} (the gateway's Lambda handlers and their AWS SDK clients) spent it`, worker.shares, jobs);
    console.log(`peak RSS of the process (stack + load generator): ${(peakRss / 1024 / 1024).toFixed(0)} MB`);
    emr.destroy();
    return { mode, profile, gatewaySerial, directSerial, gateway, directLoaded };
  } finally {
    clearInterval(sampler);
    await stack.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function main(jobs = 1000, concurrency = 50): Promise<void> {
  const figures: ModeFigures[] = [];
  for (const mode of MODES) figures.push(await measure(mode, jobs, concurrency));
  const verdict = (ok: boolean): string => (ok ? 'met' : 'not met');
  console.log(`\ntargets (${load()} at the end), for each DynamoDB mode of the local stack:`);
  for (const { mode, profile, gatewaySerial, directSerial, gateway, directLoaded } of figures) {
    const overhead = median(profile.gatewayMs) - median(profile.directMs);
    const share = perSecond(gateway) / perSecond(directLoaded);
    console.log(`  ${mode.name}:`);
    console.log(`    p50 overhead of POST /jobs over AddJobFlowSteps, unloaded (idle stack) <= ${TARGET_OVERHEAD_MS} ms: ${overhead.toFixed(2)} ms (${median(profile.gatewayMs).toFixed(2)} vs ${median(profile.directMs).toFixed(2)}): ${verdict(overhead <= TARGET_OVERHEAD_MS)}`);
    console.log(`      (back to back, sharing the machine with the previous job's workflow: ${(percentile(gatewaySerial.ms, 50) - percentile(directSerial.ms, 50)).toFixed(2)} ms)`);
    console.log(`    throughput at c=${concurrency} >= ${TARGET_THROUGHPUT_SHARE * 100}% of direct, 0 errors: ${perSecond(gateway).toFixed(0)}/s vs ${perSecond(directLoaded).toFixed(0)}/s = ${(share * 100).toFixed(0)}%, ${gateway.errors} errors: ${verdict(share >= TARGET_THROUGHPUT_SHARE && gateway.errors === 0)}`);
  }
}

if (require.main === module) {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  // The arguments are read here, not as main's defaults: `npm run bench e2e` has the bench's name in argv[2].
  main(Number(process.argv[2] ?? 1000), Number(process.argv[3] ?? 50)).catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
