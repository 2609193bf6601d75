/**
 * Defence in depth for the submit task: a job record is only data in a table, so before a step is added the
 * task checks that the job is what a decision allowed. Its audit trail must begin with DECISION events, sealed
 * with the gateway's audit key, one of which is an Allow of exactly this request (its hash, principal, role,
 * cluster); the role must be in the catalogue and the cluster configured. Someone who can write the jobs
 * table but not use the audit key can plant a record, not such a trail.
 */
import type { AuditEvent } from '../audit/chain';
import type { AuditSealer } from '../audit/ports';
import { verifyTrail } from '../audit/verify';
import type { GatewayConfig } from '../config/validate';
import { canonicalJson, hashOf } from '../util/canonical';
import { stepArguments } from './emr-step';
import type { Job } from './model';

export type AdmissionConfig = Pick<GatewayConfig, 'runtimeRoles' | 'clusters'>;

/** Why the step of `job` must not be added, or undefined when the trail shows a decision that allowed exactly it. */
export async function admissionRefusal(job: Job, trail: readonly AuditEvent[], config: AdmissionConfig, sealer: AuditSealer): Promise<string | undefined> {
  const { request } = job;
  for (const roleArn of new Set([request.executionRoleArn, job.executionRoleArn])) {
    if (!config.runtimeRoles.includes(roleArn)) return `the runtime role ${roleArn} is not in the gateway's catalogue`;
  }
  if (!config.clusters.some((c) => c.id === request.clusterId)) return `${request.clusterId} is not a cluster this gateway manages`;
  // What EMR would run comes from `request`; the rest of the record must say the same.
  const consistent =
    hashOf(request) === job.requestHash &&
    hashOf(stepArguments(request.step)) === job.argsHash &&
    job.executionRoleArn === request.executionRoleArn &&
    job.clusterId === request.clusterId &&
    job.principalArn === job.actor.principalArn;
  if (!consistent) return 'the job record does not match its request';

  // Only decisions precede the job's own (concurrent submissions of other bodies under one Idempotency-Key).
  const decisions: AuditEvent[] = [];
  for (const event of trail) {
    if (event.type !== 'DECISION') break;
    decisions.push(event);
  }
  if (!decisions.length) return trail.length ? 'its audit trail does not begin with a decision: no decision allowed it' : 'its audit trail is empty: no decision allowed it';
  const index = decisions.findIndex((e) => e.subject?.requestHash === job.requestHash);
  const decision = decisions[index];
  if (!decision) return 'its audit trail has no decision for this request (one for another role, cluster or body is no decision for this one)';
  if (canonicalJson(decision.actor) !== canonicalJson(job.actor)) return "the decision in its audit trail was on another principal's request";
  const subject = decision.subject ?? {};
  if (subject.executionRoleArn !== request.executionRoleArn || subject.clusterId !== request.clusterId || subject.argsHash !== job.argsHash) {
    return 'the decision in its audit trail was on another role, cluster or step';
  }
  const result = decision.decision?.result;
  if (result !== 'Allowed') return `the decision on this request was ${String(result)}`;
  // Checked last, as it costs a MAC verification per event: the decisions up to the job's, sealed by the gateway.
  const verification = await verifyTrail(sealer, job.jobId, trail.slice(0, index + 1), { firstType: 'DECISION' });
  if (!verification.ok) return `its audit trail does not verify: ${verification.problem}`;
  return undefined;
}
