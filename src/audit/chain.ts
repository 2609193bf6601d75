/**
 * The audit hash chain: each event carries the hash of the one before (`prevHash`) and its own (`hash`,
 * SHA-256 over the canonical JSON of the event without `hash`). The first event's prevHash binds the chain
 * to its job. `verifyChain` reports the first gap, edit or broken link.
 */
import { hashOf, sha256 } from '../util/canonical';

export interface AuditEvent {
  jobId: string;
  seq: number;
  type: string;
  /** One event per key and job: a retried write finds its own event instead of appending a second one. */
  dedupeKey: string;
  at: string;
  actor?: Record<string, unknown>;
  subject?: Record<string, unknown>;
  decision?: Record<string, unknown>;
  emr?: Record<string, unknown>;
  detail?: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

export type AuditDraft = Omit<AuditEvent, 'jobId' | 'seq' | 'at' | 'prevHash' | 'hash'>;

export const genesisHash = (jobId: string): string => sha256(`emr-step-gateway:audit:${jobId}`);

export function hashEvent(event: Omit<AuditEvent, 'hash'> & { hash?: string }): string {
  const { hash: _ignored, ...rest } = event;
  return hashOf(rest);
}

export function seal(draft: AuditDraft, jobId: string, seq: number, prevHash: string, at: string): AuditEvent {
  const event = { ...draft, jobId, seq, at, prevHash };
  return { ...event, hash: hashEvent(event) };
}

export type VerifyResult =
  | { ok: true; events: number; head: string }
  | { ok: false; events: number; seq: number; problem: string };

/** Checks order, contiguity from 0, each link and each hash; and, given the job's recorded head, that no tail was cut. */
export function verifyChain(jobId: string, events: readonly AuditEvent[], head?: { seq: number; hash: string }): VerifyResult {
  let prev = genesisHash(jobId);
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    const fail = (problem: string): VerifyResult => ({ ok: false, events: events.length, seq: e.seq, problem });
    if (e.jobId !== jobId) return fail(`event ${e.seq} belongs to ${e.jobId}`);
    if (e.seq !== i) return fail(e.seq > i ? `events ${i}..${e.seq - 1} are missing` : `event ${e.seq} appears twice or out of order`);
    if (e.prevHash !== prev) return fail(`event ${i} does not link to event ${i - 1} (prevHash differs): an event was changed, removed or inserted`);
    if (hashEvent(e) !== e.hash) return fail(`event ${i} was modified after it was written (its hash does not match its content)`);
    prev = e.hash;
  }
  if (head && head.seq >= 0) {
    const at = events[head.seq];
    if (!at) return { ok: false, events: events.length, seq: head.seq, problem: `the job records event ${head.seq} as written, but the trail ends at ${events.length - 1}: events were removed` };
    if (at.hash !== head.hash) return { ok: false, events: events.length, seq: head.seq, problem: `event ${head.seq}'s hash differs from the one recorded on the job` };
  }
  return { ok: true, events: events.length, head: prev };
}
