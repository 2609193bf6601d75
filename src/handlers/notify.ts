/**
 * The notifier's entry point: a batch of the jobs table's stream records (the jobs a write left with deliveries
 * due: the event source mapping filters on notifyAt), or the sweep schedule's event (every job with deliveries
 * due). A thin adapter over Notifier. It never fails the batch for an endpoint's failure (those are outcomes, on
 * the audit trail); an error of the gateway's own (DynamoDB, KMS) is thrown so the stream delivers the batch again.
 */
import { lambdaNotifier } from '../composition/notifier';
import type { AttemptReport } from '../notifications/notifier';
import { eachLimited } from '../util/concurrency';
import { logger } from '../util/logger';
import { lambdaHandler } from './lambda';

interface StreamRecord {
  dynamodb?: { Keys?: { jobId?: { S?: unknown } } };
}

/** The job ids a stream batch names (each once). */
export function streamJobIds(event: unknown): string[] | undefined {
  const records = (event as { Records?: unknown } | null)?.Records;
  if (!Array.isArray(records)) return undefined;
  const ids = records.map((r) => (r as StreamRecord).dynamodb?.Keys?.jobId?.S).filter((id): id is string => typeof id === 'string');
  return [...new Set(ids)];
}

/** What an invocation may use of its 300 s (serverless.yml): the rest is left for recording the last attempt. */
export const INVOCATION_BUDGET_MS = 240_000;

export const notify = lambdaHandler(async (event: unknown): Promise<{ jobs: number; attempts: number }> => {
  const notifier = lambdaNotifier();
  const ids = streamJobIds(event);
  const deadline = Date.now() + INVOCATION_BUDGET_MS;
  let attempts: AttemptReport[] = [];
  if (ids) {
    // The batch's jobs side by side: one slow endpoint does not hold the others' deliveries back.
    await eachLimited(ids, 8, async (jobId) => {
      attempts.push(...(await notifier.deliverJob(jobId, { deadline })));
    });
  } else {
    const run = await notifier.sweep({ deadline });
    attempts = run.attempts;
    for (const failure of run.errors) logger.warn('deliveries not attempted (the next sweep tries again)', { ...failure });
  }
  for (const a of attempts) {
    if (a.outcome === 'delivered') logger.info('notification attempt', { ...a });
    else logger.warn('notification attempt', { ...a });
  }
  return { jobs: ids?.length ?? new Set(attempts.map((a) => a.jobId)).size, attempts: attempts.length };
});
