/** The schedules and event triggers, over the job service. */
import type { AuditLog } from '../jobs/ports';
import type { JobService } from '../jobs/service';
import { ConfigError } from '../errors';
import { templateErrors } from '../triggers/lint';
import { TriggerService } from '../triggers/service';
import { lambdaCore, type Core } from './core';
import { lambdaService } from './service';

/** Event values reach the templates here: a configuration whose templates would let one into a script is refused, at load. */
export function createTriggers({ config }: Core, service: JobService, audit: AuditLog): TriggerService {
  const errors = templateErrors(config, config.file);
  if (errors.length) throw new ConfigError(errors);
  return new TriggerService(config, service, audit);
}

let triggers: TriggerService | undefined;

export const lambdaTriggers = (): TriggerService => (triggers ??= createTriggers(lambdaCore(), lambdaService(), lambdaCore().audit));
