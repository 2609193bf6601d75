/** Waiting on something that happens in the background (an execution still running), with a deadline. */
import type { Job } from '../../src/jobs/model';
import type { JobRepository } from '../../src/jobs/ports';

export interface WaitOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** What was awaited, for the error. */
  what?: string;
}

/** Polls `probe` until it returns a value other than undefined; fails after `timeoutMs`. */
export async function until<T>(probe: () => Promise<T | undefined>, { timeoutMs = 10_000, intervalMs = 5, what = 'the condition' }: WaitOptions = {}): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** The job, once it satisfies `predicate`. */
export function untilJob(jobs: Pick<JobRepository, 'get'>, jobId: string, predicate: (job: Job) => boolean, options: WaitOptions = {}): Promise<Job> {
  const probe = async (): Promise<Job | undefined> => {
    const job = await jobs.get(jobId);
    return job && predicate(job) ? job : undefined;
  };
  return until(probe, { what: `job ${jobId} reaching the expected state`, ...options });
}
