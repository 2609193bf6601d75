/**
 * The local Lambda service's concurrency for the state machine's tasks: at most `limit` task invocations run at
 * once, as under a reserved concurrency, and the others wait their turn, in order. In AWS every function runs on
 * compute of its own, so a burst of workflows never delays a caller's request; on the local stack's one event loop,
 * this cap is what keeps it so. Without it every submission of a burst waits behind the tasks of all the jobs
 * before it (bench/e2e.ts: 36 submissions/s at concurrency 50 without it, 146/s with it, with the same time for
 * all the jobs to end).
 *
 * The EMR step-event target is not capped: an event waiting behind tasks would find the job's wait task run first,
 * and that task, seeing the step ended, would record the end itself (DescribeStep and the writes again: 45 ms of
 * CPU per job instead of 33, measured).
 *
 * Where Lambda would answer an invocation beyond its concurrency with TooManyRequestsException (and Step Functions
 * retry it), the local service queues it: the same end, without the retries in the execution's history.
 */

/** How many of the state machine's task invocations run at once on the local stack (bench/e2e.ts: 4 to 16 do the same). */
export const LOCAL_TASK_CONCURRENCY = 4;

export class LocalTaskConcurrency {
  private active = 0;
  private readonly waiting: { start: () => void; refuse: (error: Error) => void }[] = [];
  private stopped = false;

  constructor(readonly limit: number = LOCAL_TASK_CONCURRENCY) {
    if (!Number.isInteger(limit) || limit < 1) throw new Error(`the local task concurrency must be a whole number of at least 1 (got ${limit})`);
  }

  /** Invocations waiting for their turn now. */
  get queued(): number {
    return this.waiting.length;
  }

  /** Invocations running now. */
  get running(): number {
    return this.active;
  }

  /** Runs `work` once a turn is free; refused once stopped, and so is one still waiting then. */
  async invoke<T>(work: () => Promise<T>): Promise<T> {
    if (this.stopped) throw stoppedError();
    if (this.active >= this.limit) await new Promise<void>((start, refuse) => this.waiting.push({ start, refuse }));
    this.active++;
    try {
      return await work();
    } finally {
      this.active--;
      this.waiting.shift()?.start();
    }
  }

  /** The stack is stopping: the waiting invocations are refused, and any later one (their executions are aborted next). */
  stop(): void {
    this.stopped = true;
    for (const waiting of this.waiting.splice(0)) waiting.refuse(stoppedError());
  }
}

const stoppedError = (): Error => new Error('the local stack is stopping: the task was not invoked');
