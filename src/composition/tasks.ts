/** The step tasks (the workflow's Lambda tasks, EMR's step events, and under the job service and the reconciler). */
import type { AwsClients } from '../adapters/clients';
import { sessionClientFactory } from '../adapters/emr/emr-sessions';
import { SdkEmrSteps, submitClientFactory } from '../adapters/emr/emr-steps';
import { emrClient } from '../adapters/sdk-clients/emr';
import { sfnClient } from '../adapters/sdk-clients/sfn';
import { stsClient } from '../adapters/sdk-clients/sts';
import { SfnWorkflowCallbacks } from '../adapters/sfn/workflow-callbacks';
import { StepTasks } from '../jobs/step-tasks';
import { clusterAccess } from './cluster-access';
import { lambdaCore, type Core } from './core';
import { clusterQueues } from './queues';

export function createTasks(core: Core, { emr, sts, sfn }: Pick<AwsClients, 'emr' | 'sts' | 'sfn'>): StepTasks {
  const { env, target, config, jobs, audit, sealer, options } = core;
  // Clusters of other accounts: through their access roles (cluster-access.ts).
  const crossAccount = { access: clusterAccess(core, sts), client: sessionClientFactory(target) };
  const emrSteps = new SdkEmrSteps(emr, sts, config.clusters, env.submitterRoleArn, submitClientFactory(target), crossAccount);
  const tasks = new StepTasks({ jobs, audit, emr: emrSteps, callbacks: new SfnWorkflowCallbacks(sfn), sealer, config, ...(options.observeJob ? { observe: options.observeJob } : {}) });
  // Where the tasks end jobs, each end gives its admission place back (and starts the jobs it lets in).
  if (env.stateMachineArn) clusterQueues(core, sfn);
  return tasks;
}

let sfn: AwsClients['sfn'] | undefined;
let sts: AwsClients['sts'] | undefined;
let tasks: StepTasks | undefined;

/** The Lambda container's Step Functions client (the tasks' callbacks, the job service's and reconciler's starts). */
export const lambdaSfn = (): AwsClients['sfn'] => (sfn ??= sfnClient(lambdaCore().target));
/** The Lambda container's STS client (the submitter's and the access roles' AssumeRole), one for all its parts. */
export const lambdaSts = (): AwsClients['sts'] => (sts ??= stsClient(lambdaCore().target));
export const lambdaTasks = (): StepTasks => (tasks ??= createTasks(lambdaCore(), { emr: emrClient(lambdaCore().target), sts: lambdaSts(), sfn: lambdaSfn() }));
