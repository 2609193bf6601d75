/** The local EMR's records: what its journal stores and its API describes (EMR's own field meanings). */

export const STEP_STATES = ['PENDING', 'CANCEL_PENDING', 'RUNNING', 'COMPLETED', 'CANCELLED', 'FAILED', 'INTERRUPTED'] as const;
export type StepState = (typeof STEP_STATES)[number];
/** EMR's ClusterState values (the local clusters take only some of them). */
export const CLUSTER_STATES = ['STARTING', 'BOOTSTRAPPING', 'RUNNING', 'WAITING', 'TERMINATING', 'TERMINATED', 'TERMINATED_WITH_ERRORS'] as const;

export interface HadoopJarStep {
  Jar: string;
  MainClass?: string;
  Args?: string[];
  Properties?: { Key?: string; Value?: string }[];
}

export interface LocalStep {
  id: string;
  clusterId: string;
  name: string;
  actionOnFailure: string;
  jar: HadoopJarStep;
  executionRoleArn?: string;
  sourceIdentity?: string;
  state: StepState;
  created: number;
  started?: number;
  ended?: number;
  failure?: { Reason?: string; Message?: string; LogFile?: string };
  stateChangeReason?: { Code?: string; Message?: string };
  pid?: number;
}

export interface LocalCluster {
  id: string;
  name: string;
  /** The account that owns it, where not the stack's (a second account's cluster): only that account's callers see it. */
  account?: string;
  securityConfiguration?: string;
  stepConcurrencyLevel: number;
  /** Where EMR uploads the steps' logs (s3://BUCKET/PREFIX/), as DescribeCluster's LogUri; none: they stay on the node. */
  logUri?: string;
  /** Absent from clusters journaled before these were kept: then LOCAL_CLUSTER_DEFAULTS (config/schema.ts). */
  releaseLabel?: string;
  applications?: string[];
  /** The instance profile (EC2's) the nodes run with: its role is what the steps' node session is. */
  instanceProfile?: string;
  /** 3 for a multi-primary (high-availability) cluster. */
  primaryNodes?: number;
  state: 'WAITING' | 'RUNNING' | 'TERMINATED' | 'TERMINATED_WITH_ERRORS';
  created: number;
}

export interface SecurityConfiguration {
  name: string;
  /** The account it belongs to, where not the stack's (its ExternalId is of that account). */
  account?: string;
  json: string;
  created: number;
}

/** The AWS credentials a step's process runs with: an STS session's, temporary. */
export interface StepCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
}

/**
 * IAM refused a step its credentials (the runtime role's trust, the instance profile role's permissions): the step
 * fails, as on EMR, with FailureDetails saying so. `roleArn` is the role that could not be assumed; the message is
 * STS's AccessDenied message; `reason` the local IAM's account of the decision.
 */
export class StepCredentialsDeniedError extends Error {
  override readonly name = 'StepCredentialsDeniedError';

  constructor(
    readonly roleArn: string,
    message: string,
    readonly reason?: string,
  ) {
    super(message);
  }
}

/** Where a step's credentials come from (the stack: the local STS, as EMR gets them); throws StepCredentialsDeniedError. */
export type StepCredentialsSource = (step: Readonly<LocalStep>, cluster: Readonly<LocalCluster>, securityConfiguration: Readonly<SecurityConfiguration> | undefined) => StepCredentials;

/** A runtime role's session as the cluster's node asks for it: the role, the session's name, the caller's source identity. */
export interface RuntimeRoleRequest {
  roleArn: string;
  sessionName: string;
  /** Set on the session only where the security configuration propagates it. */
  sourceIdentity?: string;
}

/** Where an interactive session's runtime-role session comes from (the stack: EmrStepCredentials.forRuntimeRole); throws StepCredentialsDeniedError. */
export type RuntimeRoleCredentialsSource = (request: RuntimeRoleRequest, cluster: Readonly<LocalCluster>, securityConfiguration: Readonly<SecurityConfiguration> | undefined) => StepCredentials;

/**
 * Credentials GetClusterSessionCredentials issued, as the local EMR keeps them (in memory: a restart forgets them,
 * as the STS sessions behind them): never the password, only its SHA-256.
 */
export interface IssuedSessionCredentials {
  username: string;
  passwordSha256: string;
  clusterId: string;
  executionRoleArn: string;
  sourceIdentity?: string;
  /** The runtime role's session the credentials stand for (its access key id), when the node assumed one. */
  roleSessionAccessKeyId?: string;
  expires: number;
}
