/**
 * The reconciler (EventBridge schedule, every 15 minutes by default, one run at a time): every job that is not
 * terminal while no execution follows it is followed again or ended with the reason, audited. A thin adapter over
 * Reconciler; what it did, and every job it could not repair (the next run tries again), goes to the log.
 */
import { lambdaReconciler } from '../composition/reconciler';
import type { ReconcileRun } from '../jobs/reconciler';
import { logger } from '../util/logger';
import { lambdaHandler } from './lambda';

export const reconcile = lambdaHandler(async (): Promise<ReconcileRun> => {
  const run = await lambdaReconciler().run();
  for (const repair of run.repaired) logger.info('job reconciled', { ...repair });
  for (const failure of run.errors) logger.warn('job not reconciled (the next run tries again)', { ...failure });
  logger.info('reconciler run', { unfinished: run.unfinished, followed: run.followed, repaired: run.repaired.length, errors: run.errors.length });
  return run;
});
