/**
 * Every EMR IAM action (service authorization reference): only `policy lint` needs the list, so it lives apart
 * from the actions the engine evaluates and stays out of the Lambda bundles.
 */
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
