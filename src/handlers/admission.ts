/**
 * The admission sweep (EventBridge schedule, every minute by default): each cluster's admission record put right after
 * a crash or a lost end (cluster-queues.ts sweep). A thin adapter; what it did goes to the log.
 */
import type { SweepReport } from '../jobs/cluster-queues';
import { lambdaQueues } from '../composition/queues';
import { logger } from '../util/logger';
import { lambdaHandler } from './lambda';

export const admissionSweep = lambdaHandler(async (): Promise<SweepReport[]> => {
  const reports = await lambdaQueues().sweep();
  for (const report of reports) {
    for (const failure of report.errors) logger.warn('admission: place not swept (the next run tries again)', { clusterId: report.clusterId, ...failure });
    if (report.freed.length || report.launched.length || report.admitted.length) logger.info('admission sweep', { ...report, errors: report.errors.length });
  }
  return reports;
});
