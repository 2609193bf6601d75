/**
 * The local stack's audit digester: a digest at start, every minute, and at stop (DESIGN.md: a rollback older
 * than a minute is always caught), one run at a time. In AWS an EventBridge schedule runs the same
 * AuditDigester (src/handlers/digest.ts) every 15 minutes.
 */
import type { AuditDigester, DigestRun } from '../audit/digester';
import { logger } from '../util/logger';
import { PeriodicRun } from './periodic';

export const LOCAL_DIGEST_INTERVAL_MS = 60_000;

export class LocalDigestTimer {
  private readonly periodic: PeriodicRun<{ quiesced?: boolean }, DigestRun>;

  constructor(digester: () => AuditDigester, intervalMs: number = LOCAL_DIGEST_INTERVAL_MS) {
    this.periodic = new PeriodicRun('the audit digest', async (options) => {
      const run = await digester().run(options);
      if (run.written && run.skipped) logger.warn('local stack: the jobs table holds heads that are not heads (planted there?): the audit digest left them out', { ...run });
      else if (run.written) logger.debug('local stack: audit digest written', { ...run });
      return run;
    }, intervalMs);
  }

  /** The first digest now, then one every interval. */
  async start(): Promise<DigestRun | undefined> {
    const first = await this.periodic.run();
    this.periodic.startTimer();
    return first;
  }

  /** A digest after any run in progress; its failure is logged (the next run tries again), not thrown. */
  run(options: { quiesced?: boolean } = {}): Promise<DigestRun | undefined> {
    return this.periodic.run(options);
  }

  /** The last digest, written before the stack's stores close, once nothing writes any more: up to now. */
  stop(): Promise<void> {
    return this.periodic.stop({ quiesced: true });
  }
}
