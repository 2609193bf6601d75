/**
 * The state machine's three Lambda tasks (SubmitStep, PollStep, RecordFailure): thin adapters over the
 * workflow routes, which validate the input and classify errors for the ASL's Retry and Catch.
 */
import { gateway } from '../container';
import { workflowRoutes, type TaskName } from '../jobs/task-routes';
import type { TaskResult } from '../jobs/step-tasks';
import { logger } from '../util/logger';

let routes: ReturnType<typeof workflowRoutes> | undefined;

function handle(name: TaskName) {
  return async (event: unknown): Promise<TaskResult> => {
    routes ??= workflowRoutes(gateway().tasks);
    const jobId = (event as { jobId?: unknown } | null)?.jobId;
    logger.appendKeys({ jobId: typeof jobId === 'string' ? jobId : undefined, task: name });
    try {
      const result = await routes[name](event);
      logger.info('task done', { status: result.status, done: result.done });
      return result;
    } catch (error) {
      logger.warn('task failed', { error: error instanceof Error ? { name: error.name, message: error.message } : String(error) });
      throw error;
    } finally {
      logger.removeKeys(['jobId', 'task']);
    }
  };
}

export const submitStep = handle('SubmitStepFunctionArn');
export const pollStep = handle('PollStepFunctionArn');
export const failJob = handle('FailJobFunctionArn');
