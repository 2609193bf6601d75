/** The schedules and event triggers, over the job service. */
import { TriggerService } from '../triggers/service';
import { lambdaCore } from './core';
import { lambdaService } from './service';

let triggers: TriggerService | undefined;

export const lambdaTriggers = (): TriggerService => (triggers ??= new TriggerService(lambdaCore().loaded.config, lambdaService(), lambdaCore().audit));
