/**
 * What `emr-gateway doctor` reads of an account, as the domain sees it, and the ports it reads through. Each read
 * either succeeds or says why not (AccessDenied, NoSuchEntity, a role of another account): a read that fails
 * is a fact like any other, which the checks report as a finding, never an exception. The adapters
 * (src/adapters/emr/cluster-reader.ts, src/adapters/iam/role-reader.ts) implement the ports with the SDK.
 */

/** Why a read did not succeed. */
export interface ReadFailure {
  /** `missing`: the resource does not exist; `denied`: the credentials may not read it; `unreadable`: it cannot be read from here (another account); `failed`: anything else. */
  kind: 'missing' | 'denied' | 'unreadable' | 'failed';
  /** The API operation, e.g. `iam:GetRole`. */
  operation: string;
  /** What was read (an ARN or name). */
  resource: string;
  /** The service's error code (AccessDenied, NoSuchEntity, ...), or the reason. */
  code: string;
  message: string;
}

export type Read<T> = { ok: true; value: T } | { ok: false; failure: ReadFailure };

export const readOk = <T>(value: T): Read<T> => ({ ok: true, value });
export const readFailed = <T>(failure: ReadFailure): Read<T> => ({ ok: false, failure });

/** `cannot read X (iam:GetRole): AccessDenied: message`. */
export function describeFailure(failure: ReadFailure): string {
  const message = failure.message && failure.message !== failure.code ? `: ${failure.message}` : '';
  return `cannot read ${failure.resource} (${failure.operation}): ${failure.code}${message}`;
}

/** How many primary nodes the cluster asked for (3: a multi-primary, highly available cluster). */
export interface PrimaryNodes {
  count: number;
  /** Where the number comes from: the MASTER instance group's RequestedInstanceCount, or the MASTER fleet's target capacities. */
  source: 'instance-group' | 'instance-fleet';
}

/** DescribeCluster, as far as the runtime-role prerequisites go. */
export interface ClusterFacts {
  id: string;
  name: string;
  arn: string;
  state: string;
  releaseLabel?: string;
  applications: { name: string; version?: string }[];
  /** Ec2InstanceAttributes.IamInstanceProfile: the instance profile the nodes run with (a name; an ARN is reduced to its name). */
  instanceProfile?: string;
  securityConfiguration?: string;
  /** LogUri: where EMR archives the cluster's logs (set when the cluster is made; s3n:// as often as s3://). */
  logUri?: string;
  collectionType?: 'INSTANCE_GROUP' | 'INSTANCE_FLEET';
  /** ListInstanceGroups (or ListInstanceFleets): read with the cluster, it may fail on its own. */
  primaryNodes: Read<PrimaryNodes>;
}

/** DescribeSecurityConfiguration: the name and the JSON document, as EMR returns it (a string). */
export interface SecurityConfigurationFacts {
  name: string;
  json: string;
}

/** GetInstanceProfile: the instance profile and the ARNs of its roles (at most one). */
export interface InstanceProfileFacts {
  name: string;
  arn: string;
  roleArns: string[];
}

/** One of a role's permissions policies, its document as JSON (URL-decoded, parsed). */
export interface PolicyFacts {
  name: string;
  kind: 'inline' | 'managed';
  /** A managed policy's ARN, and the version read (its default). */
  arn?: string;
  versionId?: string;
  document: unknown;
}

/** GetRole with its inline (ListRolePolicies, GetRolePolicy) and attached (ListAttachedRolePolicies, GetPolicy, GetPolicyVersion) policies. */
export interface RoleFacts {
  arn: string;
  name: string;
  /** The unique id (AROA...): IAM writes it in trust policies in place of a role that was deleted. */
  id?: string;
  trustPolicy: unknown;
  policies: PolicyFacts[];
  /** The permissions boundary's ARN, if the role has one. */
  permissionsBoundaryArn?: string;
}

/** The EMR reads. */
export interface ClusterReader {
  describeCluster(clusterId: string): Promise<Read<ClusterFacts>>;
  describeSecurityConfiguration(name: string): Promise<Read<SecurityConfigurationFacts>>;
}

/** The IAM (and STS) reads. */
export interface IamReader {
  /** The account of the credentials in use (STS GetCallerIdentity): IAM reads only its roles. */
  callerAccount(): Promise<Read<string>>;
  instanceProfile(name: string): Promise<Read<InstanceProfileFacts>>;
  /** A role by ARN (of the caller's account; another account's is `unreadable`), or by name in the caller's account. */
  role(arnOrName: string): Promise<Read<RoleFacts>>;
}

// The security configuration's runtime-role settings are read where the setup is written down (authz/runtime-role-setup.ts).
export { runtimeRoleSettings, type RuntimeRoleSettings } from '../authz/runtime-role-setup';
