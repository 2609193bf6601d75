/**
 * End to end through the local stack (`npx tsx bench/e2e.ts [jobs] [concurrency]`): N jobs (`true` steps)
 * submitted through the gateway (SigV4 API front → handler → policy → audit → DynamoDB → StartExecution)
 * at a given concurrency, against the same number of direct AddJobFlowSteps calls to the local EMR in the
 * same run. Prints submissions/s, p50/p99 latency, the gateway/direct ratio, errors and peak memory.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { AddJobFlowStepsCommand, EMRClient } from '@aws-sdk/client-emr';
import { GatewayClient } from '../src/client';
import { startLocalStack } from '../src/local/stack';

const CLUSTER = 'j-2AXXXXXXGAPLF';
const ROLE = 'arn:aws:iam::123456789012:role/CallerTeamRoleETL';

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

const pct = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? NaN;

export async function main(jobs = Number(process.argv[2] ?? 1000), concurrency = Number(process.argv[3] ?? 50)): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'emr-gateway-bench-'));
  // Polling slowed right down: the bench measures submission, not the 2 × N step processes that follow.
  const stack = await startLocalStack({
    configFile: resolve(__dirname, '../config/example.yaml'),
    port: 0,
    awsPort: 0,
    dataDir,
    polling: { initialSeconds: 3600, factor: 1, maxSeconds: 3600 },
    env: { PATH: process.env.PATH },
  });
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
  try {
    const client = new GatewayClient({ endpoint: stack.apiUrl, region: stack.region, credentials: { accessKeyId: 'AKIALOCALALICE000001', secretAccessKey: 'local-alice-secret' } });
    const emr = new EMRClient({ region: stack.region, endpoint: stack.awsUrl, credentials: { accessKeyId: 'AKIABENCH00000000000', secretAccessKey: 'x' }, maxAttempts: 1 });
    const body = (i: number) => ({ clusterId: CLUSTER, executionRoleArn: ROLE, name: `bench ${i}`, step: { type: 'command' as const, args: ['true'] } });
    // Warm both paths (JIT, connections, table pages) before measuring.
    await run(50, 10, (i) => client.submit(body(i)));
    await run(50, 10, () => emr.send(new AddJobFlowStepsCommand({ JobFlowId: CLUSTER, ExecutionRoleArn: ROLE, Steps: [{ Name: 'warm', HadoopJarStep: { Jar: 'command-runner.jar', Args: ['true'] } }] })));

    const direct = (i: number) =>
      emr.send(new AddJobFlowStepsCommand({ JobFlowId: CLUSTER, ExecutionRoleArn: ROLE, Steps: [{ Name: `direct ${i}`, HadoopJarStep: { Jar: 'command-runner.jar', Args: ['true'] } }] }));
    // Unloaded (one at a time): the cost of one submission. Loaded: throughput and queueing at the concurrency.
    const gatewaySerial = await run(100, 1, (i) => client.submit(body(i), { idempotencyKey: `serial-${i}` }));
    const directSerial = await run(100, 1, direct);
    const gateway = await run(jobs, concurrency, (i) => client.submit(body(i), { idempotencyKey: `bench-${i}` }));
    const directLoaded = await run(jobs, concurrency, direct);
    const row = (name: string, r: Run) =>
      `${name.padEnd(29)} | ${String(r.ms.length).padStart(5)} | ${String(r.errors).padStart(6)} | ${((r.ms.length / r.wallMs) * 1000).toFixed(0).padStart(8)} | ${pct(r.ms, 50).toFixed(2).padStart(7)} | ${pct(r.ms, 99).toFixed(2).padStart(7)}`;
    console.log(`${jobs} submissions at concurrency ${concurrency} (and 100 one at a time), node ${process.version}, the local stack and the load in this process`);
    console.log('path                          |    ok | errors |    per s | p50 ms  | p99 ms');
    console.log('------------------------------|-------|--------|----------|---------|--------');
    console.log(row('gateway POST /jobs, serial', gatewaySerial));
    console.log(row('direct AddJobFlowSteps, serial', directSerial));
    console.log(row(`gateway POST /jobs, c=${concurrency}`, gateway));
    console.log(row(`direct AddJobFlowSteps, c=${concurrency}`, directLoaded));
    console.log(`p50 overhead of the gateway per submission: ${(pct(gatewaySerial.ms, 50) - pct(directSerial.ms, 50)).toFixed(2)} ms unloaded, ${(pct(gateway.ms, 50) - pct(directLoaded.ms, 50)).toFixed(2)} ms at c=${concurrency}; ratio gateway/direct p50 ${(pct(gateway.ms, 50) / pct(directLoaded.ms, 50)).toFixed(1)}x loaded`);
    console.log(`peak RSS of the process (stack + load generator): ${(peakRss / 1024 / 1024).toFixed(0)} MB`);
    emr.destroy();
  } finally {
    clearInterval(sampler);
    await stack.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
