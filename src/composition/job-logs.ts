/** The API's reads of a job's step logs (S3) and Spark UI links (EMR), over its job service. */
import type { AwsClients } from '../adapters/clients';
import { SdkAppUiLinks } from '../adapters/emr/app-ui';
import { ClusterClients } from '../adapters/emr/cluster-access';
import { sessionClientFactory } from '../adapters/emr/emr-sessions';
import { S3StepLogStore } from '../adapters/s3/step-logs';
import { emrClient } from '../adapters/sdk-clients/emr';
import { s3Client } from '../adapters/sdk-clients/s3';
import { JobLogsService } from '../jobs/job-logs';
import type { JobService } from '../jobs/service';
import { clusterAccess } from './cluster-access';
import { lambdaCore, type Core } from './core';
import { lambdaService } from './service';
import { lambdaSts } from './tasks';

export function createJobLogs(core: Core, jobs: JobService, { s3, emr, sts }: Pick<AwsClients, 's3' | 'emr' | 'sts'>): JobLogsService {
  const { config, target } = core;
  // A cluster of another account: its logs (in that account's bucket) and its UIs through its access role, as every call on it.
  const access = clusterAccess(core, sts);
  return new JobLogsService({
    config,
    jobs,
    stepLogs: new S3StepLogStore(new ClusterClients(s3, (credentials) => s3Client(target, credentials), access)),
    appUi: new SdkAppUiLinks(new ClusterClients(emr, sessionClientFactory(target), access)),
  });
}

let jobLogs: JobLogsService | undefined;

export const lambdaJobLogs = (): JobLogsService =>
  (jobLogs ??= createJobLogs(lambdaCore(), lambdaService(), { s3: s3Client(lambdaCore().target), emr: emrClient(lambdaCore().target), sts: lambdaSts() }));
