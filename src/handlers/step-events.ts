/**
 * EMR "Step Status Change" events of the configured clusters (the EMR step-event rule's target): a thin adapter over
 * StepTasks. Its own entry point (not in triggers.ts), so its bundle holds the step tasks and not the job service.
 */
import { lambdaTasks } from '../composition/tasks';
import { isEmrStepState, type JobStatus } from '../jobs/model';
import { stepEventRoute } from '../jobs/task-routes';
import { logger } from '../util/logger';
import { lambdaHandler } from './lambda';

let observeStep: ReturnType<typeof stepEventRoute> | undefined;

/** An error is thrown back to EventBridge's asynchronous invocation, which delivers the event again (twice). */
export const emrStepEvent = lambdaHandler(async (input: unknown): Promise<{ status?: JobStatus }> => {
  const stepId = (input as { detail?: { stepId?: unknown } } | null)?.detail?.stepId;
  if (typeof stepId === 'string') logger.appendKeys({ stepId });
  observeStep ??= stepEventRoute(lambdaTasks());
  const { detail, status } = await observeStep(input);
  if (!isEmrStepState(detail.state)) logger.warn('step event with a state EMR is not known to have: ignored', { state: detail.state });
  else logger.info('step event', { state: detail.state, status });
  return status ? { status } : {};
});
