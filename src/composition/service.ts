/** The job service (the API; the schedules and triggers submit through it). Needs STATE_MACHINE_ARN. */
import type { AwsClients } from '../adapters/clients';
import { SfnWorkflowStarter } from '../adapters/sfn/workflow-starter';
import type { DigestVerifier } from '../audit/digester';
import { PolicyEngine } from '../authz/engine';
import { ConfigError } from '../errors';
import { JobService } from '../jobs/service';
import type { StepTasks } from '../jobs/step-tasks';
import { lambdaCore, type Core } from './core';
import { lambdaDigests } from './digests';
import { clusterQueues } from './queues';
import { lambdaSfn, lambdaTasks } from './tasks';

const engines = new WeakMap<Core, PolicyEngine>();

/**
 * The policy engine: the local stack's, compiled when it validated the file; in a Lambda container compiled here,
 * once, by the functions that decide (a policy packaging compiled; PolicyCompileError if not).
 */
export function policyEngine(core: Core): PolicyEngine {
  let engine = core.options.loaded?.engine ?? engines.get(core);
  if (!engine) engines.set(core, (engine = new PolicyEngine(core.config.principals, core.config.policies)));
  return engine;
}

export function createService(core: Core, tasks: StepTasks, digests: DigestVerifier, sfn: AwsClients['sfn']): JobService {
  const { env, config, jobs, audit, sealer } = core;
  if (!env.stateMachineArn) throw new ConfigError([{ file: 'environment', path: 'STATE_MACHINE_ARN', message: 'is required by the API' }]);
  return new JobService({
    config,
    engine: policyEngine(core),
    jobs,
    audit,
    sealer,
    digests,
    workflow: new SfnWorkflowStarter(sfn, env.stateMachineArn),
    tasks,
    queues: clusterQueues(core, sfn),
    polling: env.polling,
  });
}

let service: JobService | undefined;

export const lambdaService = (): JobService => (service ??= createService(lambdaCore(), lambdaTasks(), lambdaDigests().verifier, lambdaSfn()));
