/**
 * A job's audit trail checked where the dashboard runs, in the browser: every link and hash, event 0 the decision,
 * against the head the job records, and against the newest digest that anchored the chain (the event it recorded
 * must still be there, with the same hash). The MACs need the gateway's audit key: their check is the gateway's
 * (its `verification`), reported beside this one. One verdict for a badge: intact, or broken and why.
 */
import { verifyChain, type AuditEvent } from '../audit/chain';
import type { AuditResponse } from '../client';

export interface TrailCheck {
  verdict: 'intact' | 'broken';
  /** Each problem, by who found it (this browser, the gateway, the digests). */
  problems: string[];
  /** The first event where a break shows, where one was found at an event. */
  brokenAt?: number;
  events: number;
  /** What this browser checked: links and hashes of every event, the head, the anchor. */
  here: 'ok' | 'failed';
  /** The gateway's own check, which includes each event's MAC with the audit key. */
  gateway: { ok: boolean; macs?: 'verified' | 'unchecked' };
  anchor: AuditResponse['anchor'];
}

export function checkTrail(audit: AuditResponse, now: Date): TrailCheck {
  const events = audit.events.map((e) => ({ ...e, jobId: audit.jobId })) as AuditEvent[];
  const problems: string[] = [];
  const local = verifyChain(audit.jobId, events, { head: audit.head, firstType: 'DECISION', now });
  if (!local.ok) problems.push(`this browser: ${local.problem}`);
  const { anchor } = audit;
  if (anchor.status === 'anchored' && anchor.seq !== undefined && anchor.hash !== undefined) {
    const held = events[anchor.seq];
    if (!held) problems.push(`this browser: digest ${anchor.digest?.number ?? '?'} recorded event ${anchor.seq}, which the trail no longer has: it was cut`);
    else if (held.hash !== anchor.hash) problems.push(`this browser: event ${anchor.seq}'s hash differs from the one digest ${anchor.digest?.number ?? '?'} recorded: the chain was rewritten`);
  }
  if (!audit.verification.ok) problems.push(`the gateway: ${audit.verification.problem ?? 'the chain does not verify'}`);
  if (anchor.status === 'broken') problems.push(`the digests: ${anchor.problem ?? anchor.reason ?? 'the chain does not match its digests'}`);
  const brokenAt = !local.ok ? local.seq : audit.verification.ok ? undefined : audit.verification.seq;
  return {
    verdict: problems.length ? 'broken' : 'intact',
    problems,
    ...(brokenAt !== undefined ? { brokenAt } : {}),
    events: events.length,
    here: local.ok && !problems.some((p) => p.startsWith('this browser')) ? 'ok' : 'failed',
    gateway: { ok: audit.verification.ok, ...(audit.verification.macs ? { macs: audit.verification.macs } : {}) },
    anchor,
  };
}
