/**
 * The workflow's real parts wired together for tests: the example-like config and policy engine, dynalite
 * tables, the job and audit stores, the real ASL run by the local runner (waits and retry pauses skipped,
 * simulated time advanced by each wait instead), and EMR mocked by FakeEmr.
 */
import { ObservedJobStore } from '../../src/composition/core';
import { DynamoQueueStore } from '../../src/adapters/dynamodb/queue-store';
import { ClusterQueues } from '../../src/jobs/cluster-queues';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EMRClient } from '@aws-sdk/client-emr';
import { STSClient } from '@aws-sdk/client-sts';
import definition from '../../statemachines/submit-job.asl.json';
import { DynamoAuditStore } from '../../src/adapters/dynamodb/audit-store';
import { SdkEmrSteps, submitClientFactory, type TemporaryCredentials } from '../../src/adapters/emr/emr-steps';
import type { GatewayConfig } from '../../src/config/validate';
import { AuditDigester, DigestVerifier } from '../../src/audit/digester';
import { JobService } from '../../src/jobs/service';
import { DynamoJobStore } from '../../src/adapters/dynamodb/job-store';
import { StepTasks } from '../../src/jobs/step-tasks';
import { Reconciler } from '../../src/jobs/reconciler';
import { executionName, type Job } from '../../src/jobs/model';
import type { WorkflowCallbacks, WorkflowExecutions, WorkflowStarter } from '../../src/jobs/ports';
import { LocalServiceError } from '../../src/local/errors';
import { TASK_GONE_ERRORS } from '../../src/adapters/sfn/workflow-callbacks';
import { DEFAULT_POLLING, type PollingPolicy } from '../../src/jobs/workflow-input';
import { workflowRoutes } from '../../src/jobs/task-routes';
import { LocalStepFunctions } from '../../src/local/sfn/api';
import { LocalWorkflowRunner } from '../../src/local/sfn/runner';
import { CLUSTER, loadTestConfig, SimClock, SUBMITTER_ROLE } from './config';
import { startDynamo, type TestDynamo } from './dynamo';
import { FakeEmr } from './fake-emr';
import { InMemoryDigestStore, TestDigestSigner } from './digests';
import { TestSealer } from './sealer';

// The config, principals and clock live in ./config (no SDK there, so unit tests can share them); re-exported
// here for the tests that know them from this module.
export { ACCOUNT, ALICE, AUDITOR, CAROL, CLUSTER, NOREADS, PEER, PLAIN_CLUSTER, role, SCOPED, SCOPED_CONFIG_YAML, SimClock, SPOOFED, submitBody, SUBMITTER_ROLE, UNVERIFIED_CONFIG_YAML } from './config';

export interface TestGateway {
  config: GatewayConfig;
  dynamo: TestDynamo;
  emr: FakeEmr;
  clock: SimClock;
  jobs: DynamoJobStore;
  audit: DynamoAuditStore;
  /** The audit key the trail is sealed with (and checked against). */
  sealer: TestSealer;
  digestStore: InMemoryDigestStore;
  /** Checks a trail against the digests (the digester's key). */
  digests: DigestVerifier;
  /** Writes the next digest of the chain heads (the table's head-changes index), on the simulated clock. */
  digester: AuditDigester;
  workflow: StepTasks;
  runner: LocalWorkflowRunner;
  /** The runner the tasks' callbacks (SendTaskSuccess/Heartbeat) reach: `runner`, unless a test runs its own. */
  sfn: { runner: LocalWorkflowRunner };
  service: JobService;
  /** A service whose workflow start is up to the test (e.g. a no-op, to act before the state machine runs). */
  serviceWith(workflow: ConstructorParameters<typeof JobService>[0]['workflow']): JobService;
  /** Credentials the submitter-role clients were made with (one entry per AssumeRole). */
  assumed: TemporaryCredentials[];
  sts: { calls: { RoleArn?: string; SourceIdentity?: string; RoleSessionName?: string }[] };
  /** The execution's history as GetExecutionHistory gives it (every page). */
  history(name: string): Record<string, unknown>[];
  /** Waits for the job's execution to end; returns the job then. */
  finish(jobId: string): Promise<Awaited<ReturnType<DynamoJobStore['get']>>>;
  /** The runner's executions at the reconciler's ports (names as Step Functions has them). */
  executions: WorkflowStarter & WorkflowExecutions;
  /** The reconciler over the stores, the runner's executions and the workflow's tasks, on the simulated clock. */
  reconciler: Reconciler;
  /** Admission control (options.admission). */
  queues?: ClusterQueues;
  /** What the job store does at each job's end with admission on: give its place back (a test may lose it, as a crash would). */
  onEnded: (job: Job) => Promise<void>;
  /** Runs before each SubmitStep of the test runner (e.g. holds the execution at a retry's pause, for a race). */
  beforeSubmit?: (jobId: string) => Promise<void>;
  /** Tests that need a fault around DynamoDB writes wrap the client here. */
  stop(): Promise<void>;
}

export interface GatewayOptions {
  polling?: PollingPolicy;
  /** Another state machine definition than statemachines/submit-job.asl.json (e.g. the previous poll loop, test/fixtures). */
  definition?: unknown;
  /**
   * EMR's step events, simulated (FakeEmr's `timed` steps only): once a wait for the step's end has begun, the
   * step's RUNNING event, then the reconciler's look every `reconcileEverySeconds` of simulated time (a heartbeat
   * while the step runs), then its end's event. Without it no event ever comes, and each wait ends at once
   * (as one nobody completes or heartbeats does) for PollStep to look.
   */
  stepEvents?: { reconcileEverySeconds: number };
  /** Wraps the DynamoDB client the stores use (fault injection). */
  wrapDb?: (client: DynamoDBClient) => DynamoDBClient;
  /** Another configuration than the shared one (YAML text). */
  configYaml?: string;
  /**
   * Admission control as the composition wires it (composition/queues.ts): the service places each job, the job
   * store tells admission of each end, the reconciler sweeps. Off by default: most tests are about one job.
   */
  admission?: boolean;
}

/** Moves the simulated clock to the job's next attempt, if it is between attempts and that is later (WaitToRetry, skipped). */
export async function untilDue(jobs: DynamoJobStore, clock: SimClock, jobId: string): Promise<void> {
  const due = (await jobs.get(jobId))?.nextAttemptAt;
  if (due !== undefined) clock.advance(Math.max(0, (Date.parse(due) - clock.now().getTime()) / 1000));
}

export async function startGateway(options: GatewayOptions = {}): Promise<TestGateway> {
  const { config, engine } = loadTestConfig(options.configYaml);
  const dynamo = await startDynamo();
  const db = options.wrapDb ? options.wrapDb(dynamo.client) : dynamo.client;
  const clock = new SimClock();
  const emr = new FakeEmr();
  const jobs = options.admission ? new ObservedJobStore(db, dynamo.jobsTable, undefined, clock.now) : new DynamoJobStore(db, dynamo.jobsTable, clock.now);
  const sealer = new TestSealer();
  const audit = new DynamoAuditStore(db, dynamo.auditTable, sealer, clock.now);
  const assumed: TemporaryCredentials[] = [];
  const sts = { calls: [] as TestGateway['sts']['calls'] };
  const stsClient = new STSClient({ region: 'us-east-1' });
  // STS mocked at the client boundary: AssumeRole answers with session credentials and records the request.
  stsClient.send = (command: { input: TestGateway['sts']['calls'][number] }) => {
    sts.calls.push(command.input);
    return Promise.resolve({ Credentials: { AccessKeyId: 'ASIASUBMITTER', SecretAccessKey: 'secret', SessionToken: `token-${sts.calls.length}`, Expiration: new Date() } });
  };
  const emrAccess = new SdkEmrSteps(new EMRClient({ region: 'us-east-1' }), stsClient, config.clusters, SUBMITTER_ROLE, (credentials) => {
    if (credentials) assumed.push(credentials);
    return submitClientFactory({ region: 'us-east-1' })(credentials);
  });
  // The runner is made below, from the tasks' routes: the callbacks reach it once it exists.
  const sfn = {} as { runner: LocalWorkflowRunner };
  const workflow = new StepTasks({ jobs, audit, emr: emrAccess, callbacks: runnerCallbacks(() => sfn.runner), sealer, config, now: clock.now });
  const digestStore = new InMemoryDigestStore();
  const digestSigner = new TestDigestSigner();
  const digests = new DigestVerifier(digestStore, digestSigner);
  const digester = new AuditDigester({ heads: jobs, store: digestStore, signer: digestSigner, now: clock.now });
  const routes = workflowRoutes(workflow);
  /** The simulated steps' lives in progress: finish and stop wait for them. */
  const lives = new Set<Promise<void>>();
  /** The simulated life of a timed step after its wait began: RUNNING, the reconciler's looks, the end. */
  const liveOn = async (jobId: string): Promise<void> => {
    const step = emr.steps.find((s) => s.name.endsWith(`[${jobId}]`));
    if (!step || !emr.timed || !options.stepEvents) return;
    const event = (state: string) => workflow.observeStepEvent({ stepId: step.id, clusterId: CLUSTER, name: step.name, state });
    await event('RUNNING');
    const end = step.created.getTime() + emr.timed.runSeconds * 1000;
    const every = options.stepEvents.reconcileEverySeconds;
    while (clock.now().getTime() + every * 1000 < end) {
      clock.advance(every);
      await workflow.followWaiting(jobId);
    }
    clock.advance(Math.max(0, (end - clock.now().getTime()) / 1000));
    await event('COMPLETED');
  };
  const runner = new LocalWorkflowRunner({
    definition: options.definition ?? definition,
    routes: {
      ...routes,
      WatchStepFunctionArn: async (input) => {
        const result = await routes.WatchStepFunctionArn(input);
        // After the wait has its token, as the events come after the step was added.
        if (!result.done) lives.add(new Promise((r) => setImmediate(r)).then(() => liveOn((input as { jobId: string }).jobId)));
        return result;
      },
      // Simulated time: a retry's next attempt starts when it is due (WaitToRetry's pause, skipped, moves the clock).
      SubmitStepFunctionArn: async (input) => {
        await gateway.beforeSubmit?.((input as { jobId: string }).jobId);
        await untilDue(jobs, clock, (input as { jobId: string }).jobId);
        return routes.SubmitStepFunctionArn(input);
      },
      // Simulated time: each poll happens the wait the previous task asked for later (none after an answer that was no task result).
      PollStepFunctionArn: (input) => {
        clock.advance((input as { poll?: { waitSeconds?: number } }).poll?.waitSeconds ?? 0);
        return routes.PollStepFunctionArn(input);
      },
    },
    waitOverrideMs: 0,
    retryOverrideMs: 0,
    // Without EMR events: each wait for the step's end ends at once, as a wait nobody completes or heartbeats ends
    // after polling.heartbeatSeconds, and PollStep looks (the clock moved by the backoff).
    ...(options.stepEvents ? {} : { heartbeatOverrideMs: 0 }),
  });
  sfn.runner = runner;
  const executions = runnerExecutions(runner);
  const queues = options.admission
    ? new ClusterQueues({ config, queues: new DynamoQueueStore(db, dynamo.jobsTable), jobs, audit, workflow: runner, polling: options.polling ?? DEFAULT_POLLING, now: clock.now })
    : undefined;
  if (queues && jobs instanceof ObservedJobStore) jobs.whenEnded(async (job) => void (await gateway.onEnded(job)));
  const reconciler = new Reconciler({ jobs, audit, executions, workflow: executions, tasks: workflow, ...(queues ? { queues } : {}), polling: options.polling ?? DEFAULT_POLLING, now: clock.now });
  const serviceWith = (starter: ConstructorParameters<typeof JobService>[0]['workflow']): JobService =>
    new JobService({ config, engine, jobs, audit, sealer, digests, workflow: starter, tasks: workflow, ...(queues ? { queues } : {}), polling: options.polling ?? DEFAULT_POLLING, now: clock.now });
  const service = serviceWith(runner);
  const gateway: TestGateway = {
    config,
    dynamo,
    emr,
    clock,
    jobs,
    audit,
    sealer,
    digestStore,
    digests,
    digester,
    workflow,
    runner,
    sfn,
    service,
    serviceWith,
    executions,
    reconciler,
    ...(queues ? { queues } : {}),
    onEnded: async (job) => {
      await queues?.released(job);
    },
    assumed,
    sts,
    history(name) {
      const arn = 'arn:aws:states:us-east-1:123456789012:stateMachine:emr-gateway-test';
      const api = new LocalStepFunctions(arn, runner, { roleArn: 'arn:aws:iam::123456789012:role/test-state-machine', creationDate: new Date() });
      const events: Record<string, unknown>[] = [];
      let nextToken: string | undefined;
      do {
        const page = api.getExecutionHistory({ executionArn: `${arn.replace(':stateMachine:', ':execution:')}:${name}`, maxResults: 1000, ...(nextToken ? { nextToken } : {}) }) as { events: Record<string, unknown>[]; nextToken?: string };
        events.push(...page.events);
        nextToken = page.nextToken;
      } while (nextToken);
      return events;
    },
    async finish(jobId) {
      const job = await jobs.get(jobId);
      const execution = runner.executions.get(job ? executionName(job) : jobId);
      if (!execution) throw new Error(`no execution for ${jobId}`);
      await execution.done;
      await Promise.all(lives);
      return jobs.get(jobId);
    },
    async stop() {
      await Promise.allSettled(lives);
      await runner.stop();
      emr.restore();
      await dynamo.stop();
    },
  };
  return gateway;
}

/** The runner's callback API as the tasks reach it through SDK's SendTaskSuccess / SendTaskHeartbeat (SfnWorkflowCallbacks). */
export function runnerCallbacks(runner: () => LocalWorkflowRunner): WorkflowCallbacks {
  // eslint-disable-next-line @typescript-eslint/require-await -- async so that a throw becomes the promise's rejection
  const send = async (call: () => void): Promise<'sent' | 'gone'> => {
    try {
      call();
      return 'sent';
    } catch (error) {
      if (error instanceof LocalServiceError && TASK_GONE_ERRORS.has(error.type)) return 'gone';
      throw error;
    }
  };
  return {
    complete: (token, result) => send(() => runner().sendTaskSuccess(token, JSON.stringify(result))),
    heartbeat: (token) => send(() => runner().sendTaskHeartbeat(token)),
  };
}

/**
 * The local runner's executions as Step Functions shows them to the reconciler: StartExecution by name (a name in
 * use is already started, as SfnWorkflowStarter treats ExecutionAlreadyExists), DescribeExecution by name.
 */
export function runnerExecutions(runner: LocalWorkflowRunner): WorkflowStarter & WorkflowExecutions {
  return {
    start(input, name = input.jobId) {
      runner.run(name, input);
      return Promise.resolve();
    },
    describe(name) {
      const e = runner.executions.get(name);
      return Promise.resolve(e && { status: e.status, ...(e.error ? { error: e.error.error, cause: e.error.cause } : {}) });
    },
  };
}
