/** A job's audit trail as the tests compare it, after checking that it verifies, MACs included, up to the head the job records. */
import type { AuditEvent } from '../../src/audit/chain';
import type { AuditSealer } from '../../src/audit/ports';
import { verifyTrail } from '../../src/audit/verify';
import type { AuditLog, JobRepository } from '../../src/jobs/ports';

/** Event types in order; a STATE_CHANGED event reads `STATE_CHANGED:<EMR state>`. */
export function eventLabels(events: readonly AuditEvent[]): string[] {
  return events.map((e) => (e.type === 'STATE_CHANGED' ? `STATE_CHANGED:${String(e.emr?.state)}` : e.type));
}

/**
 * The job's trail as labels. Asserts that the job exists and that the trail verifies with its MACs, from a
 * DECISION, against the job's recorded head (a cut tail fails; one event beyond it passes as a write in
 * flight); with `headAtEnd`, that the head is the last event.
 */
export async function verifiedTrail(
  stores: { audit: Pick<AuditLog, 'list'>; jobs: Pick<JobRepository, 'get'>; sealer: AuditSealer; clock?: { now: () => Date } },
  jobId: string,
  options: { headAtEnd?: boolean } = {},
): Promise<string[]> {
  const events = await stores.audit.list(jobId);
  const job = await stores.jobs.get(jobId);
  if (!job) throw new Error(`no job ${jobId}: its trail has no head to verify against`);
  const now = stores.clock?.now() ?? new Date();
  expect(await verifyTrail(stores.sealer, jobId, events, { head: { seq: job.auditSeq, hash: job.auditHash }, firstType: 'DECISION', now })).toMatchObject({ ok: true, macs: 'verified' });
  // `headAtEnd`: the job records the last event as its head (every change has been written through).
  if (options.headAtEnd) expect({ seq: job.auditSeq, hash: job.auditHash }).toEqual({ seq: events.length - 1, hash: events.at(-1)?.hash });
  return eventLabels(events);
}
