/**
 * The state machine's Task resources → the step tasks, with their input validated. Errors leave as they are:
 * the adapters have already turned whatever a retry can cure into TransientError (named Gateway.Transient,
 * the ASL's Retry); the rest goes to the Catch. The same routes serve the Lambda handlers in AWS and the
 * local runner.
 */
import { z } from 'zod';
import { JOB_ID } from '../identifiers';
import { JOB_STATUSES } from './model';
import type { StepTasks, TaskResult } from './step-tasks';
import { POLLING_LIMITS } from './workflow-input';

const polling = z.object({
  initialSeconds: z.number().int().min(1).max(POLLING_LIMITS.maxInitialSeconds),
  factor: z.number().min(POLLING_LIMITS.minFactor).max(POLLING_LIMITS.maxFactor),
  maxSeconds: z.number().int().min(1).max(POLLING_LIMITS.maxSeconds),
});
const workflowInput = z.object({ jobId: z.string().regex(JOB_ID), polling });
const pollInput = workflowInput.extend({
  poll: z.object({ done: z.boolean(), status: z.enum(JOB_STATUSES), waitSeconds: z.number().int().min(1).max(POLLING_LIMITS.maxSeconds) }),
});
const failInput = workflowInput.extend({ error: z.object({ Error: z.string().optional(), Cause: z.string().optional() }).optional() });

export type TaskName = 'SubmitStepFunctionArn' | 'PollStepFunctionArn' | 'FailJobFunctionArn';
export type WorkflowTask = (input: unknown) => Promise<TaskResult>;

function task<S extends z.ZodType>(schema: S, run: (input: z.output<S>) => Promise<TaskResult>): WorkflowTask {
  return (input) => run(schema.parse(input));
}

/** The placeholders in statemachines/submit-job.asl.json (`${SubmitStepFunctionArn}`, ...) and what each runs. */
export function workflowRoutes(workflow: StepTasks): Record<TaskName, WorkflowTask> {
  return {
    SubmitStepFunctionArn: task(workflowInput, (i) => workflow.submit(i)),
    PollStepFunctionArn: task(pollInput, (i) => workflow.poll(i)),
    FailJobFunctionArn: task(failInput, (i) => workflow.fail(i)),
  };
}
