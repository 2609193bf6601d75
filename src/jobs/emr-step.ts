/**
 * Translation of a validated job request into EMR's AddJobFlowSteps input. Arguments stay an argv array from
 * the request to EMR: nothing here joins them into a shell line, so no argument can inject another.
 */
import type { ActionOnFailure, JobRequest, JobStep } from './request';

/** EMR's HadoopJarStepConfig, StepConfig and AddJobFlowSteps input, as far as the gateway fills them. */
export interface HadoopJarStepConfig {
  Jar: string;
  MainClass?: string;
  Args: string[];
}
export interface StepConfig {
  Name: string;
  ActionOnFailure: ActionOnFailure;
  HadoopJarStep: HadoopJarStepConfig;
}
export interface AddJobFlowStepsInput {
  JobFlowId: string;
  Steps: StepConfig[];
  ExecutionRoleArn: string;
}

/** EMR's built-in runner: runs its arguments as a command on the primary node. */
export const COMMAND_RUNNER_JAR = 'command-runner.jar';

/** The HadoopJarStep that runs `step` (the form `aws emr add-steps` produces for each step type). */
export function hadoopJarStep(step: JobStep): HadoopJarStepConfig {
  switch (step.type) {
    case 'spark':
      return { Jar: COMMAND_RUNNER_JAR, Args: ['spark-submit', ...step.args] };
    case 'hive':
      return { Jar: COMMAND_RUNNER_JAR, Args: ['hive-script', '--run-hive-script', '--args', '-f', step.script, ...(step.args ?? [])] };
    case 'command':
      return { Jar: COMMAND_RUNNER_JAR, Args: [...step.args] };
    case 'jar':
      return { Jar: step.jar, ...(step.mainClass !== undefined && { MainClass: step.mainClass }), Args: [...(step.args ?? [])] };
  }
}

/** The argv EMR receives for `step` (what the audit trail hashes). */
export function stepArguments(step: JobStep): string[] {
  return hadoopJarStep(step).Args;
}

/** `name` defaults to the request's; the workflow passes the name with the job's marker. */
export function toStepConfig(request: JobRequest, name: string = request.name): StepConfig {
  return { Name: name, ActionOnFailure: request.actionOnFailure, HadoopJarStep: hadoopJarStep(request.step) };
}

/**
 * One step on the request's cluster, always under its runtime role. timeoutSeconds and tags are the gateway's
 * (the workflow's timeout, the job record): EMR's StepConfig has no place for them.
 */
export function toAddJobFlowSteps(request: JobRequest, name: string = request.name): AddJobFlowStepsInput {
  return { JobFlowId: request.clusterId, Steps: [toStepConfig(request, name)], ExecutionRoleArn: request.executionRoleArn };
}
