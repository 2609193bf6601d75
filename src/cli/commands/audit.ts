/**
 * `audit JOB_ID|SESSION_ID [--verify]`: the job's (or interactive session's) audit trail. With --verify the chain is checked here, from the events
 * and the head the job records as the API returns them: order, links, hashes, that every event is sealed, that
 * event 0 is the DECISION, that no tail was cut and nothing appended after the head (one event younger than
 * IN_FLIGHT_SECONDS is a write in flight). The MACs need the audit key's kms:VerifyMac, which the gateway's
 * API function has and callers normally do not (and need not: a MAC is what a table writer cannot forge, and
 * the API reads the tables itself); that check is the gateway's, and is reported as such. Verified means both
 * this check and the gateway's passed, and the trail still holds the event its newest digest anchored (the
 * digests of the chain heads, signed and kept outside the tables: a rollback to an older, validly sealed state).
 */
import { parseArgs } from 'node:util';
import { verifyChain, type VerifyResult } from '../../audit/chain';
import type { CliEnvironment } from '../../config/env';
import type { AuditResponse } from '../../client';
import { connect, connectionOptions, withApiErrors } from '../connection';
import { json, table, type Io } from '../output';
import { SESSION_ID } from '../../identifiers';
import { EXIT, jobIdArg } from '../usage';

export type Verification =
  | Extract<VerifyResult, { ok: false }>
  | (Omit<Extract<VerifyResult, { ok: true }>, 'macs'> & { macs: 'verified by the gateway'; anchor: AuditResponse['anchor'] });

export async function audit(args: string[], io: Io, env: CliEnvironment): Promise<number> {
  const { values, positionals } = parseArgs({ args, strict: true, allowPositionals: true, options: { ...connectionOptions, verify: { type: 'boolean', default: false } } });
  const { client, output } = connect(values, env);
  const chainId = jobIdArg(positionals);
  // A session's trail (POST /sessions) is read and checked as a job's: its own chain, head and digests.
  const session = SESSION_ID.test(chainId);
  return withApiErrors(io, async () => {
    const trail = session ? await client.sessionAudit(chainId) : await client.audit(chainId);
    const verification = verifyAuditResponse(chainId, trail);
    if (output === 'json') io.out(json({ ...trail, ...(values.verify ? { verification, gatewayVerification: trail.verification } : {}) }));
    else {
      io.out(
        table(
          ['SEQ', 'AT', 'EVENT', 'BY', 'DETAIL'],
          trail.events.map((e) => [String(e.seq), e.at, e.type, actorLabel(e.actor), summary(e)]),
        ),
      );
      if (values.verify) io.out(describe(verification, trail.head.seq, session ? 'session' : 'job'));
    }
    return values.verify && !verification.ok ? EXIT.failed : EXIT.ok;
  });
}

/**
 * This side's checks first (the server's verdict is not taken on trust for what can be checked here), then the
 * gateway's MAC check. Exported for the soak (bench/soak.ts), which checks every trail as `audit --verify` does.
 */
export function verifyAuditResponse(jobId: string, trail: Omit<AuditResponse, 'jobId'>): Verification {
  const local = verifyChain(jobId, trail.events.map((e) => ({ ...e, jobId })), { head: trail.head, firstType: 'DECISION', now: new Date() });
  if (!local.ok) return local;
  const server = trail.verification;
  if (!server.ok) return { ok: false, events: local.events, seq: server.seq ?? 0, problem: `${server.problem ?? 'the trail does not verify'} (the gateway's check)` };
  if (server.macs !== 'verified') return { ok: false, events: local.events, seq: 0, problem: "the gateway did not check the events' MACs" };
  // The rollback check: the digests' signatures are the gateway's to check (it reads the digest bucket); that the
  // anchored event is still in this trail, with that hash, is checked here too.
  const { anchor } = trail;
  if (anchor.status === 'broken') return { ok: false, events: local.events, seq: anchor.seq ?? 0, problem: `${anchor.problem ?? 'the trail does not match its digests'} (the digests)` };
  if (anchor.status === 'anchored') {
    const seq = anchor.seq ?? -1;
    if (trail.events[seq]?.hash !== anchor.hash || trail.head.seq < seq) {
      return { ok: false, events: local.events, seq, problem: `digest ${anchor.digest?.number ?? '?'} recorded event ${seq} with hash ${anchor.hash ?? '?'}, which this trail does not hold: the chain was rolled back or rewritten` };
    }
  }
  return { ...local, macs: 'verified by the gateway', anchor };
}

function describe(v: Verification, headSeq: number, what: 'job' | 'session'): string {
  if (!v.ok) return `BROKEN at event ${v.seq}: ${v.problem}`;
  const inFlight = v.inFlight ? `; event ${v.inFlight.seq} (written ${v.inFlight.at}) is beyond the head, a write in flight` : '';
  const anchor =
    v.anchor.status === 'anchored'
      ? `anchored: digest ${v.anchor.digest?.number ?? '?'} (changes up to ${v.anchor.digest?.to ?? '?'}) recorded event ${v.anchor.seq ?? '?'}, still in place`
      : `not anchored yet: ${v.anchor.reason ?? 'no digest records it'}`;
  const latest = v.anchor.latestDigest ? `; newest digest ${v.anchor.latestDigest.number}, changes up to ${v.anchor.latestDigest.to}` : '';
  return `verified: ${v.events} events, chain head ${v.head}, the ${what}'s head at event ${headSeq}${inFlight}; MACs verified by the gateway; ${anchor}${latest}`;
}

/** Who: the source identity, else the caller, else the principal (a READ_DENIED/CANCEL_DENIED on a job names only its role). */
function actorLabel(actor: Record<string, unknown> | undefined): string {
  const who = actor?.sourceIdentity ?? actor?.callerArn ?? actor?.principalArn;
  return typeof who === 'string' ? who : '';
}

function summary(e: { type?: string; decision?: Record<string, unknown>; emr?: Record<string, unknown>; detail?: Record<string, unknown> }): string {
  if (e.decision) return String(e.decision.result);
  // A notification's attempt: `hook COMPLETED delivered (1/5) https://hooks.example.com 204`.
  if (e.type === 'NOTIFICATION' && e.detail) {
    const d = e.detail;
    const of = typeof d.of === 'number' ? `/${d.of}` : '';
    return [d.notification, d.state, `${String(d.outcome)} (${String(d.attempt)}${of})`, d.endpoint, d.httpStatus ?? d.error].filter((v) => v !== undefined).map(String).join(' ').slice(0, 160);
  }
  if (e.emr) return [e.emr.stepId, e.emr.state].filter((v): v is string => typeof v === 'string').join(' ');
  if (e.detail) return Object.entries(e.detail).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ').slice(0, 120);
  return '';
}
