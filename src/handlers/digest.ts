/**
 * The audit digester (EventBridge schedule, every 15 minutes by default): writes the next signed digest of the
 * chain heads. A thin adapter over AuditDigester; a run that finds nothing to do says why.
 */
import type { DigestRun } from '../audit/digester';
import { lambdaDigester } from '../composition/digests';
import { logger } from '../util/logger';
import { lambdaHandler } from './lambda';

export const auditDigest = lambdaHandler(async (): Promise<DigestRun> => {
  const run = await lambdaDigester().run();
  if (run.written && run.skipped) logger.warn('audit digest written without heads that are not heads (planted in the jobs table?)', { ...run });
  else logger.info(run.written ? 'audit digest written' : 'no audit digest written', { ...run });
  return run;
});
