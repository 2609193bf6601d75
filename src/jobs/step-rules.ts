/**
 * The step types and EMR's ActionOnFailure values, with the clusters' rules about them: shared by the POST /jobs
 * schema (request.ts), the configuration's schema and validation, and the tools. Apart from request.ts so that a
 * function that validates the configuration but no request body does not carry the body's schema.
 */

export const STEP_TYPES = ['spark', 'hive', 'command', 'jar'] as const;
/** EMR's StepConfig.ActionOnFailure values. */
export const ACTIONS_ON_FAILURE = ['CONTINUE', 'CANCEL_AND_WAIT', 'TERMINATE_CLUSTER', 'TERMINATE_JOB_FLOW'] as const;
export type ActionOnFailure = (typeof ACTIONS_ON_FAILURE)[number];
/** Clusters are shared: a failed step must never terminate one unless the caller asks for it. */
export const DEFAULT_ACTION_ON_FAILURE = 'CONTINUE' satisfies ActionOnFailure;

/** What a failing step with each action does to the rest of its cluster, whoever submitted the rest. */
const ACTION_EFFECT: Record<Exclude<ActionOnFailure, 'CONTINUE'>, string> = {
  CANCEL_AND_WAIT: "a failing CANCEL_AND_WAIT step cancels every pending step on the cluster, whoever submitted it",
  TERMINATE_CLUSTER: 'a failing TERMINATE_CLUSTER step cancels every pending step and terminates the cluster',
  TERMINATE_JOB_FLOW: 'a failing TERMINATE_JOB_FLOW step cancels every pending step and terminates the cluster',
};

/**
 * Why a cluster does not take a step with this ActionOnFailure (its `allowedActionsOnFailure` in the
 * configuration), or undefined if it does. The same for every caller: it is the cluster's rule, not a decision.
 */
export function actionOnFailureProblem(cluster: { id: string; name: string; allowedActionsOnFailure: readonly string[] }, action: string): string | undefined {
  if (cluster.allowedActionsOnFailure.includes(action)) return undefined;
  const effect = action in ACTION_EFFECT ? ` (${ACTION_EFFECT[action as keyof typeof ACTION_EFFECT]})` : '';
  return `${action} is not allowed on cluster ${cluster.id} (${cluster.name}): it allows ${cluster.allowedActionsOnFailure.join(', ')}${effect}`;
}

/**
 * Why a cluster takes no step of this gateway, or undefined if it does: every step the gateway submits names a
 * runtime role (ExecutionRoleArn), which EMR refuses where the cluster's security configuration does not enable
 * them. The cluster's rule, the same for every caller, as above: GET /roles offers no role there either.
 */
export function runtimeRolesProblem(cluster: { id: string; name: string; runtimeRoles: boolean }): string | undefined {
  if (cluster.runtimeRoles) return undefined;
  return `runtime roles are not enabled on cluster ${cluster.id} (${cluster.name}): its security configuration does not enable them (EnableApplicationScopedIAMRole), and EMR refuses every step that names one ("Runtime roles are not supported on this cluster."), as every step of this gateway does`;
}
