/** The API's reads of a job's step logs (S3) and Spark UI links (EMR), over its job service. */
import type { AwsClients } from '../adapters/clients';
import { SdkAppUiLinks } from '../adapters/emr/app-ui';
import { S3StepLogStore } from '../adapters/s3/step-logs';
import { emrClient } from '../adapters/sdk-clients/emr';
import { s3Client } from '../adapters/sdk-clients/s3';
import { JobLogsService } from '../jobs/job-logs';
import type { JobService } from '../jobs/service';
import { lambdaCore, type Core } from './core';
import { lambdaService } from './service';

export function createJobLogs({ config }: Core, jobs: JobService, { s3, emr }: Pick<AwsClients, 's3' | 'emr'>): JobLogsService {
  return new JobLogsService({ config, jobs, stepLogs: new S3StepLogStore(s3), appUi: new SdkAppUiLinks(emr) });
}

let jobLogs: JobLogsService | undefined;

export const lambdaJobLogs = (): JobLogsService => (jobLogs ??= createJobLogs(lambdaCore(), lambdaService(), { s3: s3Client(lambdaCore().target), emr: emrClient(lambdaCore().target) }));
