/** A job's statuses, with no dependency: the dashboard's browser bundle takes them from here. */
export const TERMINAL_STATUSES = ['COMPLETED', 'FAILED', 'CANCELLED', 'INTERRUPTED', 'TIMED_OUT', 'REJECTED'] as const;
export const ACTIVE_STATUSES = ['QUEUED', 'ACCEPTED', 'SUBMITTED', 'PENDING', 'RUNNING', 'CANCEL_PENDING'] as const;
export const JOB_STATUSES = [...ACTIVE_STATUSES, ...TERMINAL_STATUSES] as const;

export type TerminalStatus = (typeof TERMINAL_STATUSES)[number];
export type JobStatus = (typeof JOB_STATUSES)[number];

export const isTerminal = (status: string): status is TerminalStatus => (TERMINAL_STATUSES as readonly string[]).includes(status);
