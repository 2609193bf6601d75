/**
 * The local stack's audit digester: a digest at start, every minute, and at stop (DESIGN.md: a rollback older
 * than a minute is always caught), one run at a time. In AWS an EventBridge schedule runs the same
 * AuditDigester (src/handlers/digest.ts) every 15 minutes.
 */
import type { AuditDigester, DigestRun } from '../audit/digester';
import { logger } from '../util/logger';

export const LOCAL_DIGEST_INTERVAL_MS = 60_000;

export class LocalDigestTimer {
  private timer?: NodeJS.Timeout;
  private running: Promise<DigestRun | undefined> = Promise.resolve(undefined);

  constructor(
    private readonly digester: () => AuditDigester,
    private readonly intervalMs: number = LOCAL_DIGEST_INTERVAL_MS,
  ) {}

  /** The first digest now, then one every interval. */
  async start(): Promise<DigestRun | undefined> {
    const first = await this.run();
    this.timer = setInterval(() => void this.run(), this.intervalMs);
    this.timer.unref();
    return first;
  }

  /** A run after any run in progress; its failure is logged (the next run tries again), not thrown. */
  run(options: { quiesced?: boolean } = {}): Promise<DigestRun | undefined> {
    this.running = this.running.then(async () => {
      try {
        const run = await this.digester().run(options);
        if (run.written && run.skipped) logger.warn('local stack: the jobs table holds heads that are not heads (planted there?): the audit digest left them out', { ...run });
        else if (run.written) logger.debug('local stack: audit digest written', { ...run });
        return run;
      } catch (error) {
        logger.warn('local stack: the audit digest failed (the next run tries again)', { error });
        return undefined;
      }
    });
    return this.running;
  }

  /** The last digest, written before the stack's stores close, once nothing writes any more: up to now. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.run({ quiesced: true });
  }
}
