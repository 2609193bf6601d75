/** Jobs: the POST /jobs request (schema, validation) and its translation into EMR's AddJobFlowSteps. */
export {
  ACTIONS_ON_FAILURE,
  AWS_PARTITIONS,
  DEFAULT_ACTION_ON_FAILURE,
  LIMITS,
  STEP_TYPES,
  clusterIdProblem,
  jobRequestSchema,
  parseJobRequest,
  roleArnProblem,
} from './request';
export type { JobRequest, JobRequestInput, JobStep, StepType } from './request';
export { formatPath } from '../util/path';
export { COMMAND_RUNNER_JAR, hadoopJarStep, stepArguments, toAddJobFlowSteps, toStepConfig } from './emr-step';
