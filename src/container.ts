/**
 * The composition root: SDK clients (built once per cold start from the environment, in adapters/), the
 * adapters over them, and the domain objects over the adapters. Handlers ask for what they need; tests and
 * the local stack build their own.
 */
import { awsClients, type AwsClients, type AwsTarget } from './adapters/clients';
import { DynamoAuditStore } from './adapters/dynamodb/audit-store';
import { DynamoJobStore } from './adapters/dynamodb/job-store';
import { SdkEmrSteps, submitClientFactory } from './adapters/emr/emr-steps';
import { KmsAuditSealer } from './adapters/kms/audit-sealer';
import { KmsDigestSigner } from './adapters/kms/digest-signer';
import { S3DigestStore } from './adapters/s3/digest-store';
import { SfnWorkflowCallbacks } from './adapters/sfn/workflow-callbacks';
import { SfnWorkflowExecutions } from './adapters/sfn/workflow-executions';
import { SfnWorkflowStarter } from './adapters/sfn/workflow-starter';
import { AuditDigester, DigestVerifier } from './audit/digester';
import type { AuditSealer } from './audit/ports';
import { loadEnv, type GatewayEnv } from './config/env';
import { loadConfigJsonFile, type LoadedConfig } from './config/validate';
import { ConfigError } from './errors';
import { jobLogKeys, type Job } from './jobs/model';
import type { AuditLog, JobRepository } from './jobs/ports';
import { Reconciler } from './jobs/reconciler';
import { JobService } from './jobs/service';
import { StepTasks } from './jobs/step-tasks';
import { TriggerService } from './triggers/service';
import { logger } from './util/logger';

export interface Gateway {
  env: GatewayEnv;
  clients: AwsClients;
  loaded: LoadedConfig;
  jobs: JobRepository;
  audit: AuditLog;
  /** The audit key (KMS): seals every event, verifies trails read back. */
  sealer: AuditSealer;
  tasks: StepTasks;
  /** The digests of the chain heads: written by the digester, read by every audit read. */
  digests: DigestVerifier;
  digester(): AuditDigester;
  /** Needs STATE_MACHINE_ARN: only the API, trigger and reconcile functions have it. */
  service(): JobService;
  /** The reconciler of jobs no execution follows (needs STATE_MACHINE_ARN). */
  reconciler(): Reconciler;
  triggers(): TriggerService;
}

/**
 * In AWS the configuration is the JSON that packaging wrote (validated again here); the local stack passes
 * the configuration it loaded from YAML, and `credentials` (its endpoint accepts any; in AWS the Lambda
 * role's are used).
 */
export interface GatewayOptions {
  credentials?: AwsTarget['credentials'];
  loaded?: LoadedConfig;
  /** Told of each job a task works on. Lambda puts its ids in the log keys; the local stack, running many jobs in one process, does not. */
  observeJob?: (job: Job) => void;
}

export function createGateway(env: GatewayEnv = loadEnv(), options: GatewayOptions = {}): Gateway {
  const loaded = options.loaded ?? loadConfigJsonFile(env.configFile);
  if (loaded.config.clusters.some((c) => c.propagateSourceIdentity) && !env.submitterRoleArn) {
    throw new ConfigError([{ file: 'environment', path: 'SUBMITTER_ROLE_ARN', message: 'is required: a cluster propagates source identity' }]);
  }
  const target: AwsTarget = { region: env.region, ...(env.endpoint ? { endpoint: env.endpoint } : {}), ...(options.credentials ? { credentials: options.credentials } : {}) };
  const clients = awsClients(target);
  const jobs = new DynamoJobStore(clients.dynamodb, env.jobsTable);
  const sealer = new KmsAuditSealer(clients.kms, env.auditKeyId);
  const audit = new DynamoAuditStore(clients.dynamodb, env.auditTable, sealer);
  const emrSteps = new SdkEmrSteps(clients.emr, clients.sts, loaded.config.clusters, env.submitterRoleArn, submitClientFactory(target));
  const tasks = new StepTasks({ jobs, audit, emr: emrSteps, callbacks: new SfnWorkflowCallbacks(clients.sfn), sealer, config: loaded.config, ...(options.observeJob ? { observe: options.observeJob } : {}) });
  const digestStore = new S3DigestStore(clients.s3, env.digestBucket);
  const digestSigner = new KmsDigestSigner(clients.kms, env.digestKeyId);
  const digests = new DigestVerifier(digestStore, digestSigner);
  let service: JobService | undefined;
  let triggers: TriggerService | undefined;
  return {
    env,
    clients,
    loaded,
    jobs,
    audit,
    sealer,
    tasks,
    digests,
    digester: () => new AuditDigester({ heads: jobs, store: digestStore, signer: digestSigner }),
    reconciler() {
      if (!env.stateMachineArn) throw new ConfigError([{ file: 'environment', path: 'STATE_MACHINE_ARN', message: 'is required by the reconciler' }]);
      const executions = new SfnWorkflowExecutions(clients.sfn, env.stateMachineArn);
      return new Reconciler({ jobs, audit, executions, workflow: new SfnWorkflowStarter(clients.sfn, env.stateMachineArn), tasks, polling: env.polling });
    },
    service() {
      if (!env.stateMachineArn) throw new ConfigError([{ file: 'environment', path: 'STATE_MACHINE_ARN', message: 'is required by the API' }]);
      service ??= new JobService({
        config: loaded.config,
        engine: loaded.engine,
        jobs,
        audit,
        sealer,
        digests,
        workflow: new SfnWorkflowStarter(clients.sfn, env.stateMachineArn),
        tasks,
        polling: env.polling,
      });
      return service;
    },
    triggers() {
      triggers ??= new TriggerService(loaded.config, this.service(), audit);
      return triggers;
    },
  };
}

let cached: Gateway | undefined;
/** The gateway of this Lambda container: created on first use, kept for the container's life. */
export const gateway = (): Gateway => (cached ??= createGateway(loadEnv(), { observeJob: (job) => logger.appendKeys(jobLogKeys(job)) }));
