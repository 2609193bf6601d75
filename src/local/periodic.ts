/**
 * Work the local stack does on a timer (the audit digests, the reconciler): one run at a time, every interval
 * once started, and on demand; a run that fails is logged (the next one tries again), never thrown. A stop ends
 * the timer, lets the run in progress finish (after a last run, if asked for), and refuses any later run.
 */
import { logger } from '../util/logger';

export class PeriodicRun<Options extends object, Result> {
  private timer?: NodeJS.Timeout;
  private running: Promise<unknown> = Promise.resolve(undefined);
  private stopped = false;

  constructor(
    /** What runs, as a log line names it: "the audit digest". */
    private readonly what: string,
    private readonly work: (options: Options) => Promise<Result>,
    private readonly intervalMs: number,
  ) {}

  /** From now on, a run every interval (the timer keeps no process alive). */
  startTimer(): void {
    this.timer = setInterval(() => void this.run(), this.intervalMs);
    this.timer.unref();
  }

  /** A run after the one in progress; undefined if it failed (logged) or the stop came first. */
  run(options: Options = {} as Options): Promise<Result | undefined> {
    return this.runWith(() => this.work(options));
  }

  /** Other work in the same queue (never at once with a run, and a stop waits for it); logged, not thrown, if it fails. */
  runWith<T>(work: () => Promise<T>): Promise<T | undefined> {
    const next = this.running.then(async () => {
      if (this.stopped) return undefined;
      try {
        return await work();
      } catch (error) {
        logger.warn(`local stack: ${this.what} failed (the next run tries again)`, { error });
        return undefined;
      }
    });
    this.running = next;
    return next;
  }

  /** No timer and no run after this; `last`: one more run first (e.g. the digest of everything up to the stop). */
  async stop(last?: Options): Promise<void> {
    clearInterval(this.timer);
    if (last) await this.run(last);
    this.stopped = true;
    await this.running;
  }
}
