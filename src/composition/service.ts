/** The job service (the API; the schedules and triggers submit through it). Needs STATE_MACHINE_ARN. */
import type { AwsClients } from '../adapters/clients';
import { SfnWorkflowStarter } from '../adapters/sfn/workflow-starter';
import type { DigestVerifier } from '../audit/digester';
import { ConfigError } from '../errors';
import { JobService } from '../jobs/service';
import type { StepTasks } from '../jobs/step-tasks';
import { lambdaCore, type Core } from './core';
import { lambdaDigests } from './digests';
import { lambdaSfn, lambdaTasks } from './tasks';

export function createService({ env, loaded, jobs, audit, sealer }: Core, tasks: StepTasks, digests: DigestVerifier, sfn: AwsClients['sfn']): JobService {
  if (!env.stateMachineArn) throw new ConfigError([{ file: 'environment', path: 'STATE_MACHINE_ARN', message: 'is required by the API' }]);
  return new JobService({
    config: loaded.config,
    engine: loaded.engine,
    jobs,
    audit,
    sealer,
    digests,
    workflow: new SfnWorkflowStarter(sfn, env.stateMachineArn),
    tasks,
    polling: env.polling,
  });
}

let service: JobService | undefined;

export const lambdaService = (): JobService => (service ??= createService(lambdaCore(), lambdaTasks(), lambdaDigests().verifier, lambdaSfn()));
