/**
 * The soak (issue 11): `npx tsx bench/soak.ts [JOBS] [CONCURRENCY] [KILLS] [FAULTS]` (defaults 1,000, 50, 10 and
 * EMR throttling, EMR latency, DynamoDB errors and throttling). `emr-gateway local` runs as a child process in a
 * process group of its own, as under a terminal, with `--faults`; JOBS valid jobs are submitted at CONCURRENCY
 * through the real API, each with its own Idempotency-Key (the client retries 429/503 and a gateway that does
 * not answer, as the CLI does); meanwhile the whole group is killed with SIGKILL KILLS times at random moments
 * (a seeded draw, so runs compare) and started again on the same data directory and ports. Once the load and the
 * kills are over, every job a client got a 202 for must end; then it counts, against the stack's own answers:
 * - accepted (202), terminal, stuck (not terminal by the deadline), lost (a 202, then 404);
 * - duplicate jobs (one Idempotency-Key, two jobs) and duplicate steps (two EMR steps with one job's marker, or a
 *   job whose step is not the one EMR has), orphan steps (a marker of no job);
 * - broken chains: trails that `audit --verify` would not call verified;
 * - every answer by status, and which of them broke the contract (a 5xx that is not 503, or a 4xx to a valid
 *   request other than 429).
 * The short version runs in `npm test` (test/e2e/soak.test.ts); this one is for the closing notes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { EMRClient, ListStepsCommand, type StepSummary } from '@aws-sdk/client-emr';
import { verifyAuditResponse } from '../src/cli/commands/audit';
import { GatewayApiError, GatewayClient } from '../src/client';
import { isTerminal } from '../src/jobs/model';
import { INTERRUPTED_MESSAGE } from '../src/local/emr/journal';
import { JOB_ID_IN_STEP_NAME } from '../src/jobs/step-name';
import { eachLimited, sleep } from '../src/util/concurrency';
import { procMemory } from './proc-memory';
import { seededRandom } from './random';

const BIN = resolve(__dirname, '../bin/emr-gateway.js');
const CLUSTER = 'j-2AXXXXXXGAPLF';
const ROLE = 'arn:aws:iam::123456789012:role/CallerTeamRoleETL';
const ALICE = { accessKeyId: 'AKIALOCALALICE000001', secretAccessKey: 'local-alice-secret' };
export const DEFAULT_FAULTS = 'emr.throttle=0.2,emr.latencyMs=20,dynamodb.errors=0.02,dynamodb.throttle=0.05';

export interface SoakOptions {
  jobs: number;
  concurrency: number;
  /** SIGKILLs of the stack's process group, each followed by a restart on the same data. */
  kills: number;
  /** The stack's --faults. */
  faults: string;
  /** Milliseconds between a restart and the next kill, drawn uniformly in [min, max]. */
  killGapMs: readonly [number, number];
  /** How long the jobs may take to end once the load and the kills are over. */
  settleMs: number;
  /**
   * Submissions started per second at most (none: as fast as the concurrency allows). A paced load goes on through
   * the kills however fast the stack answers, so that they hit requests in flight.
   */
  perSecond?: number;
  seed: number;
  /** A line of progress (stderr in the bench). */
  progress?: (line: string) => void;
}

export interface SoakReport {
  jobs: number;
  accepted: number;
  terminal: number;
  stuck: number;
  lost: number;
  duplicateJobs: number;
  duplicateSteps: number;
  orphanSteps: number;
  brokenChains: number;
  /** Jobs whose submission a valid request never got a 202 for (refused, or the client gave up). */
  unaccepted: number;
  /** Every answer the clients saw, by HTTP status ("no answer" for a refused or reset connection). */
  answers: Record<string, number>;
  /** Answers that break the contract for a valid request: a 5xx but 503, a 4xx but 429. */
  contractBreaches: number;
  byStatus: Record<string, number>;
  /**
   * Jobs INTERRUPTED for another reason than a kill ending their step's process (EMR's answer for a step whose
   * cluster lost it): a kill that lands while a step runs ends it INTERRUPTED, truthfully; any other is a problem.
   */
  interruptedOtherwise: number;
  kills: number;
  restartMs: number[];
  wallMs: number;
  peakRssMb: number;
  /** The first few problems found, to start from. */
  examples: string[];
}

/** A free loopback port: the stack is started again on the same ones, so clients find it after a kill. */
function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port'))));
    });
  });
}

/** The process's peak RSS so far (VmHWM), in MB; 0 once it has gone. */
function peakRssMb(pid: number): number {
  try {
    return procMemory(pid).hwm || 0;
  } catch {
    return 0;
  }
}

interface Running {
  child: ChildProcess;
  exited: Promise<void>;
  output(): string;
}

/** `emr-gateway local` in a new process group, once it says it is up. */
async function startStack(args: readonly string[]): Promise<Running> {
  for (let attempt = 1; ; attempt++) {
    const child = spawn(process.execPath, [BIN, 'local', ...args], {
      cwd: resolve(__dirname, '..'),
      env: { PATH: process.env.PATH, HOME: process.env.HOME, LANG: 'C.UTF-8' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    // Only the tail: under faults the stack logs every retried write.
    child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-20_000)));
    const exited = new Promise<void>((done) => child.once('exit', () => done()));
    let gone = false;
    void exited.then(() => (gone = true));
    while (!stdout.includes('Stop with Ctrl-C') && !gone) await sleep(50);
    if (!gone) return { child, exited, output: () => `${stdout}\n${stderr}` };
    // A port just released can still be held for a moment by the killed group's sockets.
    if (attempt >= 20) throw new Error(`the local stack did not come up:\n${stderr}`);
    await sleep(250);
  }
}

const bump = (counts: Record<string, number>, key: string): void => {
  counts[key] = (counts[key] ?? 0) + 1;
};

const answerKey = (error: GatewayApiError): string => (error.status === 0 ? 'no answer' : String(error.status));

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const started = Date.now();
  const progress = options.progress ?? (() => undefined);
  const random = seededRandom(options.seed);
  const dataDir = mkdtempSync(join(tmpdir(), 'emr-gateway-soak-'));
  const [apiPort, awsPort] = [await freePort(), await freePort()];
  const args = ['--port', String(apiPort), '--aws-port', String(awsPort), '--data-dir', join(dataDir, 'data'), '--faults', options.faults];
  const report: SoakReport = {
    jobs: options.jobs, accepted: 0, terminal: 0, stuck: 0, lost: 0, duplicateJobs: 0, duplicateSteps: 0, orphanSteps: 0, brokenChains: 0,
    unaccepted: 0, answers: {}, contractBreaches: 0, byStatus: {}, interruptedOtherwise: 0, kills: 0, restartMs: [], wallMs: 0, peakRssMb: 0, examples: [],
  };
  const example = (line: string): void => {
    if (report.examples.length < 10) report.examples.push(line);
  };
  const answered = (key: string): void => {
    bump(report.answers, key);
    const status = Number(key);
    if ((status >= 500 && status !== 503) || (status >= 400 && status < 500 && status !== 429)) report.contractBreaches++;
  };

  let stack = await startStack(args);
  const sampler = setInterval(() => (report.peakRssMb = Math.max(report.peakRssMb, stack.child.pid ? peakRssMb(stack.child.pid) : 0)), 250);
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  // Retries for as long as the soak may take: a kill and a restart are an outage the client rides out.
  const client = new GatewayClient({
    endpoint: apiUrl,
    region: 'us-east-1',
    credentials: ALICE,
    retry: { forMs: options.settleMs, maxDelayMs: 2_000, onRetry: ({ error }) => answered(answerKey(error)) },
  });
  const key = (i: number): string => `soak-${options.seed}-${i}`;
  const jobIds = new Map<number, string>();

  try {
    let loadDone = false;
    const load = (async () => {
      let next = 0;
      const loadStart = Date.now();
      await Promise.all(
        Array.from({ length: options.concurrency }, async () => {
          for (let i = next++; i < options.jobs; i = next++) {
            if (options.perSecond) await sleep(loadStart + (i * 1000) / options.perSecond - Date.now());
            const body = { clusterId: CLUSTER, executionRoleArn: ROLE, name: key(i), step: { type: 'command' as const, args: ['true'] } };
            try {
              const accepted = await client.submit(body, { idempotencyKey: key(i) });
              answered('202');
              jobIds.set(i, accepted.jobId);
            } catch (error) {
              if (!(error instanceof GatewayApiError)) throw error;
              answered(answerKey(error));
              report.unaccepted++;
              example(`job ${i}: submission not accepted: ${error.status} ${error.code}: ${error.message}`);
            }
            if ((i + 1) % Math.max(1, Math.floor(options.jobs / 10)) === 0) progress(`  submitted ${i + 1}/${options.jobs}, ${report.kills} kills so far`);
          }
        }),
      );
      loadDone = true;
    })();

    const kills = (async () => {
      while (report.kills < options.kills) {
        const [min, max] = options.killGapMs;
        await sleep(min + random() * (max - min));
        process.kill(-stack.child.pid!, 'SIGKILL');
        await stack.exited;
        report.kills++;
        const t = Date.now();
        stack = await startStack(args);
        report.restartMs.push(Date.now() - t);
        if (process.env.SOAK_DEBUG && Date.now() - t > 5000) progress(stack.output());
        progress(`  kill -9 ${report.kills}/${options.kills} (${loadDone ? 'after the load' : 'during the load'}), up again in ${Date.now() - t} ms`);
      }
    })();
    await Promise.all([load, kills]);
    report.accepted = jobIds.size;

    // Every accepted job ends, or is stuck at the deadline.
    progress(`  load and kills over; waiting for ${jobIds.size} jobs to end`);
    const deadline = Date.now() + options.settleMs;
    const final = new Map<number, Awaited<ReturnType<GatewayClient['getJob']>> | 'lost'>();
    let pending = [...jobIds.keys()];
    while (pending.length) {
      await eachLimited(pending, 20, async (i) => {
        try {
          const job = await client.getJob(jobIds.get(i)!);
          if (isTerminal(job.status)) final.set(i, job);
        } catch (error) {
          if (error instanceof GatewayApiError && error.status === 404) final.set(i, 'lost');
          else throw error;
        }
      });
      pending = pending.filter((i) => !final.has(i));
      if (!pending.length || Date.now() > deadline) break;
      progress(`  ${pending.length} jobs not ended yet`);
      await sleep(1_000);
    }
    report.stuck = pending.length;
    for (const i of pending) example(`job ${jobIds.get(i)} (${key(i)}) did not end within ${options.settleMs} ms`);
    for (const [i, job] of final) {
      if (job === 'lost') {
        report.lost++;
        example(`job ${jobIds.get(i)} (${key(i)}) was accepted and is not found`);
      } else {
        report.terminal++;
        bump(report.byStatus, job.status);
        if (job.status === 'INTERRUPTED' && job.failureDetails?.message !== INTERRUPTED_MESSAGE) {
          report.interruptedOtherwise++;
          example(`job ${jobIds.get(i)} (${key(i)}) was INTERRUPTED, not by a kill: ${JSON.stringify(job.failureDetails ?? {})}`);
        }
      }
    }

    // One job per Idempotency-Key: the listing holds each name (= key) once.
    const names = new Map<string, string[]>();
    let nextToken: string | undefined;
    do {
      const page = await client.listJobs({ limit: 100, ...(nextToken ? { nextToken } : {}) });
      for (const job of page.jobs) names.set(job.name, [...(names.get(job.name) ?? []), job.jobId]);
      nextToken = page.nextToken;
    } while (nextToken);
    for (const [name, ids] of names) {
      if (ids.length < 2) continue;
      report.duplicateJobs += ids.length - 1;
      example(`${name}: ${ids.length} jobs for one Idempotency-Key (${ids.join(', ')})`);
    }

    // One EMR step per job, the one the job records.
    const emr = new EMRClient({ region: 'us-east-1', endpoint: `http://127.0.0.1:${awsPort}`, credentials: ALICE, maxAttempts: 30 });
    const steps: StepSummary[] = [];
    let marker: string | undefined;
    do {
      const page = await emr.send(new ListStepsCommand({ ClusterId: CLUSTER, ...(marker ? { Marker: marker } : {}) }));
      steps.push(...(page.Steps ?? []));
      marker = page.Marker;
    } while (marker);
    emr.destroy();
    const stepsOf = new Map<string, string[]>();
    for (const step of steps) {
      const jobId = JOB_ID_IN_STEP_NAME.exec(step.Name ?? '')?.[1];
      if (jobId) stepsOf.set(jobId, [...(stepsOf.get(jobId) ?? []), step.Id ?? '?']);
    }
    const known = new Set(jobIds.values());
    for (const [jobId, ids] of stepsOf) {
      if (!known.has(jobId)) {
        report.orphanSteps += ids.length;
        example(`steps ${ids.join(', ')} carry the marker of ${jobId}, which no client was answered`);
      } else if (ids.length > 1) {
        report.duplicateSteps += ids.length - 1;
        example(`job ${jobId}: ${ids.length} EMR steps (${ids.join(', ')})`);
      }
    }
    for (const [, job] of final) {
      if (job === 'lost' || !job.step.id) continue;
      const ids = stepsOf.get(job.jobId) ?? [];
      if (!ids.includes(job.step.id)) {
        report.duplicateSteps++;
        example(`job ${job.jobId} records step ${job.step.id}, EMR has ${ids.join(', ') || 'none'} for it`);
      }
    }

    // Every trail verifies as `audit --verify` checks it.
    await eachLimited([...jobIds.values()], 20, async (jobId) => {
      const verification = verifyAuditResponse(jobId, await client.audit(jobId));
      if (verification.ok) return;
      report.brokenChains++;
      example(`job ${jobId}: audit trail BROKEN at event ${verification.seq}: ${verification.problem}`);
    });
  } finally {
    clearInterval(sampler);
    const { child, exited } = stack;
    if (child.exitCode === null && child.signalCode === null) {
      process.kill(-child.pid!, 'SIGINT');
      const late = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 30_000);
      await exited;
      clearTimeout(late);
    }
    rmSync(dataDir, { recursive: true, force: true });
    report.wallMs = Date.now() - started;
  }
  return report;
}

/** The report as a table for people. */
export function formatSoak(options: SoakOptions, r: SoakReport): string {
  const counts = (c: Record<string, number>): string => Object.entries(c).sort(([a], [b]) => a.localeCompare(b)).map(([k, n]) => `${k} ${n}`).join(', ') || 'none';
  const restart = r.restartMs.length ? `${Math.min(...r.restartMs)}–${Math.max(...r.restartMs)} ms` : 'n/a';
  return [
    `${r.jobs} jobs at concurrency ${options.concurrency}, faults ${options.faults || 'none'}, ${r.kills} kill -9s of the stack's process group (restarts ${restart}), in ${(r.wallMs / 1000).toFixed(0)} s; node ${process.version}`,
    '',
    'count                 | value',
    '----------------------|------',
    ...([
      ['accepted (202)', r.accepted], ['not accepted', r.unaccepted], ['terminal', r.terminal], ['stuck', r.stuck], ['lost', r.lost],
      ['duplicate jobs', r.duplicateJobs], ['duplicate steps', r.duplicateSteps], ['orphan steps', r.orphanSteps], ['broken chains', r.brokenChains],
      ['contract breaches', r.contractBreaches], ['peak stack RSS, MB', Math.round(r.peakRssMb)],
    ] as const).map(([k, v]) => `${k.padEnd(21)} | ${v}`),
    '',
    `answers by status: ${counts(r.answers)}`,
    `jobs by status: ${counts(r.byStatus)}`,
    ...(r.examples.length ? ['', 'first problems:', ...r.examples.map((e) => `  ${e}`)] : []),
  ].join('\n');
}

export async function main(jobs = 1000, concurrency = 50, kills = 10, faults = DEFAULT_FAULTS): Promise<void> {
  const options: SoakOptions = { jobs, concurrency, kills, faults, killGapMs: [2_000, 6_000], settleMs: 600_000, seed: 20261202, progress: (line) => console.error(line) };
  const report = await runSoak(options);
  console.log(formatSoak(options, report));
}

if (require.main === module) {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const [jobs, concurrency, kills, faults] = process.argv.slice(2);
  main(Number(jobs ?? 1000), Number(concurrency ?? 50), Number(kills ?? 10), faults ?? DEFAULT_FAULTS).catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
