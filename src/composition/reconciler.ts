/** The reconciler of jobs no execution follows. Needs STATE_MACHINE_ARN. */
import type { AwsClients } from '../adapters/clients';
import { SfnWorkflowExecutions } from '../adapters/sfn/workflow-executions';
import { SfnWorkflowStarter } from '../adapters/sfn/workflow-starter';
import { ConfigError } from '../errors';
import { Reconciler } from '../jobs/reconciler';
import type { StepTasks } from '../jobs/step-tasks';
import { lambdaCore, type Core } from './core';
import { clusterQueues } from './queues';
import { lambdaSfn, lambdaTasks } from './tasks';

export function createReconciler(core: Core, tasks: StepTasks, sfn: AwsClients['sfn']): Reconciler {
  const { env, jobs, audit } = core;
  if (!env.stateMachineArn) throw new ConfigError([{ file: 'environment', path: 'STATE_MACHINE_ARN', message: 'is required by the reconciler' }]);
  const executions = new SfnWorkflowExecutions(sfn, env.stateMachineArn);
  return new Reconciler({ jobs, audit, executions, workflow: new SfnWorkflowStarter(sfn, env.stateMachineArn), tasks, queues: clusterQueues(core, sfn), polling: env.polling });
}

/** A reconciler (one per run). */
export const lambdaReconciler = (): Reconciler => createReconciler(lambdaCore(), lambdaTasks(), lambdaSfn());
