/** Admission control (jobs/cluster-queues.ts): one per core, told of every job's end by the core's job store. */
import type { AwsClients } from '../adapters/clients';
import { DynamoQueueStore } from '../adapters/dynamodb/queue-store';
import { sfnClient } from '../adapters/sdk-clients/sfn';
import { SfnWorkflowStarter } from '../adapters/sfn/workflow-starter';
import { ConfigError } from '../errors';
import { ClusterQueues } from '../jobs/cluster-queues';
import { jobLogKeys } from '../jobs/model';
import { logger } from '../util/logger';
import { lambdaCore, type Core } from './core';

const made = new WeakMap<Core, ClusterQueues>();

/** The core's admission; needs STATE_MACHINE_ARN (an admitted job's execution is started by whoever frees its slot). */
export function clusterQueues(core: Core, sfn: AwsClients['sfn']): ClusterQueues {
  let queues = made.get(core);
  if (queues) return queues;
  const { env, config, dynamodb, jobs, audit } = core;
  if (!env.stateMachineArn) throw new ConfigError([{ file: 'environment', path: 'STATE_MACHINE_ARN', message: 'is required by admission control (any function that ends or submits jobs)' }]);
  queues = new ClusterQueues({ config, queues: new DynamoQueueStore(dynamodb, env.jobsTable), jobs, audit, workflow: new SfnWorkflowStarter(sfn, env.stateMachineArn), polling: env.polling,
    onLaunchError: (jobId, error) => logger.warn('an admitted job could not be started; the admission sweep will', { jobId, error: error instanceof Error ? error.message : String(error) }),
  });
  made.set(core, queues);
  const admission = queues;
  jobs.whenEnded(async (job) => {
    try {
      await admission.released(job);
    } catch (error) {
      // The job has ended whatever happens here: its place is taken back by the next sweep (within a minute).
      logger.warn('could not give back the place of a job that ended; the admission sweep will', { ...jobLogKeys(job), error: error instanceof Error ? error.message : String(error) });
    }
  });
  return queues;
}

/** The admission sweep function's (the other functions reach admission through their tasks or service, with their client). */
export const lambdaQueues = (): ClusterQueues => clusterQueues(lambdaCore(), sfnClient(lambdaCore().target));
