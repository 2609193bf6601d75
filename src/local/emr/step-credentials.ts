/**
 * A step's AWS credentials, obtained as EMR obtains them ("Runtime roles for Amazon EMR steps"): the cluster's node
 * signs with its instance profile role's credentials (EC2's session of the role, `assumed-role/ROLE/INSTANCE_ID`),
 * and for a runtime-role step assumes the step's runtime role as that session, with the security configuration's
 * ExternalId, the caller's source identity where PropagateSourceIdentity is on, and EMR's session tag. A step on a
 * cluster without runtime roles runs as the instance profile role itself. IAM's refusals become a typed denial
 * (StepCredentialsDeniedError) naming the role, which fails the step. Sessions live in the local STS's memory: a
 * restart forgets them, and keys handed out before it are no credential afterwards.
 */
import { createHash } from 'node:crypto';
import { LOCAL_CLUSTER_DEFAULTS } from '../../config/schema';
import type { LocalIam } from '../iam';
import { AssumeRoleDeniedError, type LocalSts, type StsSession } from '../sts';
import { externalIdFor, settingsOf } from './external-id';
import { StepCredentialsDeniedError, type LocalCluster, type LocalStep, type RuntimeRoleRequest, type SecurityConfiguration, type StepCredentials } from './model';

/** Role chaining's longest session (the node's session assumes the runtime role): EMR's runtime-role sessions. */
const RUNTIME_ROLE_SECONDS = 3600;
/**
 * A node's session (six hours, from EC2) is renewed once less than an hour of it is left: a step on a cluster without
 * runtime roles gets it as its own credentials, so it too gets at least an hour.
 */
const NODE_RENEW_BEFORE_MS = 3600_000;
/**
 * EMR tags its runtime-role sessions, which is why the documentation's trust and permissions policies grant
 * sts:TagSession. The local EMR's choice of tag: the one Lake Formation recognises EMR's calls by, with the security
 * configuration's LakeFormationConfiguration.AuthorizedSessionTagValue, "Amazon EMR" where it names none.
 */
export const SESSION_TAG_KEY = 'LakeFormationAuthorizedCaller';
const DEFAULT_SESSION_TAG_VALUE = 'Amazon EMR';

/**
 * The instance profile role a cluster's nodes run as: the role its instance profile holds in IAM now (EC2 gives an
 * instance the credentials of its profile's role). A profile that is gone or holds no role leaves the nodes without
 * credentials: StepCredentialsDeniedError, naming the profile.
 */
export function instanceProfileRoleArnOf(cluster: Readonly<LocalCluster>, iam: LocalIam): string {
  const name = cluster.instanceProfile ?? LOCAL_CLUSTER_DEFAULTS.instanceProfile;
  const profile = iam.findInstanceProfile(name);
  const role = profile && iam.rolesOf(profile)[0];
  if (role) return iam.roleArn(role);
  const arn = iam.instanceProfileArn(profile ?? { name, path: '/' });
  throw new StepCredentialsDeniedError(arn, `The cluster's nodes have no credentials: the instance profile ${name} ${profile ? 'holds no role' : 'does not exist'} (IAM AddRoleToInstanceProfile gives it one).`);
}

/** The id of the node a cluster's steps run on: of EC2's form (`i-` and 17 hex digits), the same for a cluster every time. */
export function instanceIdOf(account: string, clusterId: string): string {
  return `i-${createHash('sha256').update(`${account}:${clusterId}`).digest('hex').slice(0, 17)}`;
}

export interface EmrStepCredentialsOptions {
  sts: LocalSts;
  /** Where the clusters' instance profiles are. */
  iam: LocalIam;
  account: string;
  now?: () => number;
}

export class EmrStepCredentials {
  /** Each cluster's node session, with the role it was asked for. */
  private readonly nodes = new Map<string, { roleArn: string; session: StsSession }>();
  private readonly now: () => number;

  constructor(private readonly options: EmrStepCredentialsOptions) {
    this.now = options.now ?? Date.now;
  }

  /** The credentials `step` runs with; StepCredentialsDeniedError if IAM refuses them. */
  forStep(step: Readonly<LocalStep>, cluster: Readonly<LocalCluster>, securityConfiguration: Readonly<SecurityConfiguration> | undefined): StepCredentials {
    const roleArn = step.executionRoleArn;
    if (!roleArn) return credentialsOf(this.nodeSession(cluster));
    // The step's id: CloudTrail's assumed-role ARN then names the step, and the source identity the person.
    return this.forRuntimeRole({ roleArn, sessionName: step.id, ...(step.sourceIdentity !== undefined ? { sourceIdentity: step.sourceIdentity } : {}) }, cluster, securityConfiguration);
  }

  /**
   * The runtime role's session as the cluster's node assumes it (a step's, or an interactive session's behind
   * GetClusterSessionCredentials); StepCredentialsDeniedError if IAM refuses it.
   */
  forRuntimeRole(request: RuntimeRoleRequest, cluster: Readonly<LocalCluster>, securityConfiguration: Readonly<SecurityConfiguration> | undefined): StepCredentials {
    const node = this.nodeSession(cluster);
    const { roleArn } = request;
    const settings = securityConfiguration && settingsOf(securityConfiguration);
    const propagate = settings?.propagateSourceIdentity === true;
    const externalId = securityConfiguration && externalIdFor(securityConfiguration, securityConfiguration.account ?? this.options.account);
    const { sts } = this.options;
    try {
      const session = sts.assumeRole(
        {
          roleArn,
          sessionName: request.sessionName,
          durationSeconds: RUNTIME_ROLE_SECONDS,
          ...(externalId !== undefined ? { externalId } : {}),
          ...(propagate && request.sourceIdentity !== undefined ? { sourceIdentity: request.sourceIdentity } : {}),
          tags: { [SESSION_TAG_KEY]: settings?.authorizedSessionTagValue ?? DEFAULT_SESSION_TAG_VALUE },
        },
        sts.caller(node.accessKeyId),
      );
      return credentialsOf(session);
    } catch (error) {
      if (error instanceof AssumeRoleDeniedError) throw new StepCredentialsDeniedError(roleArn, error.message, error.decision?.reason);
      throw error;
    }
  }

  /** The cluster's node session: EC2's credentials of its instance profile role, kept and renewed before they run short. */
  nodeSession(cluster: Readonly<LocalCluster>): StsSession {
    // The cluster's nodes are of its own account: their instance profile is in that account's IAM.
    const account = cluster.account ?? this.options.account;
    const roleArn = instanceProfileRoleArnOf(cluster, this.options.sts.iamOf(account) ?? this.options.iam);
    const kept = this.nodes.get(cluster.id);
    if (kept && kept.roleArn === roleArn && kept.session.expires.getTime() - this.now() > NODE_RENEW_BEFORE_MS && this.options.sts.session(kept.session.accessKeyId)) return kept.session;
    let session: StsSession;
    try {
      session = this.options.sts.instanceProfileSession(roleArn, instanceIdOf(account, cluster.id));
    } catch (error) {
      if (error instanceof AssumeRoleDeniedError) throw new StepCredentialsDeniedError(roleArn, error.message, error.decision?.reason);
      throw error;
    }
    this.nodes.set(cluster.id, { roleArn, session });
    return session;
  }
}

const credentialsOf = (session: StsSession): StepCredentials => ({ accessKeyId: session.accessKeyId, secretAccessKey: session.secretAccessKey, sessionToken: session.sessionToken, expiration: session.expires });
