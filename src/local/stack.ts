/**
 * The whole gateway on one machine: dynalite (persisted in the data directory), the local EMR, Step Functions
 * and STS on one AWS port, and the API front on the gateway port. The gateway's own code runs unchanged
 * against them, through the same SDK clients, as it does in AWS. Restarting keeps jobs and audit trails and
 * follows every unfinished job again to its real end.
 */
import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import { join, resolve } from 'node:path';
import dynalite from 'dynalite';
import { version } from '../../package.json';
import definition from '../../statemachines/submit-job.asl.json';
import { auditTable, ensureTable, jobsTable } from '../adapters/dynamodb/tables';
import { loadConfigFile, type GatewayConfig } from '../config/load';
import { createGateway, type Gateway } from '../container';
import { createApiHandler } from '../http/api';
import { openApiDocument } from '../http/openapi';
import { ACTIVE_STATUSES } from '../jobs/model';
import type { JobRepository } from '../jobs/ports';
import type { PollingPolicy } from '../jobs/step-tasks';
import { workflowRoutes, type WorkflowTask } from '../jobs/task-routes';
import { startApiFront, type ApiFront } from './api-gateway/front';
import { startAwsEndpoint, type AwsEndpoint, type Faults } from './aws-endpoint';
import { LocalEmr } from './emr/api';
import { LocalEventBus } from './events';
import { LocalStepFunctions } from './sfn/api';
import { LocalSts } from './sts';
import { LocalScheduler } from './scheduler';
import { LocalWorkflowRunner } from './sfn/runner';

export interface LocalStackOptions {
  configFile: string;
  /** The gateway API port (0: any free one). */
  port: number;
  /** The local AWS endpoint port (0: any free one). */
  awsPort: number;
  dataDir: string;
  host?: string;
  faults?: Faults;
  /** Polling of EMR steps: the local stack's steps are quick, so it polls sooner than the AWS defaults. */
  polling?: PollingPolicy;
  /** The environment step processes start from. */
  env: NodeJS.ProcessEnv;
}

export interface LocalStack {
  apiUrl: string;
  awsUrl: string;
  region: string;
  account: string;
  config: GatewayConfig;
  gateway: Gateway;
  emr: LocalEmr;
  runner: LocalWorkflowRunner;
  aws: AwsEndpoint;
  /** Jobs found unfinished at start and followed again. */
  resumed: string[];
  stop(): Promise<void>;
}

export const LOCAL_POLLING: PollingPolicy = { initialSeconds: 1, factor: 1.5, maxSeconds: 5 };
/** The local stack's own access key for the gateway's SDK clients (the local AWS endpoint takes any). */
const STACK_CREDENTIALS = { accessKeyId: 'AKIALOCALGATEWAY0000', secretAccessKey: 'local-gateway-secret' };

export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const dataDir = resolve(options.dataDir);
  mkdirSync(join(dataDir, 'dynamodb'), { recursive: true });
  const loaded = loadConfigFile(options.configFile);
  const { config } = loaded;
  const polling = options.polling ?? LOCAL_POLLING;

  // DynamoDB: dynalite on its own ephemeral port (so that closing it closes its database), reached through
  // the shared AWS port.
  const dynamo: Server = dynalite({ path: join(dataDir, 'dynamodb'), createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((r) => dynamo.listen(0, '127.0.0.1', r));
  // Whatever has started is stopped again if a later part fails (a port in use, say): nothing is left running.
  const started: (() => Promise<void> | void)[] = [() => new Promise<void>((r) => dynamo.close(() => r()))];
  try {
    // Step changes go to the gateway as EMR's EventBridge events do (the poller stays as the fallback).
    const bound: { tasks?: Record<string, WorkflowTask>; gateway?: Gateway } = {};
    const emr = new LocalEmr({
      dataDir,
      region: config.region,
      account: config.account,
      partition: config.partition,
      env: options.env,
      onStepChange: (step) => {
        void bound.gateway?.tasks.observeStepEvent({ stepId: step.id, clusterId: step.clusterId, name: step.name, state: step.state }).catch(() => undefined);
      },
    });
    for (const c of config.clusters) emr.ensureCluster(c);
    const sts = new LocalSts(config.account);

    // The state machine's tasks call the gateway's workflow, whose clients need the AWS port: bound below.
    const route = (name: 'SubmitStepFunctionArn' | 'PollStepFunctionArn' | 'FailJobFunctionArn'): WorkflowTask => (input) => bound.tasks![name]!(input);
    const runner = new LocalWorkflowRunner({
      definition,
      routes: { SubmitStepFunctionArn: route('SubmitStepFunctionArn'), PollStepFunctionArn: route('PollStepFunctionArn'), FailJobFunctionArn: route('FailJobFunctionArn') },
    });
    const stateMachineArn = `arn:aws:states:${config.region}:${config.account}:stateMachine:emr-gateway-submit-job`;
    const sfn = new LocalStepFunctions(stateMachineArn, runner, definition);
    const events = new LocalEventBus(config, (name, event) => bound.gateway!.triggers().fireEvent(name, event));
    started.push(() => emr.stop(), () => runner.stop());
    const aws = await startAwsEndpoint({ port: options.awsPort, emr, sfn, sts, dynamo, events, ...(options.host ? { host: options.host } : {}), ...(options.faults ? { faults: options.faults } : {}) });

    const gateway = createGateway(
      {
        region: config.region,
        configFile: options.configFile,
        jobsTable: 'emr-gateway-jobs',
        auditTable: 'emr-gateway-audit',
        stateMachineArn,
        submitterRoleArn: `arn:aws:iam::${config.account}:role/emr-gateway-submitter`,
        endpoint: aws.url,
        polling,
      },
      { credentials: STACK_CREDENTIALS, loaded },
    );
    bound.tasks = workflowRoutes(gateway.tasks);
    bound.gateway = gateway;
    for (const table of [jobsTable(gateway.env.jobsTable), auditTable(gateway.env.auditTable)]) await ensureTable(gateway.clients.dynamodb, table);

    let document: Record<string, unknown> | undefined;
    const handler = createApiHandler(() => ({ service: gateway.service(), openapi: () => (document ??= openApiDocument(version)), version }));
    started.push(() => aws.close());
    const front: ApiFront = await startApiFront({
        port: options.port,
        ...(options.host ? { host: options.host } : {}),
        region: config.region,
        account: config.account,
        credentials: config.local.credentials,
        handler: (event) => handler(event, {}),
      });
    started.push(() => front.close());

    const resumed = await resumeUnfinished(gateway.jobs, (jobId) => runner.start({ jobId, polling }));
    const scheduler = new LocalScheduler(config.schedules, (name, time) => gateway.triggers().fireSchedule(name, time));

    return {
      apiUrl: front.url,
      awsUrl: aws.url,
      region: config.region,
      account: config.account,
      config,
      gateway,
      emr,
      runner,
      aws,
      resumed,
      async stop() {
        scheduler.stop();
        await front.close();
        emr.stop();
        await runner.stop();
        await aws.close();
        await new Promise<void>((r) => dynamo.close(() => r()));
      },
    };
  } catch (error) {
    for (const stop of started.reverse()) await Promise.resolve(stop()).catch(() => undefined);
    throw error;
  }
}

/** Starts the workflow again for every job not yet in a terminal state (its tasks are safe to run again). */
async function resumeUnfinished(jobs: JobRepository, start: (jobId: string) => Promise<void>): Promise<string[]> {
  const jobIds: string[] = [];
  for (const status of ACTIVE_STATUSES) {
    let nextToken: string | undefined;
    do {
      const page = await jobs.list({ status, limit: 100, ...(nextToken ? { nextToken } : {}) });
      jobIds.push(...page.jobs.map((j) => j.jobId));
      nextToken = page.nextToken;
    } while (nextToken);
  }
  for (const jobId of jobIds) await start(jobId);
  return jobIds;
}
