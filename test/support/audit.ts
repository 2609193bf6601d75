/** A job's audit trail as the tests compare it, after checking that its hash chain verifies up to the head the job records. */
import { verifyChain, type AuditEvent } from '../../src/audit/chain';
import type { AuditLog, JobRepository } from '../../src/jobs/ports';

/** Event types in order; a STATE_CHANGED event reads `STATE_CHANGED:<EMR state>`. */
export function eventLabels(events: readonly AuditEvent[]): string[] {
  return events.map((e) => (e.type === 'STATE_CHANGED' ? `STATE_CHANGED:${String(e.emr?.state)}` : e.type));
}

/**
 * The job's trail as labels. Asserts that the job exists and that the chain verifies, including against the
 * job's recorded head (a cut tail fails); with `headAtEnd`, that the head is the last event.
 */
export async function verifiedTrail(
  stores: { audit: Pick<AuditLog, 'list'>; jobs: Pick<JobRepository, 'get'> },
  jobId: string,
  options: { headAtEnd?: boolean } = {},
): Promise<string[]> {
  const events = await stores.audit.list(jobId);
  const job = await stores.jobs.get(jobId);
  if (!job) throw new Error(`no job ${jobId}: its trail has no head to verify against`);
  expect(verifyChain(jobId, events, { seq: job.auditSeq, hash: job.auditHash })).toMatchObject({ ok: true });
  // `headAtEnd`: the job records the last event as its head (every change has been written through).
  if (options.headAtEnd) expect({ seq: job.auditSeq, hash: job.auditHash }).toEqual({ seq: events.length - 1, hash: events.at(-1)?.hash });
  return eventLabels(events);
}
