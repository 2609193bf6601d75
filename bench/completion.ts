/**
 * How a job's end is followed, design by design, side by side in one run (`npx tsx bench/index.ts completion`,
 * issue 13 item 3): the state transitions and history events a job costs for 1 minute, 1 hour, 12 hours and 7 days
 * (the real interpreter on simulated time, test/support/transitions.ts), the delay from EMR's terminal event to the
 * execution's end (measured on the local stack), and what each design costs in AWS per 1,000 jobs, from the calls
 * each one makes, at the list prices below. Targets are printed, never asserted.
 *
 * Designs:
 * - events: today's definition (statemachines/submit-job.asl.json): the execution waits on a task token that EMR's
 *   step event completes; the reconciler heartbeats each wait every 15 minutes.
 * - backoff poll: the previous definition (test/fixtures/poll-loop.asl.json) with DEFAULT_POLLING (15 s, doubling,
 *   at most 300 s), today's for executions started before the upgrade.
 * - fixed 30 s poll: the same loop polling every 30 s.
 * - addStep.sync (modelled): SubmitStep (a Lambda: the decision check, the audit) → elasticmapreduce:addStep.sync
 *   (Step Functions adds the step and polls DescribeStep itself, every 60 s for 10 minutes, then every 300 s:
 *   Step Functions developer guide, connect-emr.html; its generated IAM policy, emr-iam.html, has no EventBridge
 *   rule) → RecordEnd (a Lambda recording the end) → Done. No intermediate state is recorded on the job or its trail,
 *   the step's id reaches the workflow only at the end, and the end is known up to one poll interval late. Run on the
 *   interpreter as ADD_STEP_SYNC_MODEL (test/support/transitions.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { GatewayClient } from '../src/client';
import { isEmrStepState, isEmrTerminal } from '../src/jobs/model';
import { RECONCILE_CONCURRENCY } from '../src/jobs/reconciler';
import { DEFAULT_POLLING, type PollingPolicy } from '../src/jobs/workflow-input';
import { startLocalStack, type LocalStack } from '../src/local/stack';
import { FUNCTIONS, RECONCILE_EVERY_SECONDS, simulateJob, SYNC_POLLING, type Design, type FunctionName, type FunctionUse, type TransitionCount } from '../test/support/transitions';
import { until } from '../test/support/wait';

/**
 * Public list prices, us-east-1, on-demand, no free tier, as written on 2026-12-02. `checked` says whether the figure
 * was read on AWS's own page or document here; where not, it comes from the third-party page named, and should be
 * checked on AWS's page before anyone relies on it.
 */
interface Price {
  usd: number;
  checked: boolean;
  source: string;
}
export const PRICES = {
  region: 'us-east-1',
  writtenOn: '2026-12-02',
  list: {
    apiGatewayRestPerMillionRequests: {
      usd: 3.5,
      checked: true,
      source: 'REST APIs, first 333 million requests a month: AWS whitepaper "Best Practices for Designing Amazon API Gateway Private APIs", Cost optimization, Table 4 (docs.aws.amazon.com/whitepapers/latest/best-practices-api-gateway-private-apis-integration/cost-optimization.html); aws.amazon.com/api-gateway/pricing renders its rates client-side, not readable here',
    },
    lambdaPerMillionRequests: {
      usd: 0.2,
      checked: false,
      source: 'aws.amazon.com/lambda/pricing renders its rates client-side (not readable here); $0.20 per 1M requests from cloudchipr.com/blog/aws-lambda-pricing and the page\'s own worked examples as quoted by third parties',
    },
    lambdaArmPerGbSecond: {
      usd: 0.0000133334,
      checked: false,
      source: 'Arm (Graviton2), first 7.5 billion GB-s a month: cloudchipr.com/blog/aws-lambda-pricing; the same figure in artillery\'s lib/platform/aws-lambda/prices.js (arm64 base 1333340e-11); not read on aws.amazon.com/lambda/pricing',
    },
    stepFunctionsPerThousandTransitions: {
      usd: 0.025,
      checked: true,
      source: 'Standard workflows, US East (N. Virginia): aws.amazon.com/step-functions/pricing (state transitions pricing table); retries count as transitions',
    },
    dynamoDbPerMillionWru: {
      usd: 0.625,
      checked: false,
      source: 'on-demand write request units, after the 50% cut of 1 November 2024: airbyte.com/data-engineering-resources/dynamodb-pricing, jusdb.com; aws.amazon.com/dynamodb/pricing/on-demand was found but its rates were not in the text read here',
    },
    dynamoDbPerMillionRru: {
      usd: 0.125,
      checked: false,
      source: 'on-demand read request units (1 per 4 KB strongly consistent read, half eventually consistent), same sources as the WRU price',
    },
    eventBridgeAwsServiceEventsPerMillion: {
      usd: 0,
      checked: false,
      source: 'events AWS services put on the default bus (EMR Step Status Change) are free; custom, partner and cross-account events cost $1.00 per million: factualminds.com, wring.co, blog.awsfundamentals.com (EventBridge pricing guides); not read on aws.amazon.com/eventbridge/pricing',
    },
    kmsPer10kRequests: {
      usd: 0.03,
      checked: false,
      source: 'KMS requests (GenerateMac, VerifyMac on the HMAC audit key): wring.co/blog/aws-kms-pricing-guide; aws.amazon.com/kms/pricing was read, its key-usage table values were not in the text. Not in the issue\'s list; counted because every audit event is sealed',
    },
  } satisfies Record<string, Price>,
};

/** serverless.yml: provider.memorySize 512, architecture arm64, for every function. */
const MEMORY_GB = 512 / 1024;
/**
 * ASSUMED latencies in AWS (not measured: the simulation's are dynalite in-process and a mocked EMR), from which each
 * invocation's billed duration is modelled: its own handling, plus each call it makes. Cold starts (whose INIT is
 * billed too) are not modelled.
 */
const AWS_MS = { invocation: 10, dynamoRead: 6, dynamoWrite: 10, emr: 100, sfn: 30, sts: 50, kms: 10 };
/** ASSUMED: the unfinished jobs one reconciler run (one invocation, one Scan) looks at, which share its request. */
const JOBS_PER_RECONCILE_RUN = 100;
const HISTORY_LIMIT = 25_000;
const FIXED_30S: PollingPolicy = { initialSeconds: 30, factor: 1, maxSeconds: 30 };
const LENGTHS: [string, number][] = [
  ['1 min', 60],
  ['1 h', 3600],
  ['12 h', 12 * 3600],
  ['7 d', 7 * 86_400],
];
const DESIGNS: { name: string; design: Design }[] = [
  { name: 'events (today)', design: 'events' },
  { name: `backoff poll ${DEFAULT_POLLING.initialSeconds}s×${DEFAULT_POLLING.factor}≤${DEFAULT_POLLING.maxSeconds}s`, design: DEFAULT_POLLING },
  { name: 'fixed 30 s poll', design: FIXED_30S },
  { name: 'addStep.sync (model)', design: 'addStep.sync' },
];

const CLUSTER = 'j-2AXXXXXXGAPLF';
const ROLE = 'arn:aws:iam::123456789012:role/CallerTeamRoleETL';
const ALICE = { accessKeyId: 'AKIALOCALALICE000001', secretAccessKey: 'local-alice-secret' };

let started = performance.now();
const progress = (what: string): void => console.log(`· ${((performance.now() - started) / 1000).toFixed(1).padStart(5)} s  ${what}`);

/** A table with its columns padded: the first left-aligned, the others right-aligned. */
function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('-|-'), ...rows.map(line)].join('\n');
}
const int = (n: number): string => Math.round(n).toLocaleString('en-US');
const usd = (n: number): string => (n === 0 ? '0' : n < 0.0001 ? n.toExponential(1) : n.toFixed(4));
const ratio = (n: number, base: number): string => (base > 0 ? `${n / base >= 10 ? Math.round(n / base) : (n / base).toFixed(1)}×` : '');

// ---------------------------------------------------------------------------------------------------------------
// What each design costs: the calls counted in the simulation, priced.

interface Cost {
  apiGateway: number;
  lambdaRequests: number;
  lambdaCompute: number;
  stepFunctions: number;
  dynamoWrites: number;
  dynamoReads: number;
  kms: number;
  eventBridge: number;
  total: number;
}

/** The modelled billed milliseconds of a function's invocations for one job (AWS_MS). */
function modelledMs(name: FunctionName, use: FunctionUse): number {
  const c = use.calls;
  const calls =
    c.dynamoReads * AWS_MS.dynamoRead +
    c.dynamoWrites * AWS_MS.dynamoWrite +
    (c.describeStep + c.addJobFlowSteps + c.cancelSteps + c.listSteps) * AWS_MS.emr +
    (c.startExecution + c.sendTaskSuccess + c.sendTaskHeartbeat) * AWS_MS.sfn +
    c.assumeRole * AWS_MS.sts +
    (c.generateMac + c.verifyMac) * AWS_MS.kms;
  // A reconciler run looks at RECONCILE_CONCURRENCY jobs at once, each with a DescribeExecution first: a job's share
  // of the run's duration is its calls over that concurrency.
  if (name === 'reconcile') return (calls + use.invocations * AWS_MS.sfn) / RECONCILE_CONCURRENCY;
  return use.invocations * AWS_MS.invocation + calls;
}

interface Usage {
  lambdaRequests: number;
  gbSeconds: number;
  wru: number;
  rru: number;
  kmsRequests: number;
}

function usageOf(r: TransitionCount): Usage {
  let requests = 0;
  let ms = 0;
  for (const name of FUNCTIONS) {
    const use = r.functions[name];
    requests += name === 'reconcile' ? use.invocations / JOBS_PER_RECONCILE_RUN : use.invocations;
    ms += modelledMs(name, use);
  }
  const sum = (key: keyof FunctionUse['calls']) => FUNCTIONS.reduce((s, f) => s + r.functions[f].calls[key], 0);
  // Each reconciler run's Scan reads the job's item while it is unfinished (eventually consistent: half an RRU per 4 KB);
  // the finished jobs it reads too are the same for every design (they depend on how long jobs are kept), left out.
  const scanShare = r.reconcileLooks * (r.jobItemBytes / 4096) * 0.5;
  return { lambdaRequests: requests, gbSeconds: (ms / 1000) * MEMORY_GB, wru: sum('wru') + sum('gsiWru'), rru: sum('rru') + scanShare, kmsRequests: sum('generateMac') + sum('verifyMac') };
}

/** Dollars per 1,000 jobs. */
function costOf(r: TransitionCount): Cost {
  const u = usageOf(r);
  const p = PRICES.list;
  const perJob = {
    // One POST /jobs per job; status reads (GET /jobs/{id}, a CLI's --wait) are the callers' choice and not counted.
    apiGateway: p.apiGatewayRestPerMillionRequests.usd / 1e6,
    lambdaRequests: (u.lambdaRequests * p.lambdaPerMillionRequests.usd) / 1e6,
    lambdaCompute: u.gbSeconds * p.lambdaArmPerGbSecond.usd,
    stepFunctions: (r.transitions * p.stepFunctionsPerThousandTransitions.usd) / 1000,
    dynamoWrites: (u.wru * p.dynamoDbPerMillionWru.usd) / 1e6,
    dynamoReads: (u.rru * p.dynamoDbPerMillionRru.usd) / 1e6,
    kms: (u.kmsRequests * p.kmsPer10kRequests.usd) / 1e4,
    eventBridge: (r.emrEvents * p.eventBridgeAwsServiceEventsPerMillion.usd) / 1e6,
  };
  const cost = Object.fromEntries(Object.entries(perJob).map(([k, v]) => [k, v * 1000])) as Omit<Cost, 'total'>;
  return { ...cost, total: Object.values(cost).reduce((a, b) => a + b, 0) };
}

/** How late a design knows of a step's end that comes `t` seconds after it was added: the poll interval in force then (worst case). */
function detectionInterval(design: Design, t: number): number {
  if (design === 'events') return 0;
  if (design === 'addStep.sync') return t <= SYNC_POLLING.fastForSeconds ? SYNC_POLLING.fastSeconds : SYNC_POLLING.slowSeconds;
  let at = 0;
  let wait = Math.min(design.initialSeconds, design.maxSeconds);
  while (at + wait < t) {
    at += wait;
    wait = Math.min(design.maxSeconds, Math.ceil(wait * design.factor));
  }
  return wait;
}

// ---------------------------------------------------------------------------------------------------------------
// The local stack: EMR's terminal event → the execution's end, in real time.

interface LocalEnd {
  jobId: string;
  status: string;
  /** The local EMR step's end (its process's exit, as the step helper recorded it) → the execution's stoppedAt. */
  delayMs: number;
  /** The local EMR's terminal "Step Status Change" event, put on the local EventBridge → the execution's stoppedAt. */
  eventDelayMs: number;
  transitions: number;
  createdAt: number;
  stoppedAt: number;
}

/** When the local EMR put each step's terminal event on the bus (ms), by step id. */
const terminalEvents = new Map<string, number>();

async function endOf(stack: LocalStack, jobId: string, timeoutMs: number): Promise<LocalEnd> {
  const execution = await until(() => Promise.resolve(stack.runner.executions.get(jobId)), { timeoutMs, intervalMs: 10, what: `the execution of ${jobId}` });
  await until(() => Promise.resolve(execution.stoppedAt), { timeoutMs, intervalMs: 10, what: `the end of ${jobId}'s execution` });
  const job = (await stack.gateway.jobs.get(jobId))!;
  const step = stack.emr.steps.get(job.stepId!)!;
  const stoppedAt = execution.stoppedAt!.getTime();
  return { jobId, status: job.status, delayMs: stoppedAt - step.ended!, eventDelayMs: stoppedAt - (terminalEvents.get(step.id) ?? NaN), transitions: execution.transitions, createdAt: Date.parse(job.createdAt), stoppedAt: execution.stoppedAt!.getTime() };
}

const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((sorted.length * p) / 100) - 1))] ?? NaN;

async function measureLocally(jobs: number): Promise<{ normal: LocalEnd[]; cancelled: LocalEnd; deadline: LocalEnd & { deadlineDelayMs: number } }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'emr-gateway-bench-completion-'));
  progress('local stack: starting (temp data dir, ports 0, the example config)');
  const stack = await startLocalStack({ configFile: resolve(__dirname, '../config/example.yaml'), port: 0, awsPort: 0, dataDir, env: { PATH: process.env.PATH, HOME: process.env.HOME, LANG: 'C.UTF-8' } });
  const publish = stack.events.publishServiceEvent.bind(stack.events);
  stack.events.publishServiceEvent = (event) => {
    const { stepId, state } = event.detail as { stepId?: string; state?: string };
    if (stepId && isEmrStepState(state) && isEmrTerminal(state)) terminalEvents.set(stepId, Date.now());
    return publish(event);
  };
  try {
    const alice = new GatewayClient({ endpoint: stack.apiUrl, region: stack.region, credentials: ALICE });
    const body = (args: string[], extra: Record<string, unknown> = {}) => ({ clusterId: CLUSTER, executionRoleArn: ROLE, name: 'bench completion', step: { type: 'command' as const, args }, ...extra });
    // The deadline job runs meanwhile: 10 s to its deadline, then the cancel, then the CANCELLED event.
    const deadlineJob = (await alice.submit(body(['sleep', '300'], { timeoutSeconds: 10 }))).jobId;
    progress(`local stack: warm-up (2 jobs), then ${jobs} \`true\` jobs, 4 at a time (the cluster's StepConcurrencyLevel)`);
    for (const i of [0, 1]) await endOf(stack, (await alice.submit(body(['true']), { idempotencyKey: `warm-${i}` })).jobId, 30_000);
    const normal: LocalEnd[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let i = next++; i < jobs; i = next++) normal.push(await endOf(stack, (await alice.submit(body(['true']), { idempotencyKey: `completion-${i}` })).jobId, 30_000));
      }),
    );
    progress('local stack: a job cancelled while RUNNING (DELETE /jobs/{id}, TERMINATE_PROCESS)');
    const cancelJob = (await alice.submit(body(['sleep', '300']))).jobId;
    await until(async () => {
      const job = await stack.gateway.jobs.get(cancelJob);
      return job?.emrState === 'RUNNING' && job.waitToken ? job : undefined;
    }, { timeoutMs: 20_000, intervalMs: 20, what: 'the cancelled job running and waiting' });
    await alice.cancel(cancelJob, 'TERMINATE_PROCESS');
    const cancelled = await endOf(stack, cancelJob, 20_000);
    progress('local stack: the job that reaches its deadline (timeoutSeconds 10, sleep 300)');
    const deadline = await endOf(stack, deadlineJob, 40_000);
    return { normal, cancelled, deadline: { ...deadline, deadlineDelayMs: deadline.stoppedAt - (deadline.createdAt + 10_000) } };
  } finally {
    progress('local stack: stopping');
    await stack.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------------------------

export async function main(options: { local?: boolean; jobs?: number } = {}): Promise<void> {
  const local = options.local ?? true;
  started = performance.now();
  console.log(`completion of a job, design by design: simulated jobs on the real interpreter (simulated time, EMR mocked)${local ? ', then the local stack in real time' : ''}`);
  await simulateJob(60, 'events'); // warm-up: JIT, module loading, dynalite
  const results = new Map<string, TransitionCount[]>();
  for (const { name, design } of DESIGNS) {
    progress(`simulating ${name}: ${LENGTHS.map(([l]) => l).join(', ')}`);
    const runs: TransitionCount[] = [];
    for (const [, seconds] of LENGTHS) runs.push(await simulateJob(seconds, design));
    results.set(name, runs);
  }
  const events = results.get(DESIGNS[0]!.name)!;
  const lengths = LENGTHS.map(([l]) => l);

  console.log('\nState transitions per job (what Step Functions bills; × = against events, same length). Target: ≤ 12 for a job that ends normally');
  console.log(table(['design', ...lengths, 'status'], DESIGNS.map(({ name }) => [name, ...results.get(name)!.map((r, i) => (name !== DESIGNS[0]!.name ? `${int(r.transitions)} (${ratio(r.transitions, events[i]!.transitions)})` : int(r.transitions))), [...new Set(results.get(name)!.map((r) => r.status))].join('/')])));

  console.log(`\nHistory events per job (% of the ${int(HISTORY_LIMIT)} a standard execution may have). Target: a 7-day job under 10%`);
  console.log(
    table(
      ['design', ...lengths],
      DESIGNS.map(({ name }) => [name, ...results.get(name)!.map((r) => `${int(r.historyEvents)} (${((r.historyEvents / HISTORY_LIMIT) * 100).toFixed(r.historyEvents < 250 ? 2 : 0)}%)${r.historyEvents > HISTORY_LIMIT ? ' FAILS' : ''}`)]),
    ),
  );
  for (const { name } of DESIGNS) {
    const [, hour, , week] = results.get(name)!;
    if (!hour || !week || week.historyEvents <= HISTORY_LIMIT) continue;
    const perSecond = (week.historyEvents - hour.historyEvents) / (LENGTHS[3]![1] - LENGTHS[1]![1]);
    const failsAt = LENGTHS[1]![1] + (HISTORY_LIMIT - hour.historyEvents) / perSecond;
    console.log(`  ${name}: past ${int(HISTORY_LIMIT)} events an execution fails (States.Runtime); it gets there after about ${(failsAt / 3600).toFixed(1)} h of a job (the count beyond is the interpreter's, which has no limit)`);
  }

  console.log(`\nWhen the step's end is known: at worst one poll interval after it (the one in force then; on average half), for ${lengths.join(' / ')}; and what the 1-hour job's trail records`);
  console.log(
    table(
      ['design', 'end known, worst case', 'simulated, 1 h', "the 1-hour job's audit trail"],
      DESIGNS.map(({ name, design }) => {
        const hour = results.get(name)![1]!;
        const known = design === 'events' ? "at EMR's event; a lost one at the reconciler's next run (≤ 15 min)" : `${LENGTHS.map(([, s]) => detectionInterval(design, s)).join(' / ')} s`;
        return [name, known, `${hour.endDelaySeconds} s`, hour.trail.join(' → ')];
      }),
    ),
  );
  console.log("  (the simulated delay is one phase of the polls against the step's end: 1-hour steps end on a tick of the fixed and .sync polls)");

  console.log('\nCalls per 1-hour job (DescribeStep: the gateway\'s / Step Functions\' own; WRU: table + indexes; RRU: reads + the reconciler Scan\'s share)');
  console.log(
    table(
      ['design', 'Lambda invocations by function', 'DescribeStep', 'heartbeats', 'SendTaskSuccess', 'WRU', 'RRU', 'KMS', 'EMR events'],
      DESIGNS.map(({ name }) => {
        const r = results.get(name)![1]!;
        const u = usageOf(r);
        const byFunction = FUNCTIONS.filter((f) => r.functions[f].invocations).map((f) => `${f} ${r.functions[f].invocations}`).join(', ');
        const sum = (key: keyof FunctionUse['calls']) => FUNCTIONS.reduce((s, f) => s + r.functions[f].calls[key], 0);
        const wru = `${int(sum('wru'))} + ${int(sum('gsiWru'))}`;
        return [name, byFunction, `${int(r.polls)} / ${int(r.syncPolls)}`, int(sum('sendTaskHeartbeat')), int(sum('sendTaskSuccess')), wru, u.rru.toFixed(1), int(u.kmsRequests), String(r.emrEvents)];
      }),
    ),
  );
  const hourly = results.get(DESIGNS[0]!.name)![1]!;
  console.log(
    `  Lambda duration here (local, dynalite in-process, EMR mocked), mean ms per invocation, events design: ${FUNCTIONS.filter((f) => hourly.functions[f].invocations)
      .map((f) => `${f} ${(hourly.functions[f].wallMs / hourly.functions[f].invocations).toFixed(1)}`)
      .join(', ')}; the costs use the modelled AWS durations instead: ${FUNCTIONS.filter((f) => hourly.functions[f].invocations)
      .map((f) => `${f} ${(modelledMs(f, hourly.functions[f]) / hourly.functions[f].invocations).toFixed(0)}`)
      .join(', ')} ms`,
  );
  const unattributed = [...results.values()].flat().reduce((s, r) => s + r.unattributed.dynamoReads + r.unattributed.dynamoWrites + r.unattributed.describeStep, 0);
  if (unattributed) console.log(`  (${unattributed} calls were made outside any function and are not priced)`);

  console.log(`\nAWS cost per 1,000 jobs, USD (${PRICES.region}, list prices of ${PRICES.writtenOn}, no free tier; × = against events)`);
  const costs = new Map(DESIGNS.map(({ name }) => [name, results.get(name)!.map(costOf)]));
  const eventCosts = costs.get(DESIGNS[0]!.name)!;
  const failed = (name: string, i: number) => (results.get(name)![i]!.historyEvents > HISTORY_LIMIT ? ' *' : '');
  console.log(table(['design', ...lengths], DESIGNS.map(({ name }) => [name, ...costs.get(name)!.map((c, i) => (name === DESIGNS[0]!.name ? usd(c.total) : `${usd(c.total)} (${ratio(c.total, eventCosts[i]!.total)})${failed(name, i)}`))])));
  if (DESIGNS.some(({ name }) => results.get(name)!.some((_, i) => failed(name, i)))) console.log('  * the execution would fail at the history limit long before: what the calls would cost, not a job that could run');
  console.log('\nBreakdown for the 1-hour job, USD per 1,000 jobs');
  const parts: [keyof Cost, string][] = [
    ['apiGateway', 'API GW'],
    ['lambdaRequests', 'Lambda req'],
    ['lambdaCompute', 'Lambda GB-s'],
    ['stepFunctions', 'transitions'],
    ['dynamoWrites', 'DDB write'],
    ['dynamoReads', 'DDB read'],
    ['kms', 'KMS'],
    ['eventBridge', 'EventBridge'],
    ['total', 'total'],
  ];
  console.log(table(['design', ...parts.map(([, l]) => l)], DESIGNS.map(({ name }) => [name, ...parts.map(([k]) => usd(costs.get(name)![1]![k]))])));
  console.log(
    [
      'Model and assumptions:',
      `- API Gateway: 1 REST request per job (POST /jobs); status reads are the callers' and not counted. EventBridge: ${hourly.emrEvents} EMR events per job, AWS service events on the default bus, free (custom or cross-account events would be $1.00 per million).`,
      `- Lambda: ${MEMORY_GB * 1024} MB arm64 (serverless.yml). Billed duration modelled per invocation from its calls, ASSUMED AWS latencies: ${Object.entries(AWS_MS).map(([k, v]) => `${k} ${v} ms`).join(', ')}; no cold starts.`,
      `- The reconciler (every ${RECONCILE_EVERY_SECONDS / 60} min) per look at an unfinished job: its job read (and for the events design DescribeStep and SendTaskHeartbeat), a DescribeExecution, ${RECONCILE_CONCURRENCY} jobs at once (a job's share of the run's duration), one request shared by ${JOBS_PER_RECONCILE_RUN} jobs (ASSUMED), and the job's item in the run's Scan (eventually consistent). The Scan's reads of finished jobs are the same for every design and left out.`,
      '- DynamoDB on-demand: table units as dynalite reports them (ReturnConsumedCapacity), plus the jobs table\'s 4 global secondary indexes counted from each write\'s before and after (dynalite does not report them).',
      '- KMS: one GenerateMac per audit event, one VerifyMac per decision check (not in the issue\'s list; real). The free tiers are ignored. EMR\'s API calls (DescribeStep, the .sync polls) cost nothing but count against EMR\'s API rate quota.',
      '- Not counted: CloudWatch Logs (each invocation\'s START/END/REPORT lines and the handlers\' log lines, billed per GB ingested: they grow with the invocations, so the poll designs are understated; the state machine logs at ERROR only), the Scan\'s reads of finished jobs, cold starts, data transfer.',
      ...Object.entries(PRICES.list as Record<string, Price>).map(([k, v]) => `- ${k} $${v.usd}: ${v.checked ? 'read on AWS\'s own document' : 'NOT verified on an AWS page here'}; ${v.source}`),
    ].join('\n'),
  );

  if (!local) return;
  console.log('');
  const jobs = options.jobs ?? 20;
  const { normal, cancelled, deadline } = await measureLocally(jobs);
  const delays = normal.map((e) => e.delayMs).sort((a, b) => a - b);
  const eventDelays = normal.map((e) => e.eventDelayMs).sort((a, b) => a - b);
  const spread = (sorted: number[]) => [50, 95, 100].map((p) => percentile(sorted, p).toFixed(0)).join(' / ');
  console.log(`\nLocal stack (events design, real time): the step's end on EMR → the execution's end (stoppedAt), ms. Target: within 5 s`);
  console.log(
    table(
      ['job', 'n', "from the step's end: p50 / p95 / max", 'from its terminal event: p50 / p95 / max', 'transitions', 'status'],
      [
        ['`true`, ends normally', String(delays.length), spread(delays), spread(eventDelays), [...new Set(normal.map((e) => e.transitions))].join('/'), [...new Set(normal.map((e) => e.status))].join('/')],
        ['cancelled while RUNNING', '1', cancelled.delayMs.toFixed(0), cancelled.eventDelayMs.toFixed(0), String(cancelled.transitions), cancelled.status],
        ['reaches its deadline (10 s)', '1', deadline.delayMs.toFixed(0), deadline.eventDelayMs.toFixed(0), String(deadline.transitions), deadline.status],
      ],
    ),
  );
  console.log("  (a step's end is its process's exit as the local EMR's step helper recorded it; the local EMR notices it, then puts the event on the bus, which delivers it to the handler: DescribeStep, the audit event, the job, SendTaskSuccess, then Finished? and Done)");
  console.log(`  the deadline job's execution ended ${(deadline.deadlineDelayMs / 1000).toFixed(1)} s after its deadline (the wait times out at it, PollStep cancels the step, the CANCELLED event ends the wait)`);

  // The issue's targets, for today's design: printed, never asserted.
  const week = events[events.length - 1]!;
  const mostNormal = Math.max(...events.map((r) => r.transitions), ...normal.map((e) => e.transitions));
  const allStates = events.every((r) => ['STATE_CHANGED:PENDING', 'STATE_CHANGED:RUNNING'].every((t) => r.trail.includes(t)));
  const mostEnded = Math.max(cancelled.transitions, deadline.transitions);
  const slowest = Math.max(...delays, cancelled.delayMs, deadline.delayMs);
  const met = (ok: boolean) => (ok ? 'met' : 'NOT MET');
  console.log('\nTargets (events design):');
  console.log(`- ≤ 12 transitions for a job that ends normally, every EMR state recorded: ${mostNormal} at most (simulated and local), PENDING and RUNNING on every trail: ${met(mostNormal <= 12 && allStates)}`);
  console.log(`- ≤ 16 for a job cancelled or timed out: ${cancelled.transitions} cancelled, ${deadline.transitions} timed out: ${met(mostEnded <= 16)}`);
  console.log(`- the execution ends within 5 s of EMR's terminal event (locally): ${slowest.toFixed(0)} ms at most: ${met(slowest <= 5000)}`);
  console.log(`- a 7-day job under 10% of the history limit: ${week.historyEvents} events, ${((week.historyEvents / HISTORY_LIMIT) * 100).toFixed(2)}%: ${met(week.historyEvents < HISTORY_LIMIT / 10)}`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
