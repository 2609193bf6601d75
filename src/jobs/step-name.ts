/**
 * How an EMR step is tied to its job: `[job-…]` at the end of the step's name (EMR's StepConfig.Name, 256
 * characters at most), `[job-…#N]` for the job's attempt N from the second on (retry.ts). A retried submission
 * finds the step it may already have added by this marker, so the attempt is part of it: attempt 2 never takes
 * attempt 1's step for its own (`[job-…]` is no suffix of `… [job-…#2]`, nor `[job-…#2]` of `… [job-…#12]`).
 * EMR step events are matched to their job by it.
 */
import { JOB_ID } from '../identifiers';
import type { Job } from './model';

const STEP_NAME_MAX_LENGTH = 256;

/** The marker of the job's attempt (the first's is the job id alone, as for jobs without retries). */
export const stepMarker = (jobId: string, attempt = 1): string => (attempt > 1 ? `[${jobId}#${attempt}]` : `[${jobId}]`);

/** The job's name, cut to leave room, then the marker of its current attempt. */
export function stepNameFor(job: Pick<Job, 'jobId' | 'request' | 'attempt'>): string {
  const marker = stepMarker(job.jobId, job.attempt);
  return `${job.request.name.slice(0, STEP_NAME_MAX_LENGTH - marker.length - 1)} ${marker}`;
}

/** The job id in a step name that ends with a marker (group 1), and the attempt from the second on (group 2). */
export const JOB_ID_IN_STEP_NAME = new RegExp(`\\[(${JOB_ID.source.slice(1, -1)})(?:#([2-9]|10))?\\]$`);
