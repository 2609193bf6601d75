/** The step tasks (the workflow's Lambda tasks, EMR's step events, and under the job service and the reconciler). */
import type { AwsClients } from '../adapters/clients';
import { ClusterAccess } from '../adapters/emr/cluster-access';
import { sessionClientFactory } from '../adapters/emr/emr-sessions';
import { SdkEmrSteps, submitClientFactory } from '../adapters/emr/emr-steps';
import { emrClient } from '../adapters/sdk-clients/emr';
import { sfnClient } from '../adapters/sdk-clients/sfn';
import { stsClient } from '../adapters/sdk-clients/sts';
import { SfnWorkflowCallbacks } from '../adapters/sfn/workflow-callbacks';
import { StepTasks } from '../jobs/step-tasks';
import { lambdaCore, type Core } from './core';

export function createTasks({ env, target, config, jobs, audit, sealer, options }: Core, { emr, sts, sfn }: Pick<AwsClients, 'emr' | 'sts' | 'sfn'>): StepTasks {
  // Clusters of other accounts: through their access roles (cluster-access.ts).
  const crossAccount = { access: new ClusterAccess(sts, config.clusters), client: sessionClientFactory(target) };
  const emrSteps = new SdkEmrSteps(emr, sts, config.clusters, env.submitterRoleArn, submitClientFactory(target), crossAccount);
  return new StepTasks({ jobs, audit, emr: emrSteps, callbacks: new SfnWorkflowCallbacks(sfn), sealer, config, ...(options.observeJob ? { observe: options.observeJob } : {}) });
}

let sfn: AwsClients['sfn'] | undefined;
let tasks: StepTasks | undefined;

/** The Lambda container's Step Functions client (the tasks' callbacks, the job service's and reconciler's starts). */
export const lambdaSfn = (): AwsClients['sfn'] => (sfn ??= sfnClient(lambdaCore().target));
export const lambdaTasks = (): StepTasks => (tasks ??= createTasks(lambdaCore(), { emr: emrClient(lambdaCore().target), sts: stsClient(lambdaCore().target), sfn: lambdaSfn() }));
