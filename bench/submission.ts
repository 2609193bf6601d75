/**
 * Where one submission's time goes (`npx tsx bench/submission.ts [jobs]`): POST /jobs through the local stack, one
 * at a time on an idle stack (each job's workflow runs to its end before the next submission), against direct
 * AddJobFlowSteps calls in the same run, measured the same way. Prints the table of shares of one submission:
 * each AWS call the gateway makes before it answers 202 (timed by a middleware on the gateway's own SDK clients,
 * so including the SDK's work), the SigV4 check, body parse and validation and the decision (each timed alone),
 * and the rest (HTTP both ways, the API front, the handler's chain, the client's signing). Also the count of
 * sequential round trips before the 202, and whether the workflow's first task ran before it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { AddJobFlowStepsCommand, DescribeStepCommand, EMRClient } from '@aws-sdk/client-emr';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { GatewayClient } from '../src/client';
import { parseJobRequest } from '../src/jobs/request';
import { submissionRequest } from '../src/authz/submission';
import { clusterArn } from '../src/identifiers';
import { verifySigV4 } from '../src/local/api-gateway/sigv4';
import { parseRequestTarget } from '../src/local/api-gateway/request-target';
import type { ExchangeListener } from '../src/local/exchange-tap';
import { startLocalStack, type LocalStack } from '../src/local/stack';
import { median } from './stats';

const CLUSTER = 'j-2AXXXXXXGAPLF';
const ROLE = 'arn:aws:iam::123456789012:role/CallerTeamRoleETL';
const ALICE = { accessKeyId: 'AKIALOCALALICE000001', secretAccessKey: 'local-alice-secret' };

const WARM_UP = 50;

interface Call {
  operation: string;
  start: number;
  end: number;
}

/** Every exchange of the AWS port, by operation, with its times (the stack's `onAwsExchange`). */
export function exchangeRecorder(): { calls: Call[]; listener: ExchangeListener } {
  const calls: Call[] = [];
  return {
    calls,
    listener: (x) => {
      const target = String(x.requestHeaders['x-amz-target'] ?? '');
      const [service, operation] = target ? target.split('.') : ['', `${x.method} ${x.url.split('?')[0]}`];
      const name = { DynamoDB_20120810: 'dynamodb', TrentService: 'kms', AWSStepFunctions: 'sfn', ElasticMapReduce: 'emr' }[service ?? ''] ?? service;
      calls.push({ operation: `${name ? `${name} ` : ''}${operation}`, start: x.startedAt, end: x.finishedAt });
    },
  };
}

/** Mean µs of `fn` over a warm loop. */
function micro(fn: () => unknown, n = 2000): number {
  for (let i = 0; i < 200; i++) fn();
  const t = performance.now();
  for (let i = 0; i < n; i++) fn();
  return ((performance.now() - t) / n) * 1000;
}

async function until(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 5000 && !(await check()); i++) await new Promise((r) => setTimeout(r, 2));
}

export interface SubmissionProfile {
  gatewayMs: number[];
  directMs: number[];
  rows: { part: string; ms: number }[];
  roundTrips: string[];
  firstTaskBefore202: number;
  /** A job's AWS calls over its whole life (submission, workflow, events, end), median per job, by operation. */
  callsPerJob: { operation: string; calls: number }[];
}

export async function profileSubmission(stack: LocalStack, calls: Call[], jobs: number): Promise<SubmissionProfile> {
  const client = new GatewayClient({ endpoint: stack.apiUrl, region: stack.region, credentials: ALICE });
  const emr = new EMRClient({ region: stack.region, endpoint: stack.awsUrl, credentials: { accessKeyId: 'AKIABENCH00000000000', secretAccessKey: 'x' }, maxAttempts: 1 });
  const body = (i: number) => ({ clusterId: CLUSTER, executionRoleArn: ROLE, name: `profile ${i}`, step: { type: 'command' as const, args: ['true'] } });
  // Quiet: the job's execution has ended (after the job's end: its wait was completed), so nothing of it runs into the
  // next submission. Asked of the runner, not of the jobs table: the bench's own reads would count as the job's calls.
  const quiet = async (jobId: string) => until(async () => Promise.resolve((stack.runner.executions.get(jobId)?.status ?? 'RUNNING') !== 'RUNNING'));

  const gatewayMs: number[] = [];
  const byPart = new Map<string, number[]>();
  const sequences = new Map<string, number>();
  /** Each job's AWS calls by operation, from its submission to its end (and its workflow's). */
  const lives: Map<string, number>[] = [];
  let firstTaskBefore202 = 0;
  // Warmed first (the JIT of both threads, connections): 50 submissions not counted.
  for (let i = -WARM_UP; i < jobs; i++) {
    calls.length = 0;
    const t = performance.now();
    const { jobId } = await client.submit(body(i));
    const ms = performance.now() - t;
    // The submission's calls: those that started before StartExecution answered (the workflow's own begin after it).
    const started = calls.find((c) => c.operation === 'sfn StartExecution' && c.start >= t);
    const mine = calls.filter((c) => c.start >= t && c.start <= (started?.end ?? Infinity) && c.end <= t + ms);
    if (calls.some((c) => c.start >= t && c.end <= t + ms && c.operation === 'emr AddJobFlowSteps')) firstTaskBefore202++;
    await quiet(jobId);
    if (i < 0) continue; // warm-up
    // A call the job's end makes after it is quiet (the wait token's removal) falls into the next job's window: each
    // window holds one job's life all the same. The periodic sweeps' calls are rare: the median leaves them out.
    const life = new Map<string, number>();
    for (const c of calls) if (c.start >= t) life.set(c.operation, (life.get(c.operation) ?? 0) + 1);
    lives.push(life);
    gatewayMs.push(ms);
    const sequence = mine.map((c) => c.operation).join(' → ');
    sequences.set(sequence, (sequences.get(sequence) ?? 0) + 1);
    const perOp = new Map<string, number>();
    for (const c of mine) perOp.set(c.operation, (perOp.get(c.operation) ?? 0) + (c.end - c.start));
    for (const [op, d] of perOp) byPart.set(op, [...(byPart.get(op) ?? []), d]);
    byPart.set('(AWS calls)', [...(byPart.get('(AWS calls)') ?? []), [...perOp.values()].reduce((a, b) => a + b, 0)]);
  }

  // The fixed cost of any call of the API: the client's signing and fetch, HTTP both ways, the API front, the handler's chain.
  const healthMs: number[] = [];
  for (let i = -10; i < jobs; i++) {
    const t = performance.now();
    await client.health();
    if (i >= 0) healthMs.push(performance.now() - t);
  }

  const directMs: number[] = [];
  for (let i = -10; i < jobs; i++) {
    const t = performance.now();
    const out = await emr.send(new AddJobFlowStepsCommand({ JobFlowId: CLUSTER, ExecutionRoleArn: ROLE, Steps: [{ Name: `direct ${i}`, HadoopJarStep: { Jar: 'command-runner.jar', Args: ['true'] } }] }));
    const ms = performance.now() - t;
    const stepId = out.StepIds![0]!;
    await until(async () => ['COMPLETED', 'FAILED', 'CANCELLED'].includes((await emr.send(new DescribeStepCommand({ ClusterId: CLUSTER, StepId: stepId }))).Step?.Status?.State ?? ''));
    if (i >= 0) directMs.push(ms);
  }
  emr.destroy();

  // The in-process parts, each timed alone over a warm loop.
  const signer = new SignatureV4({ service: 'execute-api', region: stack.region, credentials: ALICE, sha256: Sha256 });
  const url = new URL(stack.apiUrl);
  const payload = JSON.stringify(body(0));
  const signed = await signer.sign(new HttpRequest({ method: 'POST', protocol: 'http:', hostname: url.hostname, port: Number(url.port), path: '/jobs', headers: { host: url.host, 'content-type': 'application/json' }, body: payload }));
  const target = parseRequestTarget('/jobs');
  if (!target.ok) throw new Error(target.reason);
  const sigv4Us = micro(() => verifySigV4({ method: 'POST', target: target.target, headers: signed.headers, body: Buffer.from(payload) }, { region: stack.region, service: 'execute-api', secretFor: () => ALICE.secretAccessKey }));
  const parseUs = micro(() => parseJobRequest(JSON.parse(payload)));
  const { config, engine } = stack.gateway.loaded;
  const decisionUs = micro(() => engine.evaluate(submissionRequest({ callerArn: 'arn:aws:iam::123456789012:user/alice', now: new Date() }, clusterArn(config.partition, config.region, config.account, CLUSTER), { executionRoleArn: ROLE, stepType: 'command', actionOnFailure: 'CONTINUE' })));

  const total = median(gatewayMs);
  const rows: { part: string; ms: number }[] = [];
  const aws = median(byPart.get('(AWS calls)') ?? []);
  for (const [part, values] of byPart) if (part !== '(AWS calls)') rows.push({ part: `${part} (in the emulator)`, ms: median(values) });
  rows.sort((a, b) => b.ms - a.ms);
  rows.push({ part: 'SigV4 check (API front)', ms: sigv4Us / 1000 }, { part: 'body parse and validation', ms: parseUs / 1000 }, { part: 'decision (policy engine)', ms: decisionUs / 1000 });
  const inProcess = (sigv4Us + parseUs + decisionUs) / 1000;
  const fixed = median(healthMs);
  rows.push({ part: 'any API call: client signing and fetch, HTTP, API front, middy (a GET /healthz)', ms: fixed });
  rows.push({ part: 'the rest: the SDK clients and HTTP of those calls, the handler\'s own work', ms: Math.max(0, total - aws - inProcess - fixed) });
  const roundTrips = [...sequences.entries()].sort((a, b) => b[1] - a[1]).map(([s, n]) => `${s} (${n} of ${jobs})`);
  const operations = new Set(lives.flatMap((life) => [...life.keys()]));
  const callsPerJob = [...operations].map((operation) => ({ operation, calls: median(lives.map((life) => life.get(operation) ?? 0)) })).filter((o) => o.calls > 0).sort((a, b) => b.calls - a.calls || a.operation.localeCompare(b.operation));
  return { gatewayMs, directMs, rows, roundTrips, firstTaskBefore202, callsPerJob };
}

export function printProfile(profile: SubmissionProfile, jobs: number): void {
  const total = median(profile.gatewayMs);
  console.log(`one POST /jobs at a time on an idle stack (each job's workflow ended before the next), ${jobs} jobs, medians`);
  console.log('part of one submission                                                     |     ms | share');
  console.log('---------------------------------------------------------------------------|--------|------');
  for (const { part, ms } of profile.rows) console.log(`${part.padEnd(75)}| ${ms.toFixed(3).padStart(6)} | ${((ms / total) * 100).toFixed(0).padStart(4)}%`);
  console.log(`${'total, as the caller sees it'.padEnd(75)}| ${total.toFixed(3).padStart(6)} |  100%`);
  console.log(`direct AddJobFlowSteps, same way: ${median(profile.directMs).toFixed(3)} ms; gateway overhead p50 ${(total - median(profile.directMs)).toFixed(2)} ms`);
  console.log(`sequential round trips before the 202: ${profile.roundTrips.join('; ')}`);
  console.log(`the workflow's first task (AddJobFlowSteps) ran before the 202 in ${profile.firstTaskBefore202} of ${jobs + WARM_UP} submissions`);
  const calls = profile.callsPerJob.reduce((sum, o) => sum + o.calls, 0);
  console.log(`AWS calls over one job's whole life (submission to end, median per job): ${calls} = ${profile.callsPerJob.map((o) => `${o.operation} ${o.calls}`).join(', ')}`);
}

/** The local stack's two DynamoDB modes: LevelDB in the data directory (`npm start`), or in memory (`--in-memory`, tests). */
export const MODES = [
  { name: 'persisted', inMemory: false },
  { name: 'in memory', inMemory: true },
] as const;
export type Mode = (typeof MODES)[number];

/** The profile on a stack of its own (its AWS port times every call), stopped and removed after. */
export async function profileOnItsOwnStack(jobs: number, mode: Mode = MODES[0]): Promise<SubmissionProfile> {
  const dataDir = mkdtempSync(join(tmpdir(), 'emr-gateway-bench-'));
  const recorder = exchangeRecorder();
  const stack = await startLocalStack({
    configFile: resolve(__dirname, '../config/example.yaml'),
    port: 0,
    awsPort: 0,
    dataDir,
    inMemory: mode.inMemory,
    env: { PATH: process.env.PATH },
    onAwsExchange: recorder.listener,
  });
  try {
    await stack.startup;
    return await profileSubmission(stack, recorder.calls, jobs);
  } finally {
    await stack.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function main(jobs = 100): Promise<void> {
  const overheads: string[] = [];
  for (const mode of MODES) {
    console.log(`\n${mode.name}:`);
    const profile = await profileOnItsOwnStack(jobs, mode);
    printProfile(profile, jobs);
    overheads.push(`${mode.name} ${(median(profile.gatewayMs) - median(profile.directMs)).toFixed(2)} ms`);
  }
  console.log(`\ngateway overhead p50, side by side: ${overheads.join(' vs ')}`);
}

if (require.main === module) {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  main(Number(process.argv[2] ?? 100)).catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
