/** The EMR actions the gateway asks the policy about, and the condition keys it sets. */

export const GATEWAY_ACTIONS = {
  submit: 'elasticmapreduce:AddJobFlowSteps',
  describe: 'elasticmapreduce:DescribeStep',
  list: 'elasticmapreduce:ListSteps',
  cancel: 'elasticmapreduce:CancelSteps',
  /** POST /sessions: an interactive session's credentials, with the runtime role as elasticmapreduce:ExecutionRoleArn. */
  sessionCredentials: 'elasticmapreduce:GetClusterSessionCredentials',
} as const;

export type GatewayAction = (typeof GATEWAY_ACTIONS)[keyof typeof GATEWAY_ACTIONS];

/** Condition keys the gateway puts in a request's context (besides the principal-derived aws:* keys). */
export const GATEWAY_CONTEXT_KEYS = {
  executionRoleArn: 'elasticmapreduce:ExecutionRoleArn',
  stepType: 'emr-gateway:StepType',
  actionOnFailure: 'emr-gateway:ActionOnFailure',
  /** Numeric: the attempts a submission asks for in all (its retry policy's maxAttempts, the cluster's default, or 1). */
  retryMaxAttempts: 'emr-gateway:RetryMaxAttempts',
  /** Numeric: the queue priority a submission asks for (0-9; 5 when it names none). */
  priority: 'emr-gateway:Priority',
  /** The notifications a submission names (`notify`), multi-valued: ForAllValues:StringEquals limits them. */
  notify: 'emr-gateway:Notify',
} as const;

/**
 * The role session name of an assumed-role caller, exactly as whoever called AssumeRole chose it. Derived from the
 * caller (no request can set it), yet a claim, not an identity: only a principals rule marked
 * `sessionNames: verified` also makes it aws:SourceIdentity.
 */
export const SESSION_NAME_KEY = 'emr-gateway:SessionName';
