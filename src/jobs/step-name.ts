/**
 * How an EMR step is tied to its job: `[job-…]` at the end of the step's name (EMR's StepConfig.Name, 256
 * characters at most). A retried submission finds the step it may already have added by this marker, and EMR
 * step events are matched to their job by it.
 */
import { JOB_ID } from '../identifiers';
import type { Job } from './model';

const STEP_NAME_MAX_LENGTH = 256;

export const stepMarker = (jobId: string): string => `[${jobId}]`;

/** The job's name, cut to leave room, then its marker. */
export function stepNameFor(job: Pick<Job, 'jobId' | 'request'>): string {
  const marker = stepMarker(job.jobId);
  return `${job.request.name.slice(0, STEP_NAME_MAX_LENGTH - marker.length - 1)} ${marker}`;
}

/** The job id in a step name that ends with a marker. */
export const JOB_ID_IN_STEP_NAME = new RegExp(`\\[(${JOB_ID.source.slice(1, -1)})\\]$`);
