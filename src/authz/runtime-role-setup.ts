/**
 * The IAM side of the EMR runtime-role setup, as the documentation gives it ("Runtime roles for Amazon EMR steps"),
 * built from the gateway's configuration: step 2, the instance profile role's permission to assume the runtime
 * roles (AllowRuntimeRoleUsage, and sts:SetSourceIdentity where a cluster propagates the source identity); step 3
 * with the ExternalId and source-identity sections, each runtime role's trust policy (the instance profile role,
 * the security configurations' ExternalIds, AllowSetSourceIdentity). The local stack seeds its IAM with these;
 * a check of a real account can state them as the fix.
 */
import type { ClusterConfig } from '../config/schema';
import { parseLogUri } from '../identifiers';

export interface PolicyDocument {
  Version: '2012-10-17';
  Statement: Record<string, unknown>[];
}

/** EMR's default instance profile role (`aws emr create-default-roles`). */
export const DEFAULT_INSTANCE_PROFILE_ROLE = 'EMR_EC2_DefaultRole';
/** The inline policy of the instance profile role that step 2 adds, named after its statement. */
export const RUNTIME_ROLE_USAGE_POLICY = 'AllowRuntimeRoleUsage';

/**
 * The instance profile role a cluster's nodes run as, as the local stack makes it: the role of the same name as
 * the configured instance profile (as `aws emr create-default-roles` makes EMR_EC2_DefaultRole). In AWS the
 * cluster's own instance profile decides (DescribeCluster, then IAM GetInstanceProfile).
 */
export function instanceProfileRoleName(cluster: Pick<ClusterConfig, 'id'> & { local?: { instanceProfile?: string } }): string {
  return cluster.local?.instanceProfile ?? DEFAULT_INSTANCE_PROFILE_ROLE;
}

/** The instance profile role's trust policy: EC2 gives the cluster's nodes its credentials. */
export function instanceProfileTrustPolicy(): PolicyDocument {
  return { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }] };
}

/** Step 2: the instance profile role may assume and tag the runtime roles, and set the source identity where propagated. */
export function runtimeRoleUsagePolicy(runtimeRoleArns: readonly string[], setSourceIdentity: boolean): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      { Sid: 'AllowRuntimeRoleUsage', Effect: 'Allow', Action: ['sts:AssumeRole', 'sts:TagSession'], Resource: [...runtimeRoleArns] },
      // The documentation's statement pins sts:SourceIdentity to one <source-identity>; the gateway propagates its
      // callers' (each a person), so it is not pinned here: the runtime role's trust policy ties it to the ExternalId.
      ...(setSourceIdentity ? [{ Sid: 'PropagateSourceIdentity', Effect: 'Allow', Action: 'sts:SetSourceIdentity', Resource: [...runtimeRoleArns] }] : []),
    ],
  };
}

/** Who may assume a runtime role: an instance profile role, with the ExternalIds of its clusters' security configurations. */
export interface RuntimeRoleGrant {
  instanceProfileRoleArn: string;
  /** Of every runtime-role cluster the instance profile serves. */
  externalIds: readonly string[];
  /** Of those clusters that propagate the source identity. */
  sourceIdentityExternalIds: readonly string[];
}

/** Step 3: a runtime role's trust policy (AllowAssumeRole with the ExternalId, AllowSetSourceIdentity). */
export function runtimeRoleTrustPolicy(grants: readonly RuntimeRoleGrant[]): PolicyDocument {
  const externalId = (ids: readonly string[]) => ({ StringEquals: { 'sts:ExternalId': ids.length === 1 ? ids[0] : [...ids] } });
  return {
    Version: '2012-10-17',
    Statement: grants.flatMap((grant, i) => {
      const suffix = grants.length > 1 ? String(i + 1) : '';
      const principal = { AWS: grant.instanceProfileRoleArn };
      return [
        { Sid: `AllowAssumeRole${suffix}`, Effect: 'Allow', Principal: principal, Action: ['sts:AssumeRole', 'sts:TagSession'], Condition: externalId(grant.externalIds) },
        ...(grant.sourceIdentityExternalIds.length
          ? [{ Sid: `AllowSetSourceIdentity${suffix}`, Effect: 'Allow', Principal: principal, Action: ['sts:SetSourceIdentity', 'sts:AssumeRole'], Condition: externalId(grant.sourceIdentityExternalIds) }]
          : []),
      ];
    }),
  };
}

/** Step 1: the security configuration's IAM part (EMR adds the ExternalId when it creates the configuration). */
export function runtimeRoleSecurityConfiguration(propagateSourceIdentity: boolean): { AuthorizationConfiguration: { IAMConfiguration: Record<string, unknown> } } {
  return {
    AuthorizationConfiguration: {
      IAMConfiguration: { EnableApplicationScopedIAMRole: true, ...(propagateSourceIdentity ? { ApplicationScopedIAMRoleConfiguration: { PropagateSourceIdentity: true } } : {}) },
    },
  };
}

/** The inline policy of the gateway's submitter role (serverless.yml, and the local stack's seed). */
export const SUBMITTER_POLICY = 'add-steps-as-catalogue-roles';

/**
 * "Control access to the Amazon EMR runtime role", for the gateway's own role: it may add steps to the configured
 * clusters with the catalogue's runtime roles (elasticmapreduce:ExecutionRoleArn, StringEquals), and no other.
 */
export function submitterAddStepsStatement(clusterArns: readonly string[], runtimeRoleArns: readonly string[]): Record<string, unknown> {
  return {
    Sid: 'AddStepsWithCatalogueRuntimeRoles',
    Effect: 'Allow',
    Action: 'elasticmapreduce:AddJobFlowSteps',
    Resource: [...clusterArns],
    ...(runtimeRoleArns.length ? { Condition: { StringEquals: { 'elasticmapreduce:ExecutionRoleArn': [...runtimeRoleArns] } } } : {}),
  };
}

/** The inline policy of the gateway's sessions role (serverless.yml EmrGatewaySessions, and the local stack's seed). */
export const SESSIONS_POLICY = 'session-credentials-as-catalogue-roles';

/**
 * The same control for interactive sessions (the EMR documentation names GetClusterSessionCredentials beside
 * AddJobFlowSteps): credentials for the configured clusters with the catalogue's runtime roles, and no other.
 */
export function sessionCredentialsStatement(clusterArns: readonly string[], runtimeRoleArns: readonly string[]): Record<string, unknown> {
  return { ...submitterAddStepsStatement(clusterArns, runtimeRoleArns), Sid: 'SessionCredentialsWithCatalogueRuntimeRoles', Action: 'elasticmapreduce:GetClusterSessionCredentials' };
}

/** The IAM configuration of a security configuration (its AuthorizationConfiguration.IAMConfiguration). */
export interface RuntimeRoleSettings {
  enabled: boolean;
  propagateSourceIdentity: boolean;
  externalId?: string;
  /** LakeFormationConfiguration.AuthorizedSessionTagValue: the session tag value EMR's runtime-role sessions carry. */
  authorizedSessionTagValue?: string;
}

/** The runtime-role settings of a security configuration's JSON, or why it cannot be read. */
export function runtimeRoleSettings(json: string): RuntimeRoleSettings | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (error) {
    return `its SecurityConfiguration is not JSON (${(error as Error).message})`;
  }
  const iam = (parsed as { AuthorizationConfiguration?: { IAMConfiguration?: Record<string, unknown> } } | null)?.AuthorizationConfiguration?.IAMConfiguration;
  const scoped = iam?.ApplicationScopedIAMRoleConfiguration as { PropagateSourceIdentity?: unknown; ExternalId?: unknown } | undefined;
  const tag = (parsed as { AuthorizationConfiguration?: { LakeFormationConfiguration?: { AuthorizedSessionTagValue?: unknown } } } | null)?.AuthorizationConfiguration?.LakeFormationConfiguration?.AuthorizedSessionTagValue;
  return {
    enabled: iam?.EnableApplicationScopedIAMRole === true,
    propagateSourceIdentity: scoped?.PropagateSourceIdentity === true,
    ...(typeof scoped?.ExternalId === 'string' && scoped.ExternalId ? { externalId: scoped.ExternalId } : {}),
    ...(typeof tag === 'string' ? { authorizedSessionTagValue: tag } : {}),
  };
}

/** The inline policy of a cluster account's access role (what its owners grant the gateway; doctor checks it). */
export const ACCESS_ROLE_POLICY = 'emr-gateway-access';
/** The gateway role's inline policy (locally) that lets it assume the access roles. */
export const ASSUME_ACCESS_ROLES_POLICY = 'assume-cluster-access-roles';
/** What the gateway does on a cluster besides adding steps and getting session credentials: read its steps, cancel them. */
export const ACCESS_ROLE_READ_ACTIONS = ['elasticmapreduce:DescribeCluster', 'elasticmapreduce:DescribeStep', 'elasticmapreduce:ListSteps', 'elasticmapreduce:CancelSteps'] as const;
/** The Spark UI links (GET /jobs/{id}/ui), asked with the job's runtime role as ExecutionRoleArn. */
export const ACCESS_ROLE_APP_UI_LINK_ACTIONS = ['elasticmapreduce:GetOnClusterAppUIPresignedURL', 'elasticmapreduce:GetPersistentAppUIPresignedURL'] as const;

/**
 * GET /jobs/{id}/ui's EMR calls: the presigned links with the catalogue's roles only (ExecutionRoleArn: StringEquals
 * where the service authorization reference lists the key for the action, IfExists for GetOnClusterAppUIPresignedURL,
 * for which it does not, as a StringEquals on a key the request lacks never holds), and CreatePersistentAppUI, which
 * takes no role, on the clusters. serverless.yml grants the API role the same.
 */
export function appUiStatements(clusterArns: readonly string[], runtimeRoleArns: readonly string[]): Record<string, unknown>[] {
  const roles = { 'elasticmapreduce:ExecutionRoleArn': [...runtimeRoleArns] };
  return [
    { Sid: 'PersistentAppUiLinksWithCatalogueRuntimeRoles', Effect: 'Allow', Action: 'elasticmapreduce:GetPersistentAppUIPresignedURL', Resource: [...clusterArns], Condition: { StringEquals: roles } },
    { Sid: 'OnClusterAppUiLinksWithCatalogueRuntimeRoles', Effect: 'Allow', Action: 'elasticmapreduce:GetOnClusterAppUIPresignedURL', Resource: [...clusterArns], Condition: { StringEqualsIfExists: roles } },
    { Sid: 'PersistentAppUiOfClusters', Effect: 'Allow', Action: 'elasticmapreduce:CreatePersistentAppUI', Resource: [...clusterArns] },
  ];
}

/** Where a cluster's step logs are: EMR writes a step's under `<LogUri><clusterId>/steps/`. */
export interface StepLogPlace {
  bucket: string;
  prefix: string;
  clusterId: string;
}

/** The step-log places of the clusters that have a LogUri. */
export function stepLogPlaces(clusters: readonly Pick<ClusterConfig, 'id' | 'logUri'>[]): StepLogPlace[] {
  return clusters.flatMap((c) => (c.logUri === undefined ? [] : [{ ...parseLogUri(c.logUri), clusterId: c.id }]));
}

/**
 * The read of step logs (GET /jobs/{id}/logs): GetObject under each cluster's steps/ and nowhere else in the bucket;
 * ListBucket, per bucket, only for those prefixes (s3:prefix), so that a log not written yet is told apart from one
 * the role may not read (S3 answers AccessDenied, not NoSuchKey, to a role that may not list). None without a place.
 */
export function stepLogReadStatements(partition: string, places: readonly StepLogPlace[]): Record<string, unknown>[] {
  if (!places.length) return [];
  const s3 = `arn:${partition}:s3:::`;
  const prefixes = new Map<string, string[]>();
  for (const { bucket, prefix, clusterId } of places) prefixes.set(bucket, [...new Set([...(prefixes.get(bucket) ?? []), `${prefix}${clusterId}/steps/*`])]);
  return [
    { Sid: 'ReadStepLogsOfConfiguredClusters', Effect: 'Allow', Action: 's3:GetObject', Resource: [...new Set(places.map((l) => `${s3}${l.bucket}/${l.prefix}${l.clusterId}/steps/*`))] },
    ...[...prefixes].map(([bucket, list], i) => ({ Sid: `ListStepLogs${i + 1}`, Effect: 'Allow', Action: 's3:ListBucket', Resource: `${s3}${bucket}`, Condition: { StringLike: { 's3:prefix': list } } })),
  ];
}

/**
 * An access role's permissions in the cluster's account: steps and session credentials with the catalogue's runtime
 * roles only (the ExecutionRoleArn condition, as for the gateway's own roles), the reads and cancels of its steps, the
 * Spark UI links (as the API role's), on the account's configured clusters and nothing else; and the read of those
 * clusters' step logs, whose buckets are that account's.
 */
export function accessRolePolicy(clusterArns: readonly string[], runtimeRoleArns: readonly string[], logs: { partition: string; places: readonly StepLogPlace[] } = { partition: 'aws', places: [] }): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      submitterAddStepsStatement(clusterArns, runtimeRoleArns),
      sessionCredentialsStatement(clusterArns, runtimeRoleArns),
      { Sid: 'ReadAndCancelSteps', Effect: 'Allow', Action: [...ACCESS_ROLE_READ_ACTIONS], Resource: [...clusterArns] },
      ...appUiStatements(clusterArns, runtimeRoleArns),
      ...stepLogReadStatements(logs.partition, logs.places),
    ],
  };
}

/** The ExternalId condition of an access role's trust and of the gateway's permission to assume it (none where none is set). */
const externalIdCondition = (externalId: string | undefined) => (externalId ? { Condition: { StringEquals: { 'sts:ExternalId': externalId } } } : {});

/**
 * An access role's trust: the gateway's role (of the gateway's account) may assume it with the ExternalId, and set the
 * source identity where a cluster it serves propagates it.
 */
export function accessRoleTrustPolicy(gatewayRoleArns: string | readonly string[], externalId: string | undefined, setSourceIdentity: boolean): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'EmrGatewayAssumesAccessRole',
        Effect: 'Allow',
        Principal: { AWS: typeof gatewayRoleArns === 'string' ? gatewayRoleArns : [...gatewayRoleArns] },
        Action: setSourceIdentity ? ['sts:AssumeRole', 'sts:SetSourceIdentity'] : 'sts:AssumeRole',
        ...externalIdCondition(externalId),
      },
    ],
  };
}

/**
 * The gateway's permission to assume the access roles: exactly the configured ones, each with its ExternalId, and
 * sts:SetSourceIdentity only for those whose clusters propagate the source identity (and only for a caller that sets one:
 * `setsSourceIdentity`, the submitting and session-issuing functions; the others read and cancel). Empty where every cluster is
 * of the gateway's account.
 */
export function assumeAccessRoleStatements(clusters: readonly Pick<ClusterConfig, 'accessRole' | 'propagateSourceIdentity'>[], setsSourceIdentity = true): Record<string, unknown>[] {
  const byRole = new Map<string, { externalId?: string; propagate: boolean }>();
  for (const c of clusters) {
    if (!c.accessRole) continue;
    const entry = byRole.get(c.accessRole.arn) ?? { ...(c.accessRole.externalId ? { externalId: c.accessRole.externalId } : {}), propagate: false };
    entry.propagate ||= c.propagateSourceIdentity;
    byRole.set(c.accessRole.arn, entry);
  }
  return [...byRole].map(([arn, e], i) => ({
    Sid: `AssumeClusterAccessRole${i + 1}`,
    Effect: 'Allow',
    Action: e.propagate && setsSourceIdentity ? ['sts:AssumeRole', 'sts:SetSourceIdentity'] : 'sts:AssumeRole',
    Resource: arn,
    ...externalIdCondition(e.externalId),
  }));
}
