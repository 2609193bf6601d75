/**
 * The local stack's notify function: run on this thread (as the reconciler is) when the functions' worker tells of a
 * write that left a delivery due (the stand-in for the jobs table's stream and its event source mapping), one run
 * per job at a time; and a sweep at start (taking over the leases a stopped or crashed stack left: the lock says no
 * other stack runs) and every SWEEP_MS, as the sweep schedule runs in AWS, for deliveries waiting out a backoff.
 * A stop aborts the backoff waits in progress: what they would have tried is the next start's.
 */
import type { Notifier, SweepRun } from '../notifications/notifier';
import { logger } from '../util/logger';
import { PeriodicRun } from './periodic';

export const SWEEP_MS = 15_000;

export class LocalNotifications {
  private readonly sweeps: PeriodicRun<{ takeOver?: boolean }, SweepRun>;
  private readonly running = new Map<string, Promise<void>>();
  private readonly again = new Set<string>();
  private stopped = false;

  constructor(private readonly notifier: () => Notifier) {
    this.sweeps = new PeriodicRun('the notifications sweep', (options) => this.notifier().sweep(options), SWEEP_MS);
  }

  /** The sweep that takes over, in the background, then the timer. */
  start(): Promise<SweepRun | undefined> {
    const first = this.sweeps.run({ takeOver: true });
    this.sweeps.startTimer();
    return first;
  }

  /** A job's deliveries, now (again after the run in progress, if one is). */
  nudge(jobId: string): void {
    if (this.stopped) return;
    if (this.running.has(jobId)) {
      this.again.add(jobId);
      return;
    }
    const run = this.notifier()
      .deliverJob(jobId)
      .then(
        () => undefined,
        (error: unknown) => {
          if (!this.stopped) logger.warn('local stack: notifications of a job not sent (the sweep tries again)', { jobId, error });
        },
      )
      .finally(() => {
        this.running.delete(jobId);
        if (this.again.delete(jobId)) this.nudge(jobId);
      });
    this.running.set(jobId, run);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.notifier().abortWaits();
    await this.sweeps.stop();
    await Promise.all(this.running.values());
  }
}
