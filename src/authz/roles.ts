/** Which runtime roles of the catalogue a caller may use on a cluster, asked of the policy engine. */
import type { Decision, PolicyEngine } from './engine';
import { submissionRequest, type Requester } from './submission';

export interface RoleOption {
  roleArn: string;
  /** The step types this caller may submit with this role (empty: the role is not usable). */
  stepTypes: string[];
  /** The decision for the first allowed step type, or for the last one tried when none is allowed. */
  decision: Decision;
}

export interface RolesForRequest extends Requester {
  clusterArn: string;
  catalogue: readonly string[];
  /** Step types to try; a role counts as usable when any of them is allowed. */
  stepTypes: readonly string[];
  /** The actionOnFailure a default submission carries. */
  actionOnFailure: string;
  /** The attempts a default submission asks for (the cluster's defaultRetry); 1 when absent. */
  retryMaxAttempts?: number;
}

export function rolesFor(engine: PolicyEngine, request: RolesForRequest): RoleOption[] {
  return request.catalogue.map((roleArn) => {
    const stepTypes: string[] = [];
    let shown: Decision | undefined;
    for (const stepType of request.stepTypes) {
      const decision = engine.evaluate(submissionRequest(request, request.clusterArn, { executionRoleArn: roleArn, stepType, actionOnFailure: request.actionOnFailure, ...(request.retryMaxAttempts !== undefined ? { retryMaxAttempts: request.retryMaxAttempts } : {}) }));
      if (decision.allowed) {
        stepTypes.push(stepType);
        shown ??= decision;
      } else if (!stepTypes.length) {
        shown = decision;
      }
    }
    return { roleArn, stepTypes, decision: shown! };
  });
}
