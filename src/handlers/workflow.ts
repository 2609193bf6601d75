/**
 * The state machine's Lambda tasks (SubmitStep, WaitForStepEnd's WatchStep, PollStep, RecordFailure): thin
 * adapters over the task routes, which validate the input; the adapters have already classified errors for the
 * ASL's Retry. The task token WatchStep receives is never logged.
 */
import { lambdaTasks } from '../composition/tasks';
import type { TaskResult } from '../jobs/step-tasks';
import { workflowRoutes, type TaskName } from '../jobs/task-routes';
import { logger } from '../util/logger';
import { lambdaHandler } from './lambda';

let routes: ReturnType<typeof workflowRoutes> | undefined;

function handle(name: TaskName) {
  return lambdaHandler(async (event: unknown): Promise<TaskResult> => {
    routes ??= workflowRoutes(lambdaTasks());
    const jobId = (event as { jobId?: unknown } | null)?.jobId;
    logger.appendKeys({ task: name, ...(typeof jobId === 'string' ? { jobId } : {}) });
    try {
      const result = await routes[name](event);
      logger.info('task done', { status: result.status, done: result.done });
      return result;
    } catch (error) {
      logger.warn('task failed', { error: error instanceof Error ? { name: error.name, message: error.message } : String(error) });
      throw error;
    }
  });
}

export const submitStep = handle('SubmitStepFunctionArn');
export const watchStep = handle('WatchStepFunctionArn');
export const pollStep = handle('PollStepFunctionArn');
export const failJob = handle('FailJobFunctionArn');
