/** EMR's IAM actions (service authorization reference), and the four the gateway asks the policy about. */

export const GATEWAY_ACTIONS = {
  submit: 'elasticmapreduce:AddJobFlowSteps',
  describe: 'elasticmapreduce:DescribeStep',
  list: 'elasticmapreduce:ListSteps',
  cancel: 'elasticmapreduce:CancelSteps',
} as const;

export type GatewayAction = (typeof GATEWAY_ACTIONS)[keyof typeof GATEWAY_ACTIONS];

export const EMR_ACTIONS: readonly string[] = [
  'AccessAllEventLogs', 'AddInstanceFleet', 'AddInstanceGroups', 'AddJobFlowSteps', 'AddTags', 'AttachEditor', 'CancelSteps',
  'CreateEditor', 'CreatePersistentAppUI', 'CreateRepository', 'CreateSecurityConfiguration', 'CreateStudio',
  'CreateStudioPresignedUrl', 'CreateStudioSessionMapping', 'DeleteEditor', 'DeleteRepository',
  'DeleteSecurityConfiguration', 'DeleteStudio', 'DeleteStudioSessionMapping', 'DeleteWorkspaceAccess',
  'DescribeCluster', 'DescribeEditor', 'DescribeJobFlows', 'DescribeNotebookExecution', 'DescribePersistentAppUI',
  'DescribeReleaseLabel', 'DescribeRepository', 'DescribeSecurityConfiguration', 'DescribeStep', 'DescribeStudio',
  'DetachEditor', 'GetAutoTerminationPolicy', 'GetBlockPublicAccessConfiguration', 'GetClusterSessionCredentials',
  'GetManagedScalingPolicy', 'GetOnClusterAppUIPresignedURL', 'GetPersistentAppUIPresignedURL',
  'GetSession', 'GetSessionEndpoint', 'GetStudioSessionMapping', 'LinkRepository', 'ListBootstrapActions', 'ListClusters', 'ListEditors',
  'ListInstanceFleets', 'ListInstanceGroups', 'ListInstances', 'ListNotebookExecutions', 'ListReleaseLabels',
  'ListRepositories', 'ListSecurityConfigurations', 'ListSessions', 'ListSteps', 'ListStudioSessionMappings', 'ListStudios',
  'ListSupportedInstanceTypes', 'ListWorkspaceAccessIdentities', 'ModifyCluster', 'ModifyInstanceFleet',
  'ModifyInstanceGroups', 'OpenEditorInConsole', 'PutAutoScalingPolicy', 'PutAutoTerminationPolicy',
  'PutBlockPublicAccessConfiguration', 'PutManagedScalingPolicy', 'PutWorkspaceAccess', 'RemoveAutoScalingPolicy',
  'RemoveAutoTerminationPolicy', 'RemoveManagedScalingPolicy', 'RemoveTags', 'RunJobFlow',
  'SetKeepJobFlowAliveWhenNoSteps', 'SetTerminationProtection', 'SetUnhealthyNodeReplacement',
  'SetVisibleToAllUsers', 'StartEditor', 'StartNotebookExecution', 'StartSession', 'StopEditor', 'StopNotebookExecution',
  'TerminateJobFlows', 'TerminateSession', 'UnlinkRepository', 'UpdateEditor', 'UpdateRepository', 'UpdateStudio',
  'UpdateStudioSessionMapping', 'ViewEventsFromAllClustersInConsole',
].map((a) => `elasticmapreduce:${a}`);

/** Condition keys the gateway puts in a request's context (besides the principal-derived aws:* keys). */
export const GATEWAY_CONTEXT_KEYS = {
  executionRoleArn: 'elasticmapreduce:ExecutionRoleArn',
  stepType: 'emr-gateway:StepType',
  actionOnFailure: 'emr-gateway:ActionOnFailure',
} as const;
