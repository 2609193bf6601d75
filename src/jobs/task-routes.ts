/**
 * The state machine's Task resources → the step tasks, with their input validated. Errors leave as they are:
 * the adapters have already turned whatever a retry can cure into TransientError (named Gateway.Transient,
 * the ASL's Retry); the rest goes to the Catch. The same routes serve the Lambda handlers in AWS and the
 * local runner.
 */
import * as z from '../util/zod';
import { validate } from '../util/validation';
import { JOB_ID } from '../identifiers';
import { JOB_STATUSES, type JobStatus } from './model';
import type { StepTasks, TaskResult } from './step-tasks';
import { MAX_TASK_TOKEN_LENGTH, MAX_WAIT_SECONDS, POLLING_LIMITS } from './workflow-input';

const int = (min: number, max: number) => z.number().check(z.int(), z.gte(min), z.lte(max));
const polling = z.object({
  initialSeconds: int(1, POLLING_LIMITS.maxInitialSeconds),
  factor: z.number().check(z.gte(POLLING_LIMITS.minFactor), z.lte(POLLING_LIMITS.maxFactor)),
  maxSeconds: int(1, POLLING_LIMITS.maxSeconds),
  // Absent in executions of the previous definition (they poll).
  heartbeatSeconds: z.optional(int(POLLING_LIMITS.minHeartbeatSeconds, POLLING_LIMITS.maxHeartbeatSeconds)),
});
const workflowInput = z.object({ jobId: z.string().check(z.regex(JOB_ID)), polling });
const pollInput = z.extend(workflowInput, {
  // The previous result. One that is not a task result (a wait answered with something else, which `Finished?` sent
  // here) is dropped: PollStep then looks at the step itself, as it does when the wait timed out.
  poll: z.catch(
    z.optional(
      z.object({
        done: z.boolean(),
        status: z.enum(JOB_STATUSES),
        waitSeconds: int(1, POLLING_LIMITS.maxSeconds),
        timeoutSeconds: z.optional(int(1, MAX_WAIT_SECONDS)),
        heartbeatSeconds: z.optional(int(POLLING_LIMITS.minHeartbeatSeconds, POLLING_LIMITS.maxHeartbeatSeconds)),
      }),
    ),
    undefined,
  ),
});
const watchInput = z.extend(pollInput, { taskToken: z.string().check(z.minLength(1), z.maxLength(MAX_TASK_TOKEN_LENGTH)) });
// A SendTaskFailure without error or cause reaches the Catch as {Error: null, Cause: null}.
const failInput = z.extend(workflowInput, { error: z.optional(z.object({ Error: z.optional(z.nullable(z.string())), Cause: z.optional(z.nullable(z.string())) })) });

export type TaskName = 'SubmitStepFunctionArn' | 'WatchStepFunctionArn' | 'PollStepFunctionArn' | 'FailJobFunctionArn';
export type WorkflowTask = (input: unknown) => Promise<TaskResult>;

function task<S extends z.ZodMiniType>(schema: S, run: (input: z.output<S>) => Promise<TaskResult>): WorkflowTask {
  return (input) => run(z.parse(schema, input));
}

/** The placeholders in statemachines/submit-job.asl.json (`${SubmitStepFunctionArn}`, ...) and what each runs. */
export function workflowRoutes(workflow: StepTasks): Record<TaskName, WorkflowTask> {
  return {
    SubmitStepFunctionArn: task(workflowInput, (i) => workflow.submit(i)),
    WatchStepFunctionArn: task(watchInput, (i) => workflow.watch(i)),
    PollStepFunctionArn: task(pollInput, (i) => workflow.poll(i)),
    FailJobFunctionArn: task(failInput, (i) => workflow.fail(i)),
  };
}

/**
 * EMR's "Step Status Change" event (EventBridge: the EMR step-event rule's target, in AWS and on the local stack)
 * → StepTasks.observeStepEvent. Any state string passes: one EMR adds later is ignored by the domain, not retried
 * as a failure.
 */
const stepEvent = z.looseObject({
  source: z.literal('aws.emr'),
  'detail-type': z.literal('EMR Step Status Change'),
  detail: z.looseObject({ stepId: z.string(), clusterId: z.string(), name: z.optional(z.string()), state: z.string() }),
});
export type StepEvent = z.output<typeof stepEvent>;

/** Validates the event (a ValidationError naming the field otherwise) and records it; the job's status after it. */
export function stepEventRoute(workflow: StepTasks): (event: unknown) => Promise<{ detail: StepEvent['detail']; status?: JobStatus }> {
  return async (event) => {
    const { detail } = validate(stepEvent, event);
    const status = await workflow.observeStepEvent(detail);
    return { detail, ...(status ? { status } : {}) };
  };
}
