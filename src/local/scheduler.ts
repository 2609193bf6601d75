/**
 * Runs the configuration's schedules on the local stack, as EventBridge Scheduler does in AWS (UTC). A firing
 * runs in the background, as Scheduler invokes its target: a failed one is logged.
 */
import { parseSchedule } from '../triggers/schedule-expression';
import { logger } from '../util/logger';

const MAX_TIMER_MS = 2 ** 31 - 1;

export class LocalScheduler {
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;

  constructor(
    schedules: readonly { name: string; schedule: string }[],
    private readonly fire: (name: string, scheduledTime: string) => Promise<unknown>,
    private readonly now: () => Date = () => new Date(),
  ) {
    for (const s of schedules) this.arm(s.name, parseSchedule(s.schedule));
  }

  private arm(name: string, schedule: ReturnType<typeof parseSchedule>, after?: Date): void {
    if (this.stopped) return;
    let at: Date;
    try {
      at = after ?? schedule.next(this.now());
    } catch {
      return; // a schedule with no further firing (a cron with a past year) simply stops
    }
    const delay = at.getTime() - this.now().getTime();
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (delay > MAX_TIMER_MS) return this.arm(name, schedule, at); // not yet: timers cannot wait that long
      const scheduledTime = at.toISOString();
      void this.fire(name, scheduledTime).catch((error: unknown) => logger.error('local scheduler: a schedule failed', { schedule: name, scheduledTime, error }));
      this.arm(name, schedule);
    }, Math.min(Math.max(delay, 0), MAX_TIMER_MS));
    timer.unref();
    this.timers.add(timer);
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}
