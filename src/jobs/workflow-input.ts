/** The state machine's input: the job, and how it polls (capped exponential backoff). */

export interface PollingPolicy {
  initialSeconds: number;
  factor: number;
  maxSeconds: number;
}

/** What a polling policy may be (the environment's POLL_* and the tasks' input are both checked against it). */
export const POLLING_LIMITS = { maxInitialSeconds: 3600, minFactor: 1, maxFactor: 10, maxSeconds: 86_400 } as const;

/** 15 s, doubling, at most 5 minutes: 12 / 51 / 447 state transitions for 1 min / 1 h / 12 h jobs. */
export const DEFAULT_POLLING: PollingPolicy = { initialSeconds: 15, factor: 2, maxSeconds: 300 };

export interface WorkflowInput {
  jobId: string;
  polling: PollingPolicy;
}
