/**
 * EventBridge entry points: `scheduled` (EventBridge Scheduler, input {schedule, scheduledTime}) and `event`
 * (a rule of the config's `triggers`, input {trigger, event}). Thin adapters over TriggerService. (EMR's step
 * events have their own entry point, step-events.ts.)
 */
import { lambdaTriggers } from '../composition/triggers';
import type { TriggerOutcome } from '../triggers/service';
import { logger } from '../util/logger';
import { validate } from '../util/validation';
import * as z from '../util/zod';
import { lambdaHandler } from './lambda';

const nonEmpty = () => z.string().check(z.minLength(1));
const scheduledInput = z.object({ schedule: nonEmpty(), scheduledTime: nonEmpty() });
const eventInput = z.object({ trigger: nonEmpty(), event: z.looseObject({ id: nonEmpty() }) });

/** The job a submission made or found, in the rest of the invocation's log lines. */
function logOutcome(message: string, keys: Record<string, unknown>, outcome: TriggerOutcome): void {
  if ('jobId' in outcome && outcome.jobId) logger.appendKeys({ jobId: outcome.jobId });
  logger.info(message, { ...keys, ...outcome });
}

export const scheduled = lambdaHandler(async (input: unknown): Promise<TriggerOutcome> => {
  const { schedule, scheduledTime } = validate(scheduledInput, input);
  logger.appendKeys({ schedule });
  const outcome = await lambdaTriggers().fireSchedule(schedule, scheduledTime);
  logOutcome('schedule fired', { scheduledTime }, outcome);
  return outcome;
});

export const event = lambdaHandler(async (input: unknown): Promise<TriggerOutcome> => {
  const { trigger, event: e } = validate(eventInput, input);
  logger.appendKeys({ trigger });
  const outcome = await lambdaTriggers().fireEvent(trigger, e);
  logOutcome('trigger fired', { eventId: e.id }, outcome);
  return outcome;
});
