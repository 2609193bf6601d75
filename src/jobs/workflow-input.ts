import type { JobStatus } from './model';

/**
 * The state machine's input: the job, and how the execution follows it. It waits for EMR's event of the step's
 * end (a task token); `heartbeatSeconds` is how long that wait lasts without a heartbeat (the reconciler sends
 * one at each run) before the execution looks for itself. `initialSeconds`, `factor` and `maxSeconds` are the
 * capped exponential backoff of the poll loop, still answered (TaskResult.waitSeconds) for executions started
 * on the previous definition, which Step Functions runs to their end on the definition they started with.
 */

export interface PollingPolicy {
  initialSeconds: number;
  factor: number;
  maxSeconds: number;
  /** Absent in executions of the previous definition (they poll, and never wait for a heartbeat). */
  heartbeatSeconds?: number;
}

/** What a polling policy may be (the environment's POLL_* and the tasks' input are both checked against it). */
export const POLLING_LIMITS = { maxInitialSeconds: 3600, minFactor: 1, maxFactor: 10, maxSeconds: 86_400, minHeartbeatSeconds: 1, maxHeartbeatSeconds: 86_400 } as const;

/**
 * The longest one wait for the step's end lasts (its TimeoutSecondsPath) when the job has no deadline: a year,
 * the longest a standard execution may run.
 */
export const MAX_WAIT_SECONDS = 31_536_000;

/**
 * Backoff: 15 s, doubling, at most 5 minutes (old executions). Heartbeat: an hour, four runs of the reconciler
 * (every 15 minutes), so a wait outlives a missed run or two and still wakes, within the hour, if it stops.
 */
export const DEFAULT_POLLING: Required<PollingPolicy> = { initialSeconds: 15, factor: 2, maxSeconds: 300, heartbeatSeconds: 3600 };

export interface WorkflowInput {
  jobId: string;
  polling: PollingPolicy;
}

/** Step Functions' task tokens are 1 to 2,048 characters (SendTaskSuccess's taskToken). */
export const MAX_TASK_TOKEN_LENGTH = 2048;

/** Whether a token read from a job record can be a task token at all (a record is no proof: it may have been planted). */
export const isTaskTokenShaped = (token: unknown): token is string => typeof token === 'string' && token.length >= 1 && token.length <= MAX_TASK_TOKEN_LENGTH;

/** What each task answers, and what a completed wait answers: the state machine's `$.poll`. */
export interface TaskResult {
  /**
   * The job the result is of. `Finished?` takes a result only for its own execution's job: a wait's answer comes from
   * whoever holds its task token (the step-event handler, the reconciler, an operator), read from a job record, and a
   * record can be written by others; an answer for another job, or no task result at all, sends it to PollStep.
   */
  jobId: string;
  /** True when the job has reached a terminal state: the state machine ends. */
  done: boolean;
  status: JobStatus;
  /** Seconds until the next poll, for executions of the previous definition (a Wait state, then PollStep). */
  waitSeconds: number;
  /**
   * How long the next wait for the step's end may last (WaitForStepEnd's TimeoutSecondsPath): until the job's
   * deadline, so that a timeout is enforced on time, or MAX_WAIT_SECONDS.
   */
  timeoutSeconds: number;
  /**
   * How long the next wait lasts without a heartbeat (WaitForStepEnd's HeartbeatSecondsPath): the input's
   * polling.heartbeatSeconds, or DEFAULT_POLLING's for an input written before it existed (an execution started by
   * code not yet updated during a deploy), so the wait never reads a field its input lacks.
   */
  heartbeatSeconds: number;
  /**
   * Between attempts (a retry): the seconds until the next attempt is due. `Finished?` sends the execution to
   * WaitToRetry for them, then to SubmitStep, which adds the next attempt's step.
   */
  retryInSeconds?: number;
}
