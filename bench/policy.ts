/**
 * Policy engine benchmark: `npx tsx bench/policy.ts` (tests never run this).
 *
 * For configurations of 10, 1,000 and 100,000 statements (10 statements per principal policy, one exact
 * role-ARN rule per principal, plus a few wildcard rules in front of and behind them), it measures:
 *  - compile time (new PolicyEngine: validation, compilation, rule index);
 *  - engine throughput (decisions/s over a tight loop) and latency per decision (p50/p99 in µs, from
 *    process.hrtime.bigint around each call) over ≥ 20,000 requests from random principals;
 *  - the same requests through the oracle, @cloud-copilot/iam-simulate (AGPL: a devDependency, imported
 *    only from test/ and bench/), with fewer iterations since it is slower, given only the principal's own
 *    policy, as the engine sees it, and the same derived context keys.
 * First, on its own (before the other sizes leave anything behind), the heap the compiled engine holds at
 * 100,000 statements over 10,000 principals, in bytes per compiled statement: V8's used heap
 * (v8.getHeapStatistics) after a full garbage collection, with the policy documents built, then with the engine
 * loaded, then once every principal has asked each of the four actions (the engine's per-action statement lists
 * filled, as in a gateway that has been running a while); median of MEMORY_RUNS runs.
 * Targets (issue 14): ≤ 2 KB per compiled statement at 100,000 statements; ≥ 10x the oracle's throughput; p99 < 50 µs
 * at 1,000 statements. Each is printed with "met"/"not met" and the figures it compares, with the machine's load
 * (os.loadavg) before and after: latency figures from a loaded machine are not those of an idle one.
 * `gc` is global.gc under `node --expose-gc`, else enabled by the bench itself through node:v8 flags.
 *
 * Note on memory under tsx: tsx compiles with esbuild's keepNames, which wraps every named closure in __name() and so
 * gives each its own property store (~256 B). A compiled representation made of closures per statement costs ~40%
 * more under tsx than in the esbuild bundles the gateway runs from; the engine's is data with prototype methods, so
 * the figure here is the bundles' too.
 */
import { cpus, loadavg } from 'node:os';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { runUnsafeSimulation } from '@cloud-copilot/iam-simulate';
import { PolicyEngine, type AuthzRequest, type PrincipalRule } from '../src/authz/engine';
import { seededRandom } from './random';

const ACCOUNT = '123456789012';
const STATEMENTS_PER_POLICY = 10;
const SIZES = [10, 1_000, 100_000];
const ENGINE_ITERATIONS = 50_000;
const ENGINE_WARMUP = 5_000;
const ORACLE_ITERATIONS = 2_000;
const ORACLE_WARMUP = 200;
const MEMORY_STATEMENTS = 100_000;
const MEMORY_RUNS = 3;
/** Issue 14's targets. */
const TARGET_BYTES_PER_STATEMENT = 2 * 1024;
const TARGET_ORACLE_RATIO = 10;
const TARGET_P99_US_AT_1K = 50;
const NOW = new Date('2025-06-15T12:34:56Z');

const ACTIONS = ['elasticmapreduce:AddJobFlowSteps', 'elasticmapreduce:DescribeStep', 'elasticmapreduce:ListSteps', 'elasticmapreduce:CancelSteps'];
const STEP_TYPES = ['spark', 'hive', 'command', 'jar'];
const FAILURE_ACTIONS = ['CONTINUE', 'CANCEL_AND_WAIT', 'TERMINATE_CLUSTER'];
const CLUSTERS = ['j-2AXXXXXXGAPLF', 'j-PROD0001', 'j-3BYYYYYYHBQMG', 'j-DEV42'];
const REGIONS = ['us-east-1', 'eu-west-1'];

const pick = <T>(rand: () => number, list: readonly T[]): T => list[Math.floor(rand() * list.length)]!;

const roleArn = (name: string): string => `arn:aws:iam::${ACCOUNT}:role/${name}`;
const principalName = (i: number): string => `DataTeam${i}`;
const clusterArn = (region: string, id: string): string => `arn:aws:elasticmapreduce:${region}:${ACCOUNT}:cluster/${id}`;

/** A principal's policy: 10 realistic statements (Allow with StringLike on the runtime role and StringEquals on the step type, Denies, tags, IPs, dates). */
function principalPolicy(i: number): Record<string, unknown> {
  const team = `team${i}`;
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'SubmitSparkHive',
        Effect: 'Allow',
        Action: 'elasticmapreduce:AddJobFlowSteps',
        Resource: `arn:aws:elasticmapreduce:*:${ACCOUNT}:cluster/*`,
        Condition: {
          StringLike: { 'elasticmapreduce:ExecutionRoleArn': roleArn(`CallerTeamRole${i}*`) },
          StringEquals: { 'emr-gateway:StepType': ['spark', 'hive'] },
        },
      },
      {
        Sid: 'SubmitCommands',
        Effect: 'Allow',
        Action: 'elasticmapreduce:AddJobFlowSteps',
        Resource: `arn:aws:elasticmapreduce:us-east-1:${ACCOUNT}:cluster/j-*`,
        Condition: {
          StringLike: { 'elasticmapreduce:ExecutionRoleArn': [roleArn(`Team${i}-ETL-*`), roleArn('Caller')] },
          StringEquals: { 'emr-gateway:StepType': 'command', 'emr-gateway:ActionOnFailure': 'CONTINUE' },
        },
      },
      { Sid: 'Read', Effect: 'Allow', Action: ['elasticmapreduce:DescribeStep', 'elasticmapreduce:ListSteps'], Resource: `arn:aws:elasticmapreduce:*:${ACCOUNT}:cluster/*` },
      {
        Sid: 'CancelOwnTeam',
        Effect: 'Allow',
        Action: 'elasticmapreduce:CancelSteps',
        Resource: `arn:aws:elasticmapreduce:*:${ACCOUNT}:cluster/j-*`,
        Condition: { StringEquals: { 'aws:PrincipalTag/team': team } },
      },
      {
        Sid: 'TaggedSubmit',
        Effect: 'Allow',
        Action: 'elasticmapreduce:AddJobFlow?teps',
        Resource: `arn:aws:elasticmapreduce:*:${ACCOUNT}:cluster/j-*`,
        Condition: {
          'ForAnyValue:StringLike': { 'emr-gateway:Tags': [`project=${team}-*`, 'project=${aws:PrincipalTag/team}-shared'] },
          ArnLike: { 'elasticmapreduce:ExecutionRoleArn': roleArn('CallerTeamRole*') },
        },
      },
      {
        Sid: 'DenyAdminRoles',
        Effect: 'Deny',
        Action: 'elasticmapreduce:AddJobFlowSteps',
        Resource: '*',
        Condition: { StringLike: { 'elasticmapreduce:ExecutionRoleArn': ['*Admin*', '*admin*'] } },
      },
      {
        Sid: 'DenyProdOutsideProdTeam',
        Effect: 'Deny',
        Action: ['elasticmapreduce:AddJobFlowSteps', 'elasticmapreduce:CancelSteps'],
        Resource: `arn:aws:elasticmapreduce:*:${ACCOUNT}:cluster/j-PROD*`,
        Condition: { StringNotEquals: { 'aws:PrincipalTag/env': 'prod' } },
      },
      {
        Sid: 'DenyJarUnlessRunner',
        Effect: 'Deny',
        Action: 'elasticmapreduce:AddJobFlowSteps',
        Resource: '*',
        Condition: { StringEquals: { 'emr-gateway:StepType': 'jar' }, ArnNotLike: { 'elasticmapreduce:ExecutionRoleArn': roleArn('JarRunner*') } },
      },
      {
        Sid: 'DenyOutsideNetwork',
        Effect: 'Deny',
        NotAction: ['elasticmapreduce:DescribeStep', 'elasticmapreduce:ListSteps'],
        Resource: '*',
        Condition: { NotIpAddressIfExists: { 'aws:SourceIp': ['10.0.0.0/8', '192.168.0.0/16'] } },
      },
      {
        Sid: 'DenyAfterExpiry',
        Effect: 'Deny',
        Action: 'elasticmapreduce:*',
        Resource: '*',
        Condition: { DateGreaterThan: { 'aws:CurrentTime': '2030-01-01T00:00:00Z' }, StringEquals: { 'aws:SourceIdentity': 'expired-bot' } },
      },
    ],
  };
}

interface Config {
  rules: PrincipalRule[];
  documents: Record<string, Record<string, unknown>>;
  principals: number;
}

/** `statements` statements: statements/10 principals, each an exact role-ARN rule with its own policy, plus wildcard rules. */
function buildConfig(statements: number): Config {
  const principals = Math.max(1, Math.floor(statements / STATEMENTS_PER_POLICY));
  const documents: Record<string, Record<string, unknown>> = {};
  const exact: PrincipalRule[] = [];
  for (let i = 0; i < principals; i++) {
    documents[`team-${i}`] = principalPolicy(i);
    exact.push({ match: roleArn(principalName(i)), policies: [`team-${i}`], tags: { team: `team${i}`, env: i % 10 === 0 ? 'prod' : 'dev' } });
  }
  // Wildcard rules (first match wins, in file order): one in front of the exact rules, a few behind them.
  // They reuse principal 0's policy, so the statement count stays exact.
  const rules: PrincipalRule[] = [
    { match: `arn:aws:iam::${ACCOUNT}:role/BreakGlass*`, policies: ['team-0'], tags: { team: 'ops' } },
    ...exact,
    { match: `arn:aws:iam::${ACCOUNT}:role/Contractor-*`, policies: ['team-0'], tags: { team: 'contractors' } },
    { match: `arn:aws:iam::${ACCOUNT}:role/svc-*-scheduler`, policies: ['team-0'] },
    { match: `arn:aws:iam::*:role/CrossAccount?`, policies: ['team-0'] },
  ];
  return { rules, documents, principals };
}

interface BenchRequest {
  principal: number;
  request: AuthzRequest;
}

/** Random requests from random principals: a mix that allows, denies explicitly and denies implicitly. */
function buildRequests(principals: number, count: number, seed: number): BenchRequest[] {
  const rand = seededRandom(seed);
  const out: BenchRequest[] = [];
  for (let n = 0; n < count; n++) {
    const i = Math.floor(rand() * principals);
    const roles = [roleArn(`CallerTeamRole${i}`), roleArn(`CallerTeamRole${i}-etl`), roleArn(`Team${i}-ETL-nightly`), roleArn('Caller'), roleArn('DataAdmin'), roleArn('JarRunnerA'), roleArn(`CallerTeamRole${(i + 1) % principals}x`)];
    const context: Record<string, string | string[]> = {
      'elasticmapreduce:ExecutionRoleArn': pick(rand, roles),
      'emr-gateway:StepType': pick(rand, STEP_TYPES),
      'emr-gateway:ActionOnFailure': pick(rand, FAILURE_ACTIONS),
      'aws:SourceIp': rand() < 0.9 ? `10.${Math.floor(rand() * 256)}.${Math.floor(rand() * 256)}.7` : '203.0.113.9',
    };
    if (rand() < 0.3) context['emr-gateway:Tags'] = [`project=team${i}-etl`, 'env=dev'];
    out.push({
      principal: i,
      request: {
        callerArn: `arn:aws:sts::${ACCOUNT}:assumed-role/${principalName(i)}/user${Math.floor(rand() * 50)}`,
        action: pick(rand, ACTIONS),
        resource: clusterArn(pick(rand, REGIONS), pick(rand, CLUSTERS)),
        context,
        now: NOW,
      },
    });
  }
  return out;
}

/** The oracle's view of a request: the principal's own policy and the keys the engine derives itself. */
function oracleRun(config: Config, r: BenchRequest): string {
  const rule = config.rules[r.principal + 1]!; // +1: the wildcard rule in front
  const session = r.request.callerArn.slice(r.request.callerArn.lastIndexOf('/') + 1);
  const contextVariables: Record<string, string | string[]> = {
    ...(r.request.context as Record<string, string | string[]>),
    'aws:PrincipalArn': rule.match,
    'aws:PrincipalAccount': ACCOUNT,
    'aws:PrincipalType': 'AssumedRole',
    'aws:SourceIdentity': session,
    'aws:CurrentTime': NOW.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    'aws:EpochTime': String(Math.floor(NOW.getTime() / 1000)),
  };
  for (const [k, v] of Object.entries(rule.tags ?? {})) contextVariables[`aws:PrincipalTag/${k}`] = v;
  return runUnsafeSimulation(
    {
      request: { principal: rule.match, action: r.request.action, resource: { resource: r.request.resource, accountId: ACCOUNT }, contextVariables },
      identityPolicies: rule.policies.map((name) => ({ name, policy: config.documents[name] })),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    },
    {},
  );
}

interface Latency {
  perSecond: number;
  p50: number;
  p99: number;
}

const percentile = (sorted: Float64Array, p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(p * (sorted.length - 1)))]!;

/**
 * Throughput from a tight loop (no per-call timer), latency from process.hrtime.bigint around each call.
 * Requests are taken round-robin from `requests`.
 */
function measure(requests: readonly BenchRequest[], iterations: number, warmup: number, run: (r: BenchRequest) => unknown): Latency {
  for (let n = 0; n < warmup; n++) run(requests[n % requests.length]!);
  const start = process.hrtime.bigint();
  for (let n = 0; n < iterations; n++) run(requests[n % requests.length]!);
  const elapsedNs = Number(process.hrtime.bigint() - start);
  const samples = new Float64Array(iterations);
  for (let n = 0; n < iterations; n++) {
    const t0 = process.hrtime.bigint();
    run(requests[n % requests.length]!);
    samples[n] = Number(process.hrtime.bigint() - t0) / 1000;
  }
  samples.sort();
  return { perSecond: (iterations * 1e9) / elapsedNs, p50: percentile(samples, 0.5), p99: percentile(samples, 0.99) };
}

/** A full collection before each memory reading: `node --expose-gc`'s global.gc, or V8's gc exposed by the bench. */
const gc: () => void =
  (globalThis as { gc?: () => void }).gc ??
  (() => {
    setFlagsFromString('--expose-gc');
    return runInNewContext('gc') as () => void;
  })();
const usedHeap = (): number => {
  gc();
  return getHeapStatistics().used_heap_size;
};
const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};
const load = (): string => {
  const [one, five, fifteen] = loadavg();
  return `load average ${one!.toFixed(2)} / ${five!.toFixed(2)} / ${fifteen!.toFixed(2)} (1 / 5 / 15 min)`;
};
const fmt = (n: number, digits = 1): string => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

interface Row {
  statements: number;
  principals: number;
  compileMs: number;
  engine: Latency;
  oracle: Latency;
  outcomes: Record<string, number>;
  agreement: string;
}

interface MemoryRun {
  /** Heap bytes: the policy documents; the engine once loaded; the engine once every principal has asked every action. */
  documents: number;
  loaded: number;
  inUse: number;
  rss: number;
}

/**
 * What a reading measures, kept reachable from outside the function until it is done: once V8 optimises
 * measureMemory (on-stack replacement in its loop), locals it no longer reads are not roots, and the last GC
 * would collect the engine being measured.
 */
let measured: unknown[] = [];

/** One memory reading at `statements` statements (see the header); everything it builds is garbage once it returns. */
function measureMemory(statements: number): MemoryRun {
  const rss0 = process.memoryUsage().rss;
  const empty = usedHeap();
  const config = buildConfig(statements);
  measured = [config];
  const withDocuments = usedHeap();
  const engine = new PolicyEngine(config.rules, config.documents);
  measured.push(engine);
  const loaded = usedHeap();
  for (let i = 0; i < config.principals; i++) {
    for (const action of ACTIONS) {
      engine.evaluate({
        callerArn: `arn:aws:sts::${ACCOUNT}:assumed-role/${principalName(i)}/user`,
        action,
        resource: clusterArn('us-east-1', CLUSTERS[0]!),
        context: { 'elasticmapreduce:ExecutionRoleArn': roleArn(`CallerTeamRole${i}`), 'emr-gateway:StepType': 'spark', 'aws:SourceIp': '10.1.2.3' },
        now: NOW,
      });
    }
  }
  const inUse = usedHeap();
  measured = [];
  return { documents: withDocuments - empty, loaded: loaded - withDocuments, inUse: inUse - withDocuments, rss: process.memoryUsage().rss - rss0 };
}

export async function main(): Promise<void> {
  const cpu = cpus();
  const loadBefore = load();
  console.log(`machine: ${cpu.length} CPUs (${cpu[0]?.model.trim() ?? 'unknown'}), node ${process.version}; before the bench: ${loadBefore}`);

  const memoryRuns: MemoryRun[] = [];
  for (let run = 0; run < MEMORY_RUNS; run++) {
    memoryRuns.push(measureMemory(MEMORY_STATEMENTS));
    await new Promise((resolve) => setImmediate(resolve));
  }
  const perStatement = (bytes: number): number => bytes / MEMORY_STATEMENTS;
  const loadedBytes = perStatement(median(memoryRuns.map((r) => r.loaded)));
  const inUseBytes = perStatement(median(memoryRuns.map((r) => r.inUse)));
  const memoryPrincipals = Math.max(1, Math.floor(MEMORY_STATEMENTS / STATEMENTS_PER_POLICY));
  const runs = (pick: (r: MemoryRun) => number): string => memoryRuns.map((r) => fmt(perStatement(pick(r)), 0)).join(', ');
  console.log(
    `memory at ${MEMORY_STATEMENTS.toLocaleString('en-US')} statements (${memoryPrincipals.toLocaleString('en-US')} principals), heap used after a full GC, median of ${MEMORY_RUNS} runs: ` +
      `policy documents +${mb(median(memoryRuns.map((r) => r.documents)))}; compiled engine +${mb(loadedBytes * MEMORY_STATEMENTS)} once loaded (${fmt(loadedBytes, 0)} B per statement; runs ${runs((r) => r.loaded)}), ` +
      `+${mb(inUseBytes * MEMORY_STATEMENTS)} once every principal has asked every action (${fmt(inUseBytes, 0)} B per statement; runs ${runs((r) => r.inUse)}); ` +
      `rss +${mb(memoryRuns[0]!.rss)} in the first run`,
  );

  const rows: Row[] = [];
  for (const statements of SIZES) {
    const config = buildConfig(statements);
    const t0 = process.hrtime.bigint();
    const engine = new PolicyEngine(config.rules, config.documents);
    const compileMs = Number(process.hrtime.bigint() - t0) / 1e6;

    const requests = buildRequests(config.principals, 20_000, 0xc0ffee + statements);
    const outcomes: Record<string, number> = { Allowed: 0, ExplicitlyDenied: 0, ImplicitlyDenied: 0 };
    for (const r of requests) outcomes[engine.evaluate(r.request).result]!++;
    const engineLatency = measure(requests, ENGINE_ITERATIONS, ENGINE_WARMUP, (r) => engine.evaluate(r.request));

    // The oracle gets the first ORACLE_ITERATIONS requests; check that it agrees on them, too.
    const oracleRequests = requests.slice(0, ORACLE_ITERATIONS);
    let agree = 0;
    for (const r of oracleRequests) if (oracleRun(config, r) === engine.evaluate(r.request).result) agree++;
    const oracleLatency = measure(oracleRequests, ORACLE_ITERATIONS, ORACLE_WARMUP, (r) => oracleRun(config, r));

    rows.push({
      statements,
      principals: config.principals,
      compileMs,
      engine: engineLatency,
      oracle: oracleLatency,
      outcomes,
      agreement: `${agree}/${oracleRequests.length}`,
    });
    await new Promise((resolve) => setImmediate(resolve));
  }

  const header = ['statements', 'principals', 'compile ms', 'engine dec/s', 'p50 µs', 'p99 µs', 'oracle dec/s', 'oracle p50 µs', 'oracle p99 µs', 'engine/oracle', 'agree'];
  const table = rows.map((r) => [
    r.statements.toLocaleString('en-US'),
    r.principals.toLocaleString('en-US'),
    fmt(r.compileMs),
    fmt(r.engine.perSecond, 0),
    fmt(r.engine.p50, 2),
    fmt(r.engine.p99, 2),
    fmt(r.oracle.perSecond, 0),
    fmt(r.oracle.p50, 1),
    fmt(r.oracle.p99, 1),
    `${fmt(r.engine.perSecond / r.oracle.perSecond)}x`,
    r.agreement,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ');
  console.log(`policy engine vs @cloud-copilot/iam-simulate (engine ${ENGINE_ITERATIONS.toLocaleString('en-US')} decisions per size, oracle ${ORACLE_ITERATIONS.toLocaleString('en-US')})`);
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
  for (const row of table) console.log(line(row));
  for (const r of rows) {
    const total = r.outcomes.Allowed! + r.outcomes.ExplicitlyDenied! + r.outcomes.ImplicitlyDenied!;
    const pct = (n: number): string => `${((100 * n) / total).toFixed(0)}%`;
    console.log(
      `outcomes at ${r.statements.toLocaleString('en-US')} statements: Allowed ${pct(r.outcomes.Allowed!)}, ExplicitlyDenied ${pct(r.outcomes.ExplicitlyDenied!)}, ImplicitlyDenied ${pct(r.outcomes.ImplicitlyDenied!)}`,
    );
  }
  const verdict = (ok: boolean): string => (ok ? 'met' : 'not met');
  const worstBytes = Math.max(loadedBytes, inUseBytes);
  console.log(
    `target ≤ 2 KB (${TARGET_BYTES_PER_STATEMENT.toLocaleString('en-US')} B) per compiled statement at ${MEMORY_STATEMENTS.toLocaleString('en-US')} statements: ${verdict(worstBytes <= TARGET_BYTES_PER_STATEMENT)} ` +
      `(${fmt(loadedBytes, 0)} B once loaded, ${fmt(inUseBytes, 0)} B in use: ${fmt(worstBytes / 1024, 2)} KB)`,
  );
  const lowest = rows.reduce((a, b) => (b.engine.perSecond / b.oracle.perSecond < a.engine.perSecond / a.oracle.perSecond ? b : a));
  const ratio = lowest.engine.perSecond / lowest.oracle.perSecond;
  console.log(
    `target ≥ ${TARGET_ORACLE_RATIO}x the oracle's throughput: ${verdict(ratio >= TARGET_ORACLE_RATIO)} (lowest ratio ${fmt(ratio)}x at ${lowest.statements.toLocaleString('en-US')} statements: ` +
      `engine ${fmt(lowest.engine.perSecond, 0)} decisions/s, oracle ${fmt(lowest.oracle.perSecond, 0)} decisions/s; ratios ${rows.map((r) => `${fmt(r.engine.perSecond / r.oracle.perSecond)}x`).join(' / ')} at ${rows.map((r) => r.statements.toLocaleString('en-US')).join(' / ')})`,
  );
  const at1k = rows.find((r) => r.statements === 1_000);
  if (at1k) {
    console.log(
      `target p99 < ${TARGET_P99_US_AT_1K} µs at 1,000 statements: ${verdict(at1k.engine.p99 < TARGET_P99_US_AT_1K)} (p99 ${fmt(at1k.engine.p99, 2)} µs, p50 ${fmt(at1k.engine.p50, 2)} µs)`,
    );
  }
  console.log(`machine load: before the bench ${loadBefore}; after it ${load()} (${cpu.length} CPUs)`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
