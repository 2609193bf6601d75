/**
 * Simulates one job of a given length through a real state machine definition and counts what it costs: state
 * transitions (what Step Functions bills), the execution's history events, and every call the job's functions make
 * (Lambda invocations by function, with the DynamoDB units, EMR, KMS and Step Functions calls each one made), on
 * simulated time with EMR mocked (FakeEmr's timed steps).
 *
 * - `events`: today's definition, EMR's step events simulated (the step's RUNNING and end events, the reconciler's
 *   look every 15 minutes of simulated time: a heartbeat), as in AWS.
 * - a polling policy: the previous definition (test/fixtures/poll-loop.asl.json: a Wait/PollStep loop with capped
 *   exponential backoff), which executions started before the upgrade still run, with the same tasks.
 * - `addStep.sync`: a model of the design that lets Step Functions follow the step itself (ADD_STEP_SYNC_MODEL).
 *
 * The DynamoDB units are what on-demand DynamoDB bills: each request asks for `ReturnConsumedCapacity: TOTAL`, and
 * dynalite answers it for the table (1 WRU per KB written, the larger of the item before and after; 1 RRU per 4 KB
 * of a strongly consistent read, half for an eventually consistent one). dynalite leaves out the global secondary
 * indexes, which DynamoDB bills too: they are counted here from the item before and after each write of the jobs
 * table, as DynamoDB writes an index (GSI.html#GSI.Writes): an entry that appears, or changes its projected
 * attributes, is one write of its size (per KB); one whose index key changes is two (the old entry deleted, the new
 * one put); one that goes is one. A conditional write that fails is billed by DynamoDB too: counted as 1 WRU (its
 * item's size is not known here).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { DescribeStepCommand, EMRClient } from '@aws-sdk/client-emr';
import { GetItemCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import dynaliteDb from 'dynalite/db';
import pollLoop from '../fixtures/poll-loop.asl.json';
import { jobsTable } from '../../src/adapters/dynamodb/tables';
import type { PollingPolicy } from '../../src/jobs/workflow-input';
import type { TaskResult } from '../../src/jobs/step-tasks';
import { LocalStepFunctions } from '../../src/local/sfn/api';
import { ALICE, CLUSTER, startGateway, submitBody, type TestGateway } from './gateway';

/** The reconciler's schedule in AWS (serverless.yml custom.reconciler): its looks heartbeat each waiting job. */
export const RECONCILE_EVERY_SECONDS = 900;

/**
 * Step Functions' own polling of an EMR step in a `.sync` integration: "a hard-coded 60 seconds job polling frequency
 * for the first 10 minutes and 300 seconds after that" (Step Functions developer guide, connect-emr.html). The IAM
 * policy Step Functions generates for addStep.sync (emr-iam.html) holds AddJobFlowSteps, DescribeStep and
 * CancelSteps and no EventBridge rule: it polls DescribeStep.
 */
export const SYNC_POLLING = { fastSeconds: 60, fastForSeconds: 600, slowSeconds: 300 } as const;

/**
 * The `addStep.sync` design, modelled on the real interpreter: SubmitStep (the real task: the decision check, the
 * audit, AddJobFlowSteps; in the real design Step Functions' `elasticmapreduce:addStep.sync` would add the step
 * itself, and EMR's API calls cost nothing) → RunStep (stands for `arn:aws:states:::elasticmapreduce:addStep.sync`:
 * Step Functions polls DescribeStep on SYNC_POLLING until the step ends; the route simulateJob gives it records
 * nothing and costs no Lambda) → RecordEnd (a Lambda: the real PollStep task, which reads the step once and records
 * its end) → Done. No EMR event handler and no wait token: no intermediate state (PENDING, RUNNING) is ever recorded
 * on the job or its trail, and the end is known up to one poll interval (60 s, then 300 s) late. The step's id reaches
 * the workflow only with the .sync task's output (at the end), so until then the job could not show it, nor be
 * cancelled through it (a cancel would have to stop the execution). RunStep's history here is a Lambda's
 * (LambdaFunctionScheduled/Started/Succeeded); an optimized integration logs TaskScheduled/Started/Submitted/
 * Succeeded, one event more.
 */
export const ADD_STEP_SYNC_MODEL = {
  Comment: 'A model of the addStep.sync design (test/support/transitions.ts): not deployed anywhere.',
  StartAt: 'SubmitStep',
  States: {
    SubmitStep: { Type: 'Task', Resource: '${SubmitStepFunctionArn}', Parameters: { 'jobId.$': '$.jobId', 'polling.$': '$.polling' }, ResultPath: '$.poll', Next: 'Finished?' },
    'Finished?': { Type: 'Choice', Choices: [{ Variable: '$.poll.done', BooleanEquals: true, Next: 'Done' }], Default: 'RunStep' },
    RunStep: {
      Type: 'Task',
      Comment: 'Stands for arn:aws:states:::elasticmapreduce:addStep.sync (Step Functions polls the step itself).',
      Resource: '${WatchStepFunctionArn}',
      Parameters: { 'jobId.$': '$.jobId', 'polling.$': '$.polling', 'poll.$': '$.poll', taskToken: 'addStep.sync' },
      ResultPath: '$.poll',
      Next: 'RecordEnd',
    },
    RecordEnd: { Type: 'Task', Resource: '${PollStepFunctionArn}', Parameters: { 'jobId.$': '$.jobId', 'polling.$': '$.polling', 'poll.$': '$.poll' }, ResultPath: '$.poll', Next: 'Done' },
    Done: { Type: 'Succeed' },
  },
};

export type Design = 'events' | 'addStep.sync' | PollingPolicy;

/** The functions as serverless.yml deploys them; `reconcile` is its part for this job (its looks at it). */
export const FUNCTIONS = ['api', 'submitStep', 'watchStep', 'pollStep', 'recordEnd', 'failJob', 'emrStepEvent', 'reconcile'] as const;
export type FunctionName = (typeof FUNCTIONS)[number];
/** Who made a call: a function, Step Functions itself (a .sync integration's polls), or nobody the bill knows of (the simulation's own reads). */
type Caller = FunctionName | 'stepFunctions' | 'other';

export interface CallCounts {
  dynamoReads: number;
  dynamoWrites: number;
  /** Read request units (table reads: GetItem, Query, BatchGetItem, Scan). */
  rru: number;
  /** Write request units of the tables themselves. */
  wru: number;
  /** Write request units of the jobs table's global secondary indexes. */
  gsiWru: number;
  conditionalFailures: number;
  describeStep: number;
  addJobFlowSteps: number;
  cancelSteps: number;
  listSteps: number;
  /** Step Functions: StartExecution (the API's), SendTaskSuccess and SendTaskHeartbeat (the ends and heartbeats of waits). */
  startExecution: number;
  sendTaskSuccess: number;
  sendTaskHeartbeat: number;
  /** STS AssumeRole (the submitter role, to add a step under the caller's source identity). */
  assumeRole: number;
  /** KMS GenerateMac (each audit event is sealed) and VerifyMac (the submission checks its decision's seal). */
  generateMac: number;
  verifyMac: number;
}

export interface FunctionUse {
  invocations: number;
  /** Wall-clock milliseconds of all its invocations here (dynalite in-process, EMR mocked: not AWS's latencies). */
  wallMs: number;
  calls: CallCounts;
}

export interface TransitionCount {
  transitions: number;
  /** DescribeStep calls the gateway's functions made (not a .sync integration's own). */
  polls: number;
  status: string | undefined;
  /** The execution's history events (Step Functions' standard workflows allow 25,000). */
  historyEvents: number;
  /** The job's audit trail: event types, a state change with its EMR state (`STATE_CHANGED:RUNNING`). */
  trail: string[];
  /** What each function did for this job. */
  functions: Record<FunctionName, FunctionUse>;
  /** Everything, whoever called (the functions, and `stepFunctions`: a .sync integration's own DescribeStep polls). */
  total: CallCounts;
  /** Calls made outside any function (none, unless something escaped the meter). */
  unattributed: CallCounts;
  /** DescribeStep calls Step Functions itself makes (the addStep.sync model): free, but within EMR's API rate quota. */
  syncPolls: number;
  /** EMR's "Step Status Change" events of the step (PENDING, RUNNING, its end): AWS service events, one per change. */
  emrEvents: number;
  /** The reconciler's looks at the job while it was unfinished (one per run, every RECONCILE_EVERY_SECONDS). */
  reconcileLooks: number;
  /** The job's item in the jobs table at its end, in bytes as DynamoDB sizes items: each reconciler Scan reads it. */
  jobItemBytes: number;
  /** Simulated seconds from the step's end on EMR to the gateway's record of it (the execution ends right after). */
  endDelaySeconds: number;
}

const zero = (): CallCounts => ({
  dynamoReads: 0,
  dynamoWrites: 0,
  rru: 0,
  wru: 0,
  gsiWru: 0,
  conditionalFailures: 0,
  describeStep: 0,
  addJobFlowSteps: 0,
  cancelSteps: 0,
  listSteps: 0,
  startExecution: 0,
  sendTaskSuccess: 0,
  sendTaskHeartbeat: 0,
  assumeRole: 0,
  generateMac: 0,
  verifyMac: 0,
});

/** dynalite's item size (what its ConsumedCapacity is computed from: attribute names plus values, as DynamoDB sizes them). */
const itemBytes = (item: Record<string, unknown>): number => (dynaliteDb as unknown as { itemSize(item: Record<string, unknown>): number }).itemSize(item);
const perKb = (bytes: number): number => Math.max(1, Math.ceil(bytes / 1024));
type Item = Record<string, AttributeValue>;
const canonical = (value: unknown): string => JSON.stringify(value, (_k, v: unknown) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v));

/** WRUs the jobs table's indexes take for one write of an item from `before` to `after` (see the header). */
function indexWrites(before: Item | undefined, after: Item | undefined): number {
  let units = 0;
  for (const index of jobsTable('jobs').GlobalSecondaryIndexes ?? []) {
    const keys = (index.KeySchema ?? []).map((k) => k.AttributeName!);
    const entry = (item: Item | undefined): Item | undefined => {
      if (!item || !keys.every((k) => item[k] !== undefined)) return undefined;
      if (index.Projection?.ProjectionType === 'ALL') return item;
      const names = [...keys, 'jobId', ...(index.Projection?.NonKeyAttributes ?? [])];
      return Object.fromEntries(names.filter((n) => item[n] !== undefined).map((n) => [n, item[n]!]));
    };
    const [old, now] = [entry(before), entry(after)];
    if (old && now && keys.every((k) => canonical(old[k]) === canonical(now[k]))) {
      if (canonical(old) !== canonical(now)) units += perKb(itemBytes(now));
      continue;
    }
    if (old) units += perKb(itemBytes(old));
    if (now) units += perKb(itemBytes(now));
  }
  return units;
}

const READS = new Set(['GetItemCommand', 'QueryCommand', 'ScanCommand', 'BatchGetItemCommand']);
const WRITES = new Set(['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand', 'BatchWriteItemCommand']);
const EMR_OPERATIONS: Record<string, keyof CallCounts> = { DescribeStepCommand: 'describeStep', AddJobFlowStepsCommand: 'addJobFlowSteps', CancelStepsCommand: 'cancelSteps', ListStepsCommand: 'listSteps' };

/** Counts every call of one simulated job, attributed to the function it was made in (an AsyncLocalStorage context). */
class Meter {
  readonly by = new Map<Caller, FunctionUse>();
  private readonly context = new AsyncLocalStorage<Caller | 'uncounted'>();
  /** The jobs table's items as last written, by job id: the "before" of the next write. */
  private readonly items = new Map<string, Item>();
  jobsTable = '';

  use(caller: Caller): FunctionUse {
    let use = this.by.get(caller);
    if (!use) this.by.set(caller, (use = { invocations: 0, wallMs: 0, calls: zero() }));
    return use;
  }

  count(key: keyof CallCounts, n = 1): void {
    const caller = this.context.getStore() ?? 'other';
    if (caller !== 'uncounted') this.use(caller).calls[key] += n;
  }

  /** Runs `run` as one invocation of `caller`. */
  async invoke<T>(caller: Caller, run: () => Promise<T>): Promise<T> {
    const use = this.use(caller);
    use.invocations++;
    const start = performance.now();
    try {
      return await this.context.run(caller, run);
    } finally {
      use.wallMs += performance.now() - start;
    }
  }

  /** Reads nobody is billed for (the simulation looking at the table). */
  uncounted<T>(run: () => Promise<T>): Promise<T> {
    return this.context.run('uncounted', run);
  }

  /** The DynamoDB client, metered: ConsumedCapacity asked for and summed, the jobs table's index writes counted. */
  meterDb(db: DynamoDBClient): DynamoDBClient {
    type Args = { input: Record<string, unknown> };
    type Output = { output?: { ConsumedCapacity?: { CapacityUnits?: number } | { CapacityUnits?: number }[] } };
    const middleware = (next: (args: Args) => Promise<Output>, context: { commandName?: string }) => async (args: Args): Promise<Output> => {
      const command = context.commandName ?? '';
      const read = READS.has(command);
      const write = WRITES.has(command);
      if ((!read && !write) || this.context.getStore() === 'uncounted') return next(args);
      args.input.ReturnConsumedCapacity ??= 'TOTAL';
      this.count(read ? 'dynamoReads' : 'dynamoWrites');
      let result: Output;
      try {
        result = await next(args);
      } catch (error) {
        if ((error as { name?: string }).name === 'ConditionalCheckFailedException') {
          this.count('conditionalFailures');
          this.count('wru');
        }
        throw error;
      }
      const consumed = result.output?.ConsumedCapacity;
      const units = (Array.isArray(consumed) ? consumed : consumed ? [consumed] : []).reduce((sum, c) => sum + (c.CapacityUnits ?? 0), 0);
      this.count(read ? 'rru' : 'wru', units);
      const key = (args.input.Key ?? args.input.Item) as Item | undefined;
      const jobId = key?.jobId?.S;
      if (write && args.input.TableName === this.jobsTable && jobId && command !== 'BatchWriteItemCommand') {
        const after = command === 'DeleteItemCommand' ? undefined : (await this.uncounted(() => db.send(new GetItemCommand({ TableName: this.jobsTable, Key: { jobId: { S: jobId } }, ConsistentRead: true })))).Item;
        this.count('gsiWru', indexWrites(this.items.get(jobId), after));
        if (after) this.items.set(jobId, after);
        else this.items.delete(jobId);
      }
      return result;
    };
    (db.middlewareStack.add as (m: unknown, o: unknown) => void)(middleware, { step: 'initialize', name: 'bench-consumed-capacity' });
    return db;
  }

  /** Counts EMR calls (FakeEmr's mock stubs EMRClient.prototype.send; this wraps the stub). Returns the unwrap. */
  meterEmr(): () => void {
    const proto = EMRClient.prototype as unknown as { send: (command: { constructor: { name: string } }, ...rest: unknown[]) => unknown };
    const stubbed = proto.send;
    const count = (name: string) => {
      const key = EMR_OPERATIONS[name];
      if (key) this.count(key);
    };
    proto.send = function (this: unknown, command, ...rest) {
      count(command.constructor.name);
      return stubbed.call(this, command, ...rest);
    };
    return () => void (proto.send = stubbed);
  }

  /** Counts what the functions ask of Step Functions (StartExecution, SendTaskSuccess, SendTaskHeartbeat), STS and KMS (the sealer). */
  meterSfnStsKms(gw: TestGateway): void {
    const { runner, sealer, sts } = gw;
    const start = runner.start.bind(runner);
    const success = runner.sendTaskSuccess.bind(runner);
    const heartbeat = runner.sendTaskHeartbeat.bind(runner);
    runner.start = (input) => (this.count('startExecution'), start(input));
    runner.sendTaskSuccess = (token, output) => (this.count('sendTaskSuccess'), success(token, output));
    runner.sendTaskHeartbeat = (token) => (this.count('sendTaskHeartbeat'), heartbeat(token));
    // The STS client is mocked in startGateway: each AssumeRole is pushed onto gw.sts.calls.
    sts.calls.push = (...calls) => (this.count('assumeRole', calls.length), Array.prototype.push.apply(sts.calls, calls));
    const seal = sealer.seal.bind(sealer);
    const verify = sealer.verify.bind(sealer);
    sealer.seal = (message) => (this.count('generateMac'), seal(message));
    sealer.verify = (message, mac, keyId) => (this.count('verifyMac'), verify(message, mac, keyId));
  }

  total(): CallCounts {
    const sum = zero();
    for (const use of this.by.values()) for (const key of Object.keys(sum) as (keyof CallCounts)[]) sum[key] += use.calls[key];
    return sum;
  }
}

/** Patches one method of `target` to run as an invocation of `caller`. */
function asFunction<T extends object, K extends keyof T>(meter: Meter, target: T, method: K, caller: Caller | ((...args: never[]) => Caller)): void {
  const original = (target[method] as unknown as (...args: unknown[]) => Promise<unknown>).bind(target);
  (target as Record<K, unknown>)[method] = (...args: unknown[]) => meter.invoke(typeof caller === 'function' ? caller(...(args as never[])) : caller, () => original(...args));
}

/** The number of events GetExecutionHistory has for the execution (the newest event's id: ids count from 1). */
function historyLength(gw: TestGateway, name: string): number {
  const arn = 'arn:aws:states:us-east-1:123456789012:stateMachine:emr-gateway-test';
  const api = new LocalStepFunctions(arn, gw.runner, { roleArn: 'arn:aws:iam::123456789012:role/test-state-machine', creationDate: new Date() });
  const page = api.getExecutionHistory({ executionArn: `${arn.replace(':stateMachine:', ':execution:')}:${name}`, reverseOrder: true, maxResults: 1 }) as { events: { id: number }[] };
  return page.events[0]?.id ?? 0;
}

/** When Step Functions' .sync polling first sees a step that ends `runSeconds` after it was added, in seconds after that, and how many polls it took. */
export function syncDetection(runSeconds: number): { at: number; polls: number } {
  const { fastSeconds, fastForSeconds, slowSeconds } = SYNC_POLLING;
  let at = 0;
  let polls = 0;
  while (at < runSeconds) {
    at += at < fastForSeconds ? fastSeconds : slowSeconds;
    polls++;
  }
  return { at, polls };
}

export async function simulateJob(runSeconds: number, design: Design): Promise<TransitionCount> {
  const meter = new Meter();
  const events = design === 'events';
  const sync = design === 'addStep.sync';
  const options = events
    ? { stepEvents: { reconcileEverySeconds: RECONCILE_EVERY_SECONDS } }
    : sync
      ? { definition: ADD_STEP_SYNC_MODEL }
      : { polling: design, definition: pollLoop };
  const gw = await startGateway({ ...options, wrapDb: (db) => meter.meterDb(db) });
  meter.jobsTable = gw.dynamo.jobsTable;
  const unmeterEmr = meter.meterEmr();
  try {
    meter.meterSfnStsKms(gw);
    const tasks = gw.workflow;
    asFunction(meter, tasks, 'submit', 'submitStep');
    asFunction(meter, tasks, 'poll', sync ? 'recordEnd' : 'pollStep');
    asFunction(meter, tasks, 'fail', 'failJob');
    asFunction(meter, tasks, 'observeStepEvent', 'emrStepEvent');
    asFunction(meter, tasks, 'followWaiting', 'reconcile');
    if (sync) {
      const emr = new EMRClient({ region: 'us-east-1' });
      // RunStep: Step Functions following the step (SYNC_POLLING), until the poll that sees its end.
      tasks.watch = (input) =>
        meter.invoke('stepFunctions', async () => {
          const step = gw.emr.steps.find((s) => s.name.endsWith(`[${input.jobId}]`))!;
          const { at, polls } = syncDetection(runSeconds);
          // The first poll is sent (a FakeEmr step answers PENDING to its first DescribeStep, as one just added does);
          // the others, which change nothing here, are counted.
          await emr.send(new DescribeStepCommand({ ClusterId: CLUSTER, StepId: step.id }));
          meter.use('stepFunctions').calls.describeStep += polls - 1;
          // The PollStep route moves the clock by the wait it is given (1 s) before RecordEnd reads the step.
          gw.clock.advance((step.created.getTime() + at * 1000 - gw.clock.now().getTime()) / 1000 - 1);
          return { ...input.poll, jobId: input.jobId, done: false, status: 'SUBMITTED', waitSeconds: 1, timeoutSeconds: input.poll?.timeoutSeconds ?? 1, heartbeatSeconds: input.poll?.heartbeatSeconds ?? 3600 } satisfies TaskResult;
        });
    } else asFunction(meter, tasks, 'watch', 'watchStep');
    const service = gw.service;
    asFunction(meter, service, 'submit', 'api');

    gw.emr.timed = { now: gw.clock.now, runSeconds };
    const { job } = await service.submit({ caller: { callerArn: ALICE }, body: submitBody() });
    const finished = await meter.uncounted(() => gw.finish(job.jobId));
    const execution = gw.runner.executions.get(job.jobId)!;
    const step = gw.emr.steps.find((s) => s.name.endsWith(`[${job.jobId}]`));
    const endDelaySeconds = step && finished?.finishedAt ? (Date.parse(finished.finishedAt) - step.created.getTime()) / 1000 - runSeconds : NaN;

    // EMR sends an event for every state change whether or not the gateway follows them. The simulation delivers
    // RUNNING and the end (events design) or none (the poll loop, whose deployment had the same step-event handler):
    // the others come after the end here, where each costs what a duplicate costs (the job read), as one that finds
    // its state recorded does. The addStep.sync design has no step-event handler.
    const emrEvents = 3;
    if (!sync) {
      const delivered = events ? ['RUNNING', 'COMPLETED'] : [];
      for (const state of ['PENDING', 'RUNNING', 'COMPLETED'].filter((s) => !delivered.includes(s))) {
        await tasks.observeStepEvent({ stepId: step?.id, clusterId: CLUSTER, name: step?.name, state });
      }
    }
    // The reconciler looks at every unfinished job at each run; the events design's looks happened during the run
    // (the simulated heartbeats). The others' looks find no wait token: each is the job read, made here after the end.
    // (As the simulated heartbeats: a run at every RECONCILE_EVERY_SECONDS after the wait began, before the end.)
    const runs = Math.max(0, Math.ceil(runSeconds / RECONCILE_EVERY_SECONDS) - 1);
    const reconcileLooks = events ? (meter.by.get('reconcile')?.invocations ?? 0) : runs;
    if (!events) for (let i = 0; i < runs; i++) await tasks.followWaiting(job.jobId);

    const item = (await meter.uncounted(() => gw.dynamo.client.send(new GetItemCommand({ TableName: gw.dynamo.jobsTable, Key: { jobId: { S: job.jobId } }, ConsistentRead: true })))).Item;
    const trail = (await meter.uncounted(() => gw.audit.list(job.jobId))).map((e) => (e.type === 'STATE_CHANGED' ? `${e.type}:${String(e.emr?.state)}` : e.type));
    const functions = Object.fromEntries(FUNCTIONS.map((f) => [f, meter.by.get(f) ?? { invocations: 0, wallMs: 0, calls: zero() }])) as Record<FunctionName, FunctionUse>;
    return {
      transitions: execution.transitions,
      polls: FUNCTIONS.reduce((sum, f) => sum + functions[f].calls.describeStep, 0),
      status: finished?.status,
      historyEvents: historyLength(gw, job.jobId),
      trail,
      functions,
      total: meter.total(),
      unattributed: meter.by.get('other')?.calls ?? zero(),
      syncPolls: meter.by.get('stepFunctions')?.calls.describeStep ?? 0,
      emrEvents,
      reconcileLooks,
      jobItemBytes: item ? itemBytes(item) : 0,
      endDelaySeconds,
    };
  } finally {
    unmeterEmr();
    await gw.stop();
  }
}
