/**
 * The composition root: SDK clients, built once per cold start from the environment, and the domain objects
 * over them. Handlers ask for what they need; tests and the local stack build their own.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EMRClient } from '@aws-sdk/client-emr';
import { SFNClient } from '@aws-sdk/client-sfn';
import { STSClient } from '@aws-sdk/client-sts';
import { AuditStore } from './audit/store';
import { clientConfig, type AwsTarget } from './aws/clients';
import { StsEmrAccess, submitClientFactory } from './aws/emr-access';
import { SfnWorkflowStarter } from './aws/sfn-starter';
import { loadConfigJsonFile, type LoadedConfig } from './config/validate';
import { loadEnv, type GatewayEnv } from './config/env';
import { ConfigError } from './errors';
import { JobService } from './jobs/service';
import { JobStore } from './jobs/store';
import { JobWorkflow } from './jobs/workflow';
import { TriggerService } from './triggers/service';

export interface Gateway {
  env: GatewayEnv;
  db: DynamoDBClient;
  loaded: LoadedConfig;
  jobs: JobStore;
  audit: AuditStore;
  workflow: JobWorkflow;
  /** Needs STATE_MACHINE_ARN: only the API and trigger functions have it. */
  service(): JobService;
  triggers(): TriggerService;
}

/**
 * In AWS the configuration is the JSON that packaging wrote (validated again here); the local stack passes
 * the configuration it loaded from YAML, and `credentials` (its endpoint accepts any; in AWS the Lambda
 * role's are used).
 */
export function createGateway(env: GatewayEnv = loadEnv(), options: { credentials?: AwsTarget['credentials']; loaded?: LoadedConfig } = {}): Gateway {
  const loaded = options.loaded ?? loadConfigJsonFile(env.configFile);
  if (loaded.config.clusters.some((c) => c.propagateSourceIdentity) && !env.submitterRoleArn) {
    throw new ConfigError([{ file: 'environment', path: 'SUBMITTER_ROLE_ARN', message: 'is required: a cluster propagates source identity' }]);
  }
  const target: AwsTarget = { region: env.region, ...(env.endpoint ? { endpoint: env.endpoint } : {}), ...(options.credentials ? { credentials: options.credentials } : {}) };
  const aws = clientConfig(target);
  const db = new DynamoDBClient(aws);
  const jobs = new JobStore(db, env.jobsTable);
  const audit = new AuditStore(db, env.auditTable);
  const workflow = new JobWorkflow(jobs, audit, new StsEmrAccess(new EMRClient(aws), new STSClient(aws), loaded.config, env.submitterRoleArn, submitClientFactory(target)));
  let service: JobService | undefined;
  let triggers: TriggerService | undefined;
  return {
    env,
    db,
    loaded,
    jobs,
    audit,
    workflow,
    service() {
      if (!env.stateMachineArn) throw new ConfigError([{ file: 'environment', path: 'STATE_MACHINE_ARN', message: 'is required by the API' }]);
      service ??= new JobService({
        config: loaded.config,
        engine: loaded.engine,
        jobs,
        audit,
        workflow: new SfnWorkflowStarter(new SFNClient(aws), env.stateMachineArn),
        tasks: workflow,
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
export const gateway = (): Gateway => (cached ??= createGateway());
