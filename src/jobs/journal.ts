/**
 * The two writes of every change to a job: the audit event first, then the job record with the new chain
 * head. No transactions: a crash between them is repaired by doing it again, because the append finds its
 * event by dedupe key and the job update is conditional on the version it read.
 */
import type { AuditDraft, AuditEvent } from '../audit/chain';
import type { Job } from './model';
import type { AuditLog, JobRepository } from './ports';

export type JobChange = (job: Job, event: AuditEvent) => Partial<Job> | undefined;

export async function recordEvent(jobs: JobRepository, audit: AuditLog, jobId: string, draft: AuditDraft, change: JobChange = () => undefined): Promise<{ job: Job; event: AuditEvent }> {
  const event = await audit.append(jobId, draft);
  const job = await jobs.transition(jobId, (current) => {
    const changes = change(current, event);
    const advance = event.seq > current.auditSeq ? { auditSeq: event.seq, auditHash: event.hash } : {};
    return changes || Object.keys(advance).length ? { ...changes, ...advance } : undefined;
  });
  return { job, event };
}
