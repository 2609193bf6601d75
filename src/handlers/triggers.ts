/**
 * EventBridge entry points: `scheduled` (EventBridge Scheduler, input {schedule, scheduledTime}), `event`
 * (a rule of the config's `triggers`, input {trigger, event}) and `emrStepEvent` (EMR "Step Status Change"
 * events of the configured clusters). Thin adapters over TriggerService and JobWorkflow.
 */
import { z } from 'zod';
import { gateway } from '../container';
import type { JobStatus } from '../jobs/model';
import type { TriggerOutcome } from '../triggers/service';
import { logger } from '../util/logger';
import { validate } from '../util/validation';

const scheduledInput = z.object({ schedule: z.string().min(1), scheduledTime: z.string().min(1) });
const eventInput = z.object({ trigger: z.string().min(1), event: z.object({ id: z.string().min(1) }).loose() });
const stepEvent = z.object({
  source: z.literal('aws.emr'),
  'detail-type': z.literal('EMR Step Status Change'),
  detail: z.object({ stepId: z.string(), clusterId: z.string(), name: z.string().optional(), state: z.string() }).loose(),
}).loose();

export async function scheduled(input: unknown): Promise<TriggerOutcome> {
  const { schedule, scheduledTime } = validate(scheduledInput, input);
  const outcome = await gateway().triggers().fireSchedule(schedule, scheduledTime);
  logger.info('schedule fired', { schedule, scheduledTime, ...outcome });
  return outcome;
}

export async function event(input: unknown): Promise<TriggerOutcome> {
  const { trigger, event: e } = validate(eventInput, input);
  const outcome = await gateway().triggers().fireEvent(trigger, e);
  logger.info('trigger fired', { trigger, eventId: e.id, ...outcome });
  return outcome;
}

export async function emrStepEvent(input: unknown): Promise<{ status?: JobStatus }> {
  const { detail } = validate(stepEvent, input);
  const status = await gateway().tasks.observeStepEvent(detail);
  logger.info('step event', { stepId: detail.stepId, state: detail.state, status });
  return status ? { status } : {};
}
