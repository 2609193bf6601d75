/**
 * EventBridge entry points: `scheduled` (EventBridge Scheduler, input {schedule, scheduledTime}), `event`
 * (a rule of the config's `triggers`, input {trigger, event}) and `emrStepEvent` (EMR "Step Status Change"
 * events of the configured clusters). Thin adapters over TriggerService and StepTasks.
 */
import { z } from 'zod';
import { gateway } from '../container';
import { isEmrStepState, type JobStatus } from '../jobs/model';
import { stepEventRoute } from '../jobs/task-routes';
import type { TriggerOutcome } from '../triggers/service';
import { logger } from '../util/logger';
import { validate } from '../util/validation';
import { lambdaHandler } from './lambda';

const scheduledInput = z.object({ schedule: z.string().min(1), scheduledTime: z.string().min(1) });
const eventInput = z.object({ trigger: z.string().min(1), event: z.object({ id: z.string().min(1) }).loose() });

/** The job a submission made or found, in the rest of the invocation's log lines. */
function logOutcome(message: string, keys: Record<string, unknown>, outcome: TriggerOutcome): void {
  if ('jobId' in outcome && outcome.jobId) logger.appendKeys({ jobId: outcome.jobId });
  logger.info(message, { ...keys, ...outcome });
}

export const scheduled = lambdaHandler(async (input: unknown): Promise<TriggerOutcome> => {
  const { schedule, scheduledTime } = validate(scheduledInput, input);
  logger.appendKeys({ schedule });
  const outcome = await gateway().triggers().fireSchedule(schedule, scheduledTime);
  logOutcome('schedule fired', { scheduledTime }, outcome);
  return outcome;
});

export const event = lambdaHandler(async (input: unknown): Promise<TriggerOutcome> => {
  const { trigger, event: e } = validate(eventInput, input);
  logger.appendKeys({ trigger });
  const outcome = await gateway().triggers().fireEvent(trigger, e);
  logOutcome('trigger fired', { eventId: e.id }, outcome);
  return outcome;
});

let observeStep: ReturnType<typeof stepEventRoute> | undefined;

/** An error is thrown back to EventBridge's asynchronous invocation, which delivers the event again (twice). */
export const emrStepEvent = lambdaHandler(async (input: unknown): Promise<{ status?: JobStatus }> => {
  const stepId = (input as { detail?: { stepId?: unknown } } | null)?.detail?.stepId;
  if (typeof stepId === 'string') logger.appendKeys({ stepId });
  observeStep ??= stepEventRoute(gateway().tasks);
  const { detail, status } = await observeStep(input);
  if (!isEmrStepState(detail.state)) logger.warn('step event with a state EMR is not known to have: ignored', { state: detail.state });
  else logger.info('step event', { state: detail.state, status });
  return status ? { status } : {};
});
