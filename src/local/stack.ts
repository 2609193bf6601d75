/**
 * The whole gateway on one machine: dynalite (persisted in the private data directory), the local EMR, Step
 * Functions, STS, KMS (the audit key, kept in the data directory), S3 (its buckets in the data directory) and
 * EventBridge, all on one AWS port, the schedules, and the API front on the gateway port. The gateway's own code
 * runs unchanged against them, through the same SDK clients, as it does in AWS: its functions (the API, the tasks,
 * the step-event target) in the local Lambda runtime's worker thread (functions.ts), the timers' work (reconciler,
 * digests, schedules, triggers) on this one. Restarting keeps jobs, audit
 * trails, the audit key and the buckets, and follows every unfinished job again to its real end.
 */
import { chmodSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CreateBucketCommand, GetObjectLockConfigurationCommand, PutObjectLockConfigurationCommand, type ObjectLockConfiguration, type S3Client } from '@aws-sdk/client-s3';
import definition from '../../statemachines/submit-job.asl.json';
import { destroyClients } from '../adapters/clients';
import { auditTable, jobsTable } from '../adapters/dynamodb/tables';
import { loadEnv, type GatewayEnv } from '../config/env';
import type { GatewayConfig } from '../config/validate';
import { loadConfigFile } from '../config-file/load';
import { createGateway, type Gateway } from '../container';
import { parseLogUri } from '../identifiers';
import { isTerminal } from '../jobs/model';
import type { JobRepository } from '../jobs/ports';
import type { ReconcileRun, Reconciler } from '../jobs/reconciler';
import type { TaskName, WorkflowTask } from '../jobs/task-routes';
import type { PollingPolicy, TaskResult } from '../jobs/workflow-input';
import { logger } from '../util/logger';
import { startApiFront, type ApiFront } from './api-gateway/front';
import { startAwsEndpoint, type AwsEndpoint, type Faults } from './aws-endpoint';
import { ensureLocalTable, openLocalDynamo, repairJobIndexes } from './dynamodb';
import { LocalEmr } from './emr/api';
import { externalIdFor } from './emr/external-id';
import { stepStatusChangeEvent, stepStatusRulePattern } from './emr/step-event';
import { EmrStepCredentials } from './emr/step-credentials';
import { LocalEventBus, type BusEvent } from './events';
import { LocalFunctions } from './functions';
import { LocalTaskConcurrency } from './task-concurrency';
import type { ExchangeListener } from './exchange-tap';
import { LocalIam } from './iam';
import { LOCAL_GATEWAY_ROLE, LOCAL_GATEWAY_SESSION, LOCAL_SESSIONS_ROLE, LOCAL_SUBMITTER_ROLE, seedLocalIam } from './iam-seed';
import { LocalKms } from './kms';
import { acquireStackLock } from './lock';
import { LocalDigestTimer } from './digests';
import { LocalNotifications } from './notifications';
import { LocalSns } from './sns';
import { PeriodicRun } from './periodic';
import { LocalS3 } from './s3';
import { checksumOf } from './s3-checksums';
import type { StepLogSink } from './emr/log-uploader';
import { LocalScheduler } from './scheduler';
import { LocalStepFunctions } from './sfn/api';
import { LocalWorkflowRunner } from './sfn/runner';
import { LocalSts } from './sts';

export interface LocalStackOptions {
  configFile: string;
  /** The gateway API port (0: any free one). */
  port: number;
  /** The local AWS endpoint port (0: any free one). */
  awsPort: number;
  dataDir: string;
  /**
   * DynamoDB in memory (tests, benches, `emr-gateway local --in-memory`): the jobs and audit trails end with the
   * stack. The other emulators still keep their state in `dataDir`, which must then be empty: their steps, keys and
   * digests would otherwise outlive the tables they belong to.
   */
  inMemory?: boolean;
  host?: string;
  faults?: Faults;
  /** Polling of EMR steps: the local stack's steps are quick, so it polls sooner than the AWS defaults. */
  polling?: PollingPolicy;
  /** The environment step processes start from. */
  env: NodeJS.ProcessEnv;
  /** Tests only: told of every exchange of the AWS port (aws-endpoint.ts `onExchange`). */
  onAwsExchange?: ExchangeListener;
}

export interface LocalStack {
  apiUrl: string;
  awsUrl: string;
  region: string;
  account: string;
  config: GatewayConfig;
  gateway: Gateway;
  emr: LocalEmr;
  /** The local IAM (seeded with the runtime-role setup) and STS, which decides with it. */
  iam: LocalIam;
  sts: LocalSts;
  runner: LocalWorkflowRunner;
  /** The local Lambda runtime: the gateway's functions, in a worker thread (functions.ts). */
  functions: LocalFunctions;
  /** The local EventBridge: EMR's step events go through it to the gateway's step-event rule. */
  events: LocalEventBus;
  aws: AwsEndpoint;
  /** The local KMS key that seals the audit trail (its ARN). */
  auditKeyArn: string;
  /** The local KMS key that signs the digests of the chain heads (its ARN). */
  digestKeyArn: string;
  /** The audit digester's timer: `run()` writes a digest now. */
  digests: LocalDigestTimer;
  /** Jobs found unfinished at start: they are followed again in the background (see `startup`). */
  resumed: string[];
  /**
   * The start's work in the background, so that the stack answers at once: every job in `resumed` repaired and
   * followed again (or reported, and left to the next run), and the first audit digest. Never rejects.
   */
  startup: Promise<void>;
  /** The reconciler's timer (every minute): `run()` reconciles now. */
  reconciler: LocalReconcileTimer;
  /** The notifier's runs: `nudge(jobId)` sends a job's deliveries due now. */
  notifications: LocalNotifications;
  stop(): Promise<void>;
}

/**
 * The local stack's executions: a wait for a step's end lasts 3 minutes without a heartbeat (three runs of the
 * local reconciler, which sends them); the backoff is only for executions of the previous definition.
 */
export const LOCAL_POLLING: Required<PollingPolicy> = { initialSeconds: 1, factor: 1.5, maxSeconds: 5, heartbeatSeconds: 180 };
/** The local KMS alias of the stack's audit key (`aws kms describe-key --key-id alias/emr-gateway-audit`). */
export const LOCAL_AUDIT_KEY_ALIAS = 'alias/emr-gateway-audit';
/** The local KMS alias of the digests' signing key (`aws kms get-public-key --key-id alias/emr-gateway-audit-digests`). */
export const LOCAL_DIGEST_KEY_ALIAS = 'alias/emr-gateway-audit-digests';
/** The local S3 bucket of the digests (`aws s3 ls s3://emr-gateway-audit-digests/digests/`). */
export const LOCAL_DIGEST_BUCKET = 'emr-gateway-audit-digests';
/** Object Lock on the local digest bucket: COMPLIANCE, as in AWS, for ten years (remove the data directory to start afresh). */
const LOCAL_DIGEST_RETENTION_DAYS = 3650;
/** Milliseconds the stop gives the last audit digest (the next start writes one anyway). */
const DIGEST_STOP_MS = 2000;
/** How long the stop waits for step events on their way to the gateway (the interrupted steps' among them). */
const STOP_EVENTS_MS = 5000;
/** The local stack's own access key for the gateway's SDK clients (the local AWS endpoint takes any). */
const STACK_CREDENTIALS = { accessKeyId: 'AKIALOCALGATEWAY0000', secretAccessKey: 'local-gateway-secret' };

/**
 * Starts the stack in two phases, because the emulators and the gateway need each other: the gateway's SDK
 * clients need the AWS port's URL, and the emulators call into the gateway (EMR's step events, the state
 * machine's tasks, the triggers). Phase 1 builds the emulators against a GatewayLink and opens the AWS port;
 * phase 2 builds the gateway against that port and connects the link.
 */
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const loaded = loadConfigFile(options.configFile);
  const { config } = loaded;
  const polling = options.polling ?? LOCAL_POLLING;
  const dataDir = privateDirectory(resolve(options.dataDir));
  if (options.inMemory) refuseUsedDirectory(dataDir);
  // One stack per data directory: before anything in it is read or written (a second stack would otherwise
  // settle the first one's running steps, and fail on dynalite's database lock).
  const lock = acquireStackLock(dataDir);
  // Whatever has started is stopped again if a later part fails (a port in use, say): nothing is left running.
  const started: (() => Promise<void> | void)[] = [() => lock.release()];
  try {
    // DynamoDB: dynalite in-process, reached only through the AWS port.
    const dynamo = await openLocalDynamo(options.inMemory ? undefined : privateDirectory(join(dataDir, 'dynamodb')), { arns: { partition: config.partition, region: config.region, account: config.account } });
    started.push(() => dynamo.close());
    // Phase 1: the emulators, calling into the gateway through the link.
    const link = new GatewayLink();
    // The steps' AWS_ENDPOINT_URL, known once the AWS port listens; no step starts before (emr.startSteps below).
    const port: { url?: string } = {};
    // S3: buckets and objects in DATA_DIR/s3 (the audit digests; the step logs, which the local EMR uploads there).
    const s3 = new LocalS3({ dataDir, account: config.account, durable: !options.inMemory });
    const { emr, iam, sts, runner, sfn, events, stateMachineArn } = createEmulators(config, dataDir, options.env, link, () => port.url, stepLogSink(s3));
    started.push(() => emr.stop(), () => runner.stop());
    // The audit key: created at the first start, the same one (by its alias) after every restart.
    const kms = new LocalKms({ dataDir, partition: config.partition, region: config.region, account: config.account });
    const auditKeyArn = kms.ensureKey(LOCAL_AUDIT_KEY_ALIAS, 'emr-step-gateway audit trail (local stack)');
    // The digests' signing key, likewise (an ECC_NIST_P256 key: anyone with its public key can verify a digest).
    const digestKeyArn = kms.ensureKey(LOCAL_DIGEST_KEY_ALIAS, 'emr-step-gateway audit digests (local stack)', 'ECC_NIST_P256');
    // SNS: the topics the notifications publish to, their HTTP subscriptions (DATA_DIR/sns, or memory).
    const sns = new LocalSns({ account: config.account, region: config.region, partition: config.partition, dataDir, url: () => port.url ?? '' });
    started.push(() => sns.stop());
    const aws = await startAwsEndpoint({ port: options.awsPort, emr, sfn, sts, iam, kms, s3, sns, account: config.account, dynamo: dynamo.handle, events, ...(options.host ? { host: options.host } : {}), ...(options.faults ? { faults: options.faults } : {}), ...(options.onAwsExchange ? { onExchange: options.onAwsExchange } : {}) });
    started.push(() => aws.close());
    port.url = aws.url;

    // Phase 2: the gateway, its clients on the AWS port; from here on the emulators reach it.
    const env = localEnv(config, { configFile: options.configFile, stateMachineArn, endpoint: aws.url, polling, auditKeyArn, digestKeyArn });
    const gateway = createGateway(env, { credentials: STACK_CREDENTIALS, loaded });
    // The gateway's functions (the API, the tasks, the step-event target) run in the local Lambda runtime's worker thread.
    const functions = await LocalFunctions.start({ env, credentials: STACK_CREDENTIALS });
    started.push(() => functions.stop());
    link.connect(gateway, functions);
    // The notifications' topics exist, as the deployment creates them (those of this account and region).
    ensureNotificationTopics(sns, config);
    // The clusters' log buckets exist before any step runs, as EMR needs its LogUri's bucket to exist.
    ensureLogBuckets(s3, config);
    // The steps left pending, and any added from here on, start now: the AWS port their credentials are for listens.
    emr.startSteps();
    for (const table of [jobsTable(gateway.env.jobsTable), auditTable(gateway.env.auditTable)]) await ensureLocalTable(gateway.clients.dynamodb, table, dataDir);
    await ensureDigestBucket(gateway.clients.s3, gateway.env.digestBucket);

    const front: ApiFront = await startApiFront({
      port: options.port,
      ...(options.host ? { host: options.host } : {}),
      region: config.region,
      account: config.account,
      credentials: config.local.credentials,
      handler: (event) => functions.api(event),
    });
    started.push(() => front.close());
    lock.update({ apiUrl: front.url, awsUrl: aws.url });

    // The jobs left unfinished are followed again as the reconciler's first run, in the background: the stack
    // answers at once, however many a crash under load left (each one is a few audited writes). Then every
    // minute, as the schedule runs it in AWS: no job is left behind while the stack runs either.
    const reconciler = new LocalReconcileTimer(() => gateway.reconciler());
    started.push(() => reconciler.stop());
    const resumed = await unfinishedJobIds(gateway.jobs);
    const resuming = reconciler.resume(resumed, (ids, signal) => repairJobIndexes(gateway.clients.dynamodb, gateway.env.jobsTable, ids, signal));
    reconciler.start();
    const scheduler = new LocalScheduler(config.schedules, (name, time) => gateway.triggers().fireSchedule(name, time));
    // A digest of the chain heads now, in the background (what the last run left), every minute, and at stop.
    const digests = new LocalDigestTimer(() => gateway.digester());
    // The notifications: what a stop or crash left undelivered goes now, then as each write makes one due.
    const notifications = new LocalNotifications(() => gateway.notifier(front.url));
    functions.onDeliveriesDue = (jobId) => notifications.nudge(jobId);
    const startup = Promise.all([resuming, digests.start(), notifications.start()]).then(() => undefined);

    return {
      apiUrl: front.url,
      awsUrl: aws.url,
      region: config.region,
      account: config.account,
      config,
      gateway,
      emr,
      iam,
      sts,
      runner,
      functions,
      events,
      aws,
      auditKeyArn,
      digestKeyArn,
      digests,
      resumed,
      startup,
      reconciler,
      notifications,
      stop: once(async () => {
        // In this order, each part bounded, each failure logged and the rest stopped all the same:
        await stopPart('the schedules', () => scheduler.stop());
        await stopPart('the reconciler', () => reconciler.stop());
        // The API's requests in progress finish (they may still start workflows); later ones get a 503.
        await stopPart('the API front', () => front.close());
        // The workflow tasks waiting for a turn are not run: their executions are aborted below.
        link.tasks.stop();
        // No step starts any more; the running ones end, recorded INTERRUPTED (their events delivered, below).
        await stopPart('the local EMR', () => emr.stop());
        // The step events on their way reach the gateway; none is retried after this.
        await stopPart('the local EventBridge', () => events.stop(), STOP_EVENTS_MS);
        // Every workflow aborted, and any started from here on (a request to the AWS port) aborted at once.
        await stopPart('the local Step Functions', () => runner.stop());
        // The functions' last calls end, and their SDK clients close.
        await stopPart('the local Lambda runtime', () => functions.stop());
        // The deliveries in progress end (a backoff wait is cut short: the next start sends what is left).
        await stopPart('the notifications', () => notifications.stop());
        await stopPart('the local SNS', () => sns.stop());
        // The last digest records what the stack did up to here, before its stores close.
        await stopPart('the audit digests', () => digests.stop(), DIGEST_STOP_MS);
        await stopPart('the AWS port', () => aws.close());
        // No connection to the AWS port outlives the stack (another stack may take the port next).
        await stopPart('the SDK clients', () => destroyClients(gateway.clients));
        await stopPart('the local DynamoDB', () => dynamo.close());
        lock.release();
      }),
    };
  } catch (error) {
    for (const stop of started.reverse()) {
      await Promise.resolve(stop()).catch((cleanup: unknown) => logger.warn('local stack: could not stop a part after a failed start', { error: cleanup }));
    }
    throw error;
  }
}

/** `run` once: a second call (a second signal, say) gets the first call's promise. */
function once(run: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  return () => (running ??= run());
}

/**
 * Stops one part of the stack; a failure is logged, so that the parts after it still stop, and so is a part
 * that takes longer than `boundMs` (if given), which the stop then leaves behind.
 */
async function stopPart(part: string, stop: () => Promise<void> | void, boundMs?: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    if (boundMs !== undefined) timer = setTimeout(() => resolve('late'), boundMs);
  });
  try {
    if ((await Promise.race([Promise.resolve(stop()), late])) === 'late') logger.warn(`local stack: stopping ${part} took more than ${boundMs} ms; going on without it`);
  } catch (error) {
    logger.warn(`local stack: stopping ${part} failed`, { error });
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The data directory holds what the stack trusts on its next start (jobs it runs again, audit trails, step
 * logs): only its owner may read or write it. Created 0700; an existing one is tightened to 0700.
 */
/** An in-memory stack's data directory holds nothing yet (see LocalStackOptions.inMemory). */
function refuseUsedDirectory(dataDir: string): void {
  const used = readdirSync(dataDir).sort();
  if (used.length) throw new Error(`an in-memory stack needs an empty data directory; ${dataDir} holds ${used.join(', ')} (leave out --data-dir: a fresh temporary one is used)`);
}

function privateDirectory(dir: string): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const stat = statSync(dir);
  if (!stat.isDirectory()) throw new Error(`the data directory ${dir} is not a directory`);
  const uid = process.getuid?.();
  if (uid !== undefined && stat.uid !== uid) throw new Error(`the data directory ${dir} belongs to another user (uid ${stat.uid}); choose another with --data-dir`);
  if (stat.mode & 0o077) chmodSync(dir, 0o700);
  return dir;
}

/**
 * The emulators' way to the gateway, connected once the gateway exists. Nothing can call through before: the
 * AWS port serves no request and no step starts before startLocalStack has connected the link, and a step event
 * announced earlier waits for it.
 */
class GatewayLink {
  /** The local Lambda service's turns for the state machine's tasks (task-concurrency.ts). */
  readonly tasks = new LocalTaskConcurrency();
  private connected?: { gateway: Gateway; functions: LocalFunctions };
  private connectedNow: () => void = () => undefined;
  private readonly ready = new Promise<void>((resolve) => (this.connectedNow = resolve));

  connect(gateway: Gateway, functions: LocalFunctions): void {
    this.connected = { gateway, functions };
    this.connectedNow();
  }

  gateway(): Gateway {
    return this.wired().gateway;
  }

  /** The state machine's Task `name`: the gateway's step task of that name, in the local Lambda runtime. */
  task(name: TaskName): WorkflowTask {
    return (input) => this.tasks.invoke(() => this.wired().functions.invoke(name, input) as Promise<TaskResult>);
  }

  /**
   * EMR's step event, as the EMR step-event rule's Lambda target (handlers/step-events.ts emrStepEvent) takes it.
   * One announced before the gateway exists (a step a killed stack left running, INTERRUPTED as the EMR starts)
   * waits for it, as an event waits in EventBridge for its target.
   */
  async stepEvent(event: Record<string, unknown>): Promise<unknown> {
    await this.ready;
    return this.wired().functions.invoke('stepEvent', event);
  }

  private wired(): NonNullable<GatewayLink['connected']> {
    if (!this.connected) throw new Error('the local stack is not wired yet: the gateway does not exist');
    return this.connected;
  }
}

/**
 * Phase 1: EMR (with the configured clusters), IAM (seeded for them) and STS, Step Functions over the ASL, EventBridge.
 * EMR's steps are held until `emr.startSteps()`: their credentials come from the STS made here after it, for the AWS
 * port at `awsUrl`, which listens only later.
 */
function createEmulators(config: GatewayConfig, dataDir: string, env: NodeJS.ProcessEnv, link: GatewayLink, awsUrl: () => string | undefined, logSink: StepLogSink) {
  // First: the EMR announces changes from its construction on (steps a killed stack left running end INTERRUPTED).
  // The rule serverless.yml deploys for the clusters' step events, its target the gateway's step-event handler.
  const stepRule = { name: 'emr-gateway-step-status', eventPattern: stepStatusRulePattern(config.clusters.map((c) => c.id)), target: (event: BusEvent) => link.stepEvent(event) };
  const events = new LocalEventBus(config, (name, event) => link.gateway().triggers().fireEvent(name, event), [stepRule]);
  const clusterNames = new Map(config.clusters.map((c) => [c.id, c.name ?? c.id]));
  // EMR puts a cluster's step events on its own account's default bus: the local EventBridge is the gateway account's,
  // and nothing forwards another account's to it (in AWS a rule in that account would), so those never arrive here.
  const ownAccountClusters = new Set(config.clusters.filter((c) => (c.account ?? config.account) === config.account).map((c) => c.id));
  const emr = new LocalEmr({
    dataDir,
    region: config.region,
    account: config.account,
    partition: config.partition,
    env,
    // EMR's "Step Status Change" events go onto the local EventBridge, whose rule delivers them to the gateway.
    onStepChange: (step) => {
      if (ownAccountClusters.has(step.clusterId)) events.publishServiceEvent(stepStatusChangeEvent(step, clusterNames.get(step.clusterId) ?? step.clusterId));
    },
    holdSteps: true,
    stepCredentials: (step, cluster, securityConfiguration) => stepCredentials.forStep(step, cluster, securityConfiguration),
    runtimeRoleCredentials: (request, cluster, securityConfiguration) => stepCredentials.forRuntimeRole(request, cluster, securityConfiguration),
    stepEndpointUrl: awsUrl,
    // EMR's log pusher: each step's logs, gzipped, under its cluster's LogUri in the local S3.
    stepLogSink: logSink,
  });
  for (const c of config.clusters) emr.ensureCluster(c);
  const iam = new LocalIam({ dataDir, partition: config.partition, account: config.account });
  // Each other account of the clusters gets an IAM of its own (roles are per account: both may have EMR_EC2_DefaultRole).
  const accounts = new Map(
    [...new Set(config.clusters.flatMap((c) => (c.account && c.account !== config.account ? [c.account] : [])))].map((account) => [
      account,
      new LocalIam({ dataDir: join(dataDir, 'accounts', account), partition: config.partition, account }),
    ]),
  );
  seedLocalIam(iam, config, (clusterId) => {
    const name = emr.clusters.get(clusterId)?.securityConfiguration;
    const securityConfiguration = name === undefined ? undefined : emr.securityConfigurations.get(name);
    return securityConfiguration && externalIdFor(securityConfiguration, securityConfiguration.account ?? config.account);
  }, accounts);
  // Who signs with which key: the stack's own credentials are a session of the gateway's role; the demo users are theirs.
  const gatewaySession = `arn:${config.partition}:sts::${config.account}:assumed-role/${LOCAL_GATEWAY_ROLE}/${LOCAL_GATEWAY_SESSION}`;
  const credentials = [{ accessKeyId: STACK_CREDENTIALS.accessKeyId, principal: gatewaySession }, ...config.local.credentials];
  const sts = new LocalSts({ account: config.account, partition: config.partition, iam, accounts, credentials });
  const stepCredentials = new EmrStepCredentials({ sts, iam, account: config.account });
  const runner = new LocalWorkflowRunner({
    definition,
    routes: {
      SubmitStepFunctionArn: link.task('SubmitStepFunctionArn'),
      WatchStepFunctionArn: link.task('WatchStepFunctionArn'),
      PollStepFunctionArn: link.task('PollStepFunctionArn'),
      FailJobFunctionArn: link.task('FailJobFunctionArn'),
    },
    // In the config's account and region, as DefinitionSubstitutions name the deployed functions.
    functionArn: (placeholder) => `arn:${config.partition}:lambda:${config.region}:${config.account}:function:emr-gateway-${placeholder.replace(/FunctionArn$/, '')}`,
  });
  const stateMachineArn = `arn:${config.partition}:states:${config.region}:${config.account}:stateMachine:emr-gateway-submit-job`;
  const sfn = new LocalStepFunctions(stateMachineArn, runner, { roleArn: `arn:${config.partition}:iam::${config.account}:role/emr-gateway-state-machine`, creationDate: new Date() });
  return { emr, iam, sts, runner, sfn, events, stateMachineArn };
}

/**
 * Phase 2's environment: what packaging sets for the Lambda functions, with the local table names, the
 * local state machine and the AWS port, read through the same schema (loadEnv) as in AWS.
 */
function localEnv(config: GatewayConfig, local: { configFile: string; stateMachineArn: string; endpoint: string; polling: PollingPolicy; auditKeyArn: string; digestKeyArn: string }): GatewayEnv {
  return loadEnv({
    AWS_REGION: config.region,
    EMR_GATEWAY_CONFIG: local.configFile,
    JOBS_TABLE: 'emr-gateway-jobs',
    AUDIT_TABLE: 'emr-gateway-audit',
    AUDIT_KEY_ID: local.auditKeyArn,
    DIGEST_BUCKET: LOCAL_DIGEST_BUCKET,
    DIGEST_KEY_ID: local.digestKeyArn,
    STATE_MACHINE_ARN: local.stateMachineArn,
    SUBMITTER_ROLE_ARN: `arn:${config.partition}:iam::${config.account}:role/${LOCAL_SUBMITTER_ROLE}`,
    SESSION_ROLE_ARN: `arn:${config.partition}:iam::${config.account}:role/${LOCAL_SESSIONS_ROLE}`,
    AWS_ENDPOINT_URL: local.endpoint,
    POLL_INITIAL_SECONDS: String(local.polling.initialSeconds),
    POLL_FACTOR: String(local.polling.factor),
    POLL_MAX_SECONDS: String(local.polling.maxSeconds),
    POLL_HEARTBEAT_SECONDS: String(local.polling.heartbeatSeconds ?? LOCAL_POLLING.heartbeatSeconds),
  });
}

/** The configuration's SNS topics of the stack's account and region, created if missing (CreateTopic is idempotent). */
function ensureNotificationTopics(sns: LocalSns, config: GatewayConfig): void {
  for (const n of config.notifications) {
    const arn = n.sns?.topicArn;
    if (!arn) continue;
    const name = arn.split(':')[5]!;
    if (sns.topicArn(name) === arn) sns.createTopic(name, name.endsWith('.fifo') ? { FifoTopic: 'true' } : {});
    else logger.warn('local stack: a notification\'s topic is in another account or region; the local SNS has none there', { notification: n.name, topicArn: arn });
  }
}

/** The local S3 as the local EMR's log pusher writes to it (as EMR does, with its own credentials, not the gateway's). */
function stepLogSink(s3: LocalS3): StepLogSink {
  return {
    put: (bucket, key, body) => {
      s3.putObject(bucket, key, body, { contentType: 'application/octet-stream', headers: {}, metadata: {}, checksum: { algorithm: 'CRC64NVME', value: checksumOf('CRC64NVME', body) } });
    },
  };
}

/** The buckets of the clusters' LogUris (in AWS they exist before the cluster does), through the S3 API. */
function ensureLogBuckets(s3: LocalS3, config: GatewayConfig): void {
  // Each in the account of its cluster (a bucket of another account is that account's alone), made in the store directly
  // as the cluster's owners make theirs: they are not the gateway's buckets.
  for (const cluster of config.clusters) {
    if (cluster.logUri === undefined) continue;
    const { bucket } = parseLogUri(cluster.logUri);
    try {
      s3.createBucket(bucket, { region: config.region, objectLock: false, owner: cluster.account ?? config.account, ...(config.region === 'us-east-1' ? {} : { locationConstraint: config.region }) });
    } catch (error) {
      if ((error as { type?: string }).type === 'BucketAlreadyOwnedByYou') continue;
      if ((error as { type?: string }).type === 'BucketAlreadyExists') throw new Error(`clusters[${cluster.id}].logUri: bucket ${bucket} belongs to another account than the cluster's (${cluster.account ?? config.account}): each account's clusters need their own log bucket`, { cause: error });
      throw error;
    }
  }
}

/**
 * The digest bucket, through the same S3 API as in AWS (where CloudFormation creates it): created with Object
 * Lock and a COMPLIANCE default retention at the first start. A bucket of that name without Object Lock (S3
 * answers 200 to creating a bucket one already owns, without changing it) is refused: its digests could be
 * overwritten.
 */
async function ensureDigestBucket(s3: S3Client, bucket: string): Promise<void> {
  await s3.send(new CreateBucketCommand({ Bucket: bucket, ObjectLockEnabledForBucket: true }));
  let lock: ObjectLockConfiguration | undefined;
  try {
    lock = (await s3.send(new GetObjectLockConfigurationCommand({ Bucket: bucket }))).ObjectLockConfiguration;
  } catch (error) {
    if ((error as { name?: string }).name !== 'ObjectLockConfigurationNotFoundError') throw error;
  }
  if (lock?.ObjectLockEnabled !== 'Enabled') throw new Error(`the local S3 bucket ${bucket} has no Object Lock: move the data directory's s3/${bucket} away to start with a new one`);
  if (!lock.Rule?.DefaultRetention) {
    await s3.send(new PutObjectLockConfigurationCommand({ Bucket: bucket, ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: LOCAL_DIGEST_RETENTION_DAYS } } } }));
  }
}

/**
 * At start, every job not yet in a terminal state is followed again. The local Step Functions keeps no execution
 * across a restart, so each has vanished: the reconciler (the same as in AWS, with no idle time: nothing else runs
 * them yet) starts each again under its execution name, audited. They are found in the jobs table itself, not
 * through an index: dynalite writes a job's index entries and its item separately, so a kill can leave a job in no
 * status index at all, or an entry of a job that does not exist. `repair` first writes each one's index entries
 * again (a job's entries go missing only while it changes state, i.e. while it is unfinished). Returns the jobs
 * followed again.
 */
export async function resumeUnfinished(jobs: JobRepository, reconciler: Pick<Reconciler, 'run'>, repair?: (jobIds: string[]) => Promise<void>): Promise<string[]> {
  return followAgain(reconciler, repair, repair ? await unfinishedJobIds(jobs) : []);
}

/** `repair` the indexes of `jobIds` (unfinished at start), then one reconciler run with no idle time; the jobs it followed again. */
async function followAgain(reconciler: Pick<Reconciler, 'run'>, repair: ((jobIds: string[]) => Promise<void>) | undefined, jobIds: string[], signal?: AbortSignal): Promise<string[]> {
  if (repair) await repair(jobIds);
  const run = await reconciler.run({ idleSeconds: 0, ...(signal ? { signal } : {}) });
  for (const failure of run.errors) logger.warn('local stack: a job could not be followed again at start (the reconciler tries again every minute)', { ...failure });
  return run.repaired.map((r) => r.jobId);
}

/** The jobs the table holds unfinished (a Scan of the table itself, not of an index). */
export async function unfinishedJobIds(jobs: Pick<JobRepository, 'unfinished'>): Promise<string[]> {
  const jobIds: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await jobs.unfinished(cursor);
    // Not the ended ones still holding a wait's token: the reconciler completes those, but they are not followed again.
    jobIds.push(...page.jobs.filter((j) => !isTerminal(j.status)).map((j) => j.jobId));
    cursor = page.cursor;
  } while (cursor !== undefined);
  return jobIds;
}

/** Idle time before the local reconciler repairs a job: the local stack polls every few seconds, a minute is long. */
export const LOCAL_RECONCILE_IDLE_SECONDS = 60;

/** The reconciler on the local stack: every minute, one run at a time, stopped with the stack before its stores. */
export class LocalReconcileTimer {
  /** Aborted by stop: a run (the resume at start among them) looks at no further job, so a stop is quick. */
  private readonly stopping = new AbortController();
  private readonly periodic: PeriodicRun<{ idleSeconds?: number }, ReconcileRun>;

  constructor(private readonly reconciler: () => Pick<Reconciler, 'run'>, intervalMs = 60_000) {
    this.periodic = new PeriodicRun('the reconciler', async (options) => {
      const run = await reconciler().run({ idleSeconds: options.idleSeconds ?? LOCAL_RECONCILE_IDLE_SECONDS, signal: this.stopping.signal });
      for (const repair of run.repaired) logger.info('local stack: job reconciled', { ...repair });
      for (const failure of run.errors) logger.warn('local stack: job not reconciled (the next run tries again)', { ...failure });
      return run;
    }, intervalMs);
  }

  start(): void {
    this.periodic.startTimer();
  }

  /**
   * At start: the jobs a previous stack left unfinished have their indexes repaired, then the reconciler follows
   * each again (no idle time: nothing else runs them yet), as a run of this timer, so no periodic run overlaps it
   * and a stop waits for it. Settles when done; a failure is logged (the next run tries again), not thrown.
   */
  async resume(jobIds: string[], repair: (jobIds: string[], signal: AbortSignal) => Promise<void>): Promise<void> {
    if (!jobIds.length) return;
    const started = Date.now();
    const followed = await this.periodic.runWith(() => followAgain(this.reconciler(), (ids) => repair(ids, this.stopping.signal), jobIds, this.stopping.signal));
    if (followed) logger.info('local stack: the unfinished jobs are followed again', { found: jobIds.length, followed: followed.length, ms: Date.now() - started });
  }

  /** A run after any run in progress; its failure is logged (the next run tries again), not thrown. */
  run(options: { idleSeconds?: number } = {}): Promise<ReconcileRun | undefined> {
    return this.periodic.run(options);
  }

  /** No run after this one; waits for the run in progress. */
  stop(): Promise<void> {
    this.stopping.abort();
    return this.periodic.stop();
  }
}
