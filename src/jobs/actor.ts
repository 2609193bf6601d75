/**
 * Who acts, as the policy engine identifies the caller: the principal (an assumed-role session's role), and a
 * session name that is a source identity only where its principals rule verifies it. One rule for every request
 * that reaches a decision (POST /jobs and its reads and cancels, POST /sessions and its reads).
 */
import type { PolicyEngine } from '../authz/engine';
import { ForbiddenError } from '../errors';
import type { Actor } from './model';

/** The authenticated caller, or a schedule or trigger acting as its configured principal. */
export interface Caller {
  callerArn: string;
  /** A configured source identity (a schedule's or trigger's own), never one a caller supplies. */
  sourceIdentity?: string;
  /** The schedule or trigger acting as its principal. */
  trigger?: string;
}

export function actorFor(engine: Pick<PolicyEngine, 'identify'>, caller: Caller): Actor {
  const identity = engine.identify(caller.callerArn, caller.sourceIdentity);
  if (!identity) throw new ForbiddenError(`"${caller.callerArn}" is not an IAM principal`);
  const { sourceIdentity, sessionName } = identity;
  return {
    principalArn: identity.principal.principalArn,
    callerArn: caller.callerArn,
    ...(sourceIdentity !== undefined ? { sourceIdentity } : {}),
    ...(sessionName !== undefined ? { sessionName } : {}),
    ...(caller.trigger !== undefined ? { trigger: caller.trigger } : {}),
  };
}
