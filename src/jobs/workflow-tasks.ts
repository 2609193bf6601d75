/**
 * The state machine's Task resources → the workflow's methods, with their input validated and their errors
 * classified: anything a retry can cure leaves as Gateway.Transient (the ASL's Retry), the rest goes to the
 * Catch. The same routes serve the Lambda handlers in AWS and the local runner.
 */
import { z } from 'zod';
import { errorName, isRetryable } from '../aws/errors';
import { JOB_ID } from '../util/ids';
import { JOB_STATUSES } from './model';
import { TransientError, type JobWorkflow, type TaskResult } from './workflow';

const polling = z.object({
  initialSeconds: z.number().int().min(1).max(3600),
  factor: z.number().min(1).max(10),
  maxSeconds: z.number().int().min(1).max(86_400),
});
const workflowInput = z.object({ jobId: z.string().regex(JOB_ID), polling });
const pollInput = workflowInput.extend({
  poll: z.object({ done: z.boolean(), status: z.enum(JOB_STATUSES), waitSeconds: z.number().int().min(1).max(86_400) }),
});
const failInput = workflowInput.extend({ error: z.object({ Error: z.string().optional(), Cause: z.string().optional() }).optional() });

export type TaskName = 'SubmitStepFunctionArn' | 'PollStepFunctionArn' | 'FailJobFunctionArn';
export type WorkflowTask = (input: unknown) => Promise<TaskResult>;

function task<S extends z.ZodType>(schema: S, run: (input: z.output<S>) => Promise<TaskResult>): WorkflowTask {
  return async (input) => {
    const parsed = schema.parse(input);
    try {
      return await run(parsed);
    } catch (error) {
      if (!(error instanceof TransientError) && isRetryable(error)) throw new TransientError(`${errorName(error)}: ${(error as Error).message}`, { cause: error });
      throw error;
    }
  };
}

/** The placeholders in statemachines/submit-job.asl.json (`${SubmitStepFunctionArn}`, ...) and what each runs. */
export function workflowRoutes(workflow: JobWorkflow): Record<TaskName, WorkflowTask> {
  return {
    SubmitStepFunctionArn: task(workflowInput, (i) => workflow.submit(i)),
    PollStepFunctionArn: task(pollInput, (i) => workflow.poll(i)),
    FailJobFunctionArn: task(failInput, (i) => workflow.fail(i)),
  };
}
