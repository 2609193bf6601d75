/**
 * The authorization request of a submission (elasticmapreduce:AddJobFlowSteps), built in one place: POST /jobs
 * decides with it and GET /roles (and `emr-gateway roles`) asks it for each catalogued role, so the two can
 * never disagree about which keys a decision sees. And that of an interactive session
 * (elasticmapreduce:GetClusterSessionCredentials, POST /sessions): the same requester and the same
 * elasticmapreduce:ExecutionRoleArn, as IAM sees both actions.
 */
import { PRIORITY } from '../jobs/queue';
import { GATEWAY_ACTIONS, GATEWAY_CONTEXT_KEYS } from './actions';
import type { ContextValue } from './context';
import type { AuthzRequest } from './engine';

/** Who asks: the authenticated caller, with a configured source identity and the time of the request. */
export interface Requester {
  callerArn: string;
  sourceIdentity?: string;
  now?: Date;
}

/** What a submission asks for, as far as the policy can see it. */
export interface Submission {
  executionRoleArn: string;
  stepType: string;
  actionOnFailure: string;
  /** The attempts asked for in all, the first included (retry.maxAttempts); 1, no retry, when absent. */
  retryMaxAttempts?: number;
  /** The queue priority asked for (0-9); 5 when absent. */
  priority?: number;
  tags?: Readonly<Record<string, string>>;
  /** The notifications the request names. */
  notify?: readonly string[];
}

/** The context keys of a submission, as IAM would see them for AddJobFlowSteps (plus the gateway's own). */
export function submissionContext(submission: Submission): Record<string, ContextValue> {
  const tags = submission.tags ?? {};
  return {
    [GATEWAY_CONTEXT_KEYS.executionRoleArn]: submission.executionRoleArn,
    [GATEWAY_CONTEXT_KEYS.stepType]: submission.stepType,
    [GATEWAY_CONTEXT_KEYS.actionOnFailure]: submission.actionOnFailure,
    // Always set, so a Numeric* condition limiting retries also holds for a submission without any.
    [GATEWAY_CONTEXT_KEYS.retryMaxAttempts]: String(submission.retryMaxAttempts ?? 1),
    // Always set too: a NumericLessThanEquals on it limits the default priority as any asked for.
    [GATEWAY_CONTEXT_KEYS.priority]: String(submission.priority ?? PRIORITY.default),
    ...Object.fromEntries(Object.entries(tags).map(([k, v]) => [`aws:RequestTag/${k}`, v])),
    ...(Object.keys(tags).length ? { 'aws:TagKeys': Object.keys(tags) } : {}),
    ...(submission.notify?.length ? { [GATEWAY_CONTEXT_KEYS.notify]: [...submission.notify] } : {}),
  };
}

/** What an interactive session asks for (GetClusterSessionCredentials has no step: only the runtime role is a request key). */
export function sessionCredentialsRequest(requester: Requester, clusterArn: string, executionRoleArn: string): AuthzRequest {
  return {
    callerArn: requester.callerArn,
    action: GATEWAY_ACTIONS.sessionCredentials,
    resource: clusterArn,
    context: { [GATEWAY_CONTEXT_KEYS.executionRoleArn]: executionRoleArn },
    ...(requester.sourceIdentity !== undefined ? { sourceIdentity: requester.sourceIdentity } : {}),
    ...(requester.now ? { now: requester.now } : {}),
  };
}

export function submissionRequest(requester: Requester, clusterArn: string, submission: Submission): AuthzRequest {
  return {
    callerArn: requester.callerArn,
    action: GATEWAY_ACTIONS.submit,
    resource: clusterArn,
    context: submissionContext(submission),
    ...(requester.sourceIdentity !== undefined ? { sourceIdentity: requester.sourceIdentity } : {}),
    ...(requester.now ? { now: requester.now } : {}),
  };
}
