/**
 * The read-modify-write of a job record, shared by every JobRepository: the change is computed on the job as it
 * is and written only if the job is still at that version (optimistic concurrency), else read again.
 */
import { JobConflictError } from '../errors';
import type { Job } from './model';
import type { JobChanges } from './ports';

const MAX_ATTEMPTS = 10;

export interface VersionedJobs {
  get(jobId: string): Promise<Job | undefined>;
  /** Applies `changes` if the job is still at `job.version`; undefined if it moved on. */
  update(job: Job, changes: JobChanges): Promise<Job | undefined>;
}

/**
 * `known`, the job as the caller last read or wrote it, saves the read while it is current: the write, conditional
 * on its version, succeeds only then. A verdict of "no changes" is never taken from it (it may be stale): that
 * needs the job as it is now, so it is read.
 */
export async function transitionJob(store: VersionedJobs, jobId: string, change: (job: Job) => JobChanges | undefined, known?: Job): Promise<Job> {
  if (known?.jobId === jobId) {
    const changes = change(known);
    const updated = changes && (await store.update(known, changes));
    if (updated) return updated;
  }
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const job = await store.get(jobId);
    if (!job) throw new JobConflictError(`job ${jobId} does not exist`);
    const changes = change(job);
    if (!changes) return job;
    const updated = await store.update(job, changes);
    if (updated) return updated;
  }
  throw new JobConflictError(`job ${jobId} changed too often to update`);
}
