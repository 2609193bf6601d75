/**
 * The part every function builds first: the environment, the configuration, the job and audit stores, the audit key.
 * The composition is split by part (this folder), each module importing only its own adapters, so that a Lambda
 * function's bundle holds only the parts it uses and requires only their SDK packages (esbuild keeps every
 * `require` of an external package a bundled module imports, used or not). src/container.ts assembles all of them.
 */
import type { AwsClients, AwsTarget } from '../adapters/clients';
import { DynamoAuditStore } from '../adapters/dynamodb/audit-store';
import { DynamoJobStore } from '../adapters/dynamodb/job-store';
import { KmsAuditSealer } from '../adapters/kms/audit-sealer';
import { dynamodbClient } from '../adapters/sdk-clients/dynamodb';
import { kmsClient } from '../adapters/sdk-clients/kms';
import { loadEnv, type GatewayEnv } from '../config/env';
import { loadPackagedConfig } from '../config/packaged';
import type { GatewayConfig, LoadedConfig } from '../config/validate';
import { ConfigError } from '../errors';
import { isTerminal, jobLogKeys, type Job } from '../jobs/model';
import { logger } from '../util/logger';

/**
 * In AWS the configuration is the JSON that packaging wrote (its schema checked again here, config/packaged.ts);
 * the local stack passes the configuration it loaded from YAML, validated and compiled, and `credentials` (its
 * endpoint accepts any; in AWS the Lambda role's are used).
 */
export interface GatewayOptions {
  credentials?: AwsTarget['credentials'];
  loaded?: LoadedConfig;
  /** Told of each job a task works on. Lambda puts its ids in the log keys; the local stack, running many jobs in one process, does not. */
  observeJob?: (job: Job) => void;
  /**
   * Told of each job a write of this process left with a delivery due that no notifier holds: the local stack's
   * stand-in for the jobs table's stream, which in AWS starts the notify function.
   */
  onDeliveriesDue?: (jobId: string) => void;
}

export interface Core {
  env: GatewayEnv;
  target: AwsTarget;
  config: GatewayConfig;
  /** The DynamoDB client the stores share (the session store too: sessions live in the jobs table). */
  dynamodb: AwsClients['dynamodb'];
  kms: AwsClients['kms'];
  jobs: ObservedJobStore;
  audit: DynamoAuditStore;
  sealer: KmsAuditSealer;
  options: GatewayOptions;
}

/** The configuration is loaded (and the environment checked against it) before any client is built. */
export function createCore(env: GatewayEnv, options: GatewayOptions, clients: (target: AwsTarget) => Pick<AwsClients, 'dynamodb' | 'kms'>): Core {
  const config = options.loaded?.config ?? loadPackagedConfig(env.configFile);
  if (config.clusters.some((c) => c.propagateSourceIdentity) && !env.submitterRoleArn) {
    throw new ConfigError([{ file: 'environment', path: 'SUBMITTER_ROLE_ARN', message: 'is required: a cluster propagates source identity' }]);
  }
  const target: AwsTarget = { region: env.region, ...(env.endpoint ? { endpoint: env.endpoint } : {}), ...(options.credentials ? { credentials: options.credentials } : {}) };
  const { dynamodb, kms } = clients(target);
  const due = options.onDeliveriesDue;
  const jobs = new ObservedJobStore(dynamodb, env.jobsTable, due);
  const sealer = new KmsAuditSealer(kms, env.auditKeyId);
  const audit = new DynamoAuditStore(dynamodb, env.auditTable, sealer);
  return { env, target, config, dynamodb, kms, jobs, audit, sealer, options };
}

/**
 * The job store, telling of each write that leaves a delivery due and unheld (as a stream record with notifyAt would,
 * for the local stack), and of each job's end (its place in the cluster's admission is given back: composition/queues.ts).
 */
export class ObservedJobStore extends DynamoJobStore {
  private ended: ((job: Job) => Promise<void>) | undefined;

  constructor(db: AwsClients['dynamodb'], table: string, private readonly due?: (jobId: string) => void, now?: () => Date) {
    super(db, table, now);
  }

  /** Who is told of each job's end (once per core: the admission of the functions that end jobs). */
  whenEnded(listener: (job: Job) => Promise<void>): void {
    this.ended = listener;
  }

  private tell(job: Job | undefined): void {
    if (this.due && job?.notifyDue?.some((d) => !d.lease)) this.due(job.jobId);
  }
  override async create(job: Job): Promise<boolean> {
    const created = await super.create(job);
    if (created) this.tell(job);
    return created;
  }
  override async update(job: Job, changes: Parameters<DynamoJobStore['update']>[1]): Promise<Job | undefined> {
    const next = await super.update(job, changes);
    if ('notifyDue' in changes) this.tell(next);
    // Awaited, so a Lambda is not frozen halfway; never failing the write that ended the job (the sweep repairs).
    if (next && this.ended && isTerminal(next.status) && !isTerminal(job.status)) await this.ended(next);
    return next;
  }
}

// The Lambda container's parts (here and in the other modules of this folder): each created on first use, from the
// environment, and kept for the container's life, shared by whatever asks for it. Plain functions over module-level
// caches: a call at the top level of a module (a `once(...)` helper) would be kept by the bundler, with all it references.
let core: Core | undefined;

export const lambdaCore = (): Core =>
  (core ??= createCore(loadEnv(), { observeJob: (job) => logger.appendKeys(jobLogKeys(job)) }, (target) => ({ dynamodb: dynamodbClient(target), kms: kmsClient(target) })));
