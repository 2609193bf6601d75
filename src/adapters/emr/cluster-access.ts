/**
 * How the gateway reaches a cluster of another account (clusters[].account, clusters[].accessRole): every EMR call on
 * it is made with credentials of the access role there, got by STS AssumeRole with the role's ExternalId, and, where
 * the cluster propagates source identity, SourceIdentity = the caller (set on this first hop, so EMR carries the
 * person into the runtime role's session). Credentials are kept per (role, source identity) until five minutes
 * before they expire, so a busy cluster costs one AssumeRole an hour per person, not one per call. STS's refusal
 * (a trust that does not name the gateway's role, a wrong ExternalId) is EmrRejectedError by STS: no retry cures it.
 */
import { AssumeRoleCommand, type STSClient } from '@aws-sdk/client-sts';
import type { ClusterConfig } from '../../config/schema';
import { EmrRejectedError, IntegrityError } from '../../errors';
import { errorName, translateAwsError } from '../aws-errors';

export interface TemporaryCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration?: Date;
}

/** AssumeRole's refusals: no retry changes them. */
const REFUSALS = new Set(['AccessDenied', 'AccessDeniedException', 'ValidationError', 'RegionDisabledException']);
/** An hour: the longest a session of a role may last when a role's session (a Lambda function's) assumes it. */
const SESSION_SECONDS = 3600;
const RENEW_BEFORE_MS = 5 * 60_000;

type AccessCluster = Pick<ClusterConfig, 'id'> & Partial<Pick<ClusterConfig, 'account' | 'accessRole'>>;

export class ClusterAccess {
  private readonly kept = new Map<string, Promise<TemporaryCredentials>>();

  constructor(
    private readonly sts: STSClient,
    private readonly clusters: readonly AccessCluster[],
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether calls on the cluster go through an access role (it is in another account). */
  crossAccount(clusterId: string): boolean {
    return this.clusters.some((c) => c.id === clusterId && c.accessRole);
  }

  /** Credentials of the cluster's access role (with `sourceIdentity` set, if given); undefined for a cluster of the gateway's account. */
  async credentials(clusterId: string, sourceIdentity?: string): Promise<TemporaryCredentials | undefined> {
    const cluster = this.clusters.find((c) => c.id === clusterId);
    const role = cluster?.accessRole;
    if (!cluster || !role) return undefined;
    const key = `${role.arn}\n${role.externalId ?? ''}\n${sourceIdentity ?? ''}`;
    const kept = this.kept.get(key);
    if (kept) {
      const credentials = await kept.catch(() => undefined);
      if (credentials && (credentials.expiration?.getTime() ?? 0) - this.now() > RENEW_BEFORE_MS) return credentials;
      if (this.kept.get(key) !== kept) return this.credentials(clusterId, sourceIdentity);
    }
    const pending = this.assume(cluster, role, sourceIdentity);
    this.kept.set(key, pending);
    // A refusal is not kept: the next call asks STS again (its trust may have been fixed).
    pending.catch(() => {
      if (this.kept.get(key) === pending) this.kept.delete(key);
    });
    return pending;
  }

  private async assume(cluster: AccessCluster, role: NonNullable<ClusterConfig['accessRole']>, sourceIdentity: string | undefined): Promise<TemporaryCredentials> {
    let out;
    try {
      out = await this.sts.send(
        new AssumeRoleCommand({
          RoleArn: role.arn,
          // CloudTrail in the cluster's account names the person in the session name too.
          RoleSessionName: `emr-gateway${sourceIdentity ? `-${sourceIdentity}` : ''}`.slice(0, 64),
          ...(role.externalId ? { ExternalId: role.externalId } : {}),
          ...(sourceIdentity ? { SourceIdentity: sourceIdentity } : {}),
          DurationSeconds: SESSION_SECONDS,
        }),
      );
    } catch (error) {
      if (REFUSALS.has(errorName(error))) {
        const why = error instanceof Error ? error.message : String(error);
        throw new EmrRejectedError(`AssumeRole of ${role.arn} (the access role of cluster ${cluster.id} in account ${cluster.account ?? '?'}): ${why}`, errorName(error), { cause: error, by: 'STS' });
      }
      throw translateAwsError('AssumeRole', error);
    }
    const c = out.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken) throw new IntegrityError('AssumeRole returned no credentials');
    return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken, ...(c.Expiration ? { expiration: c.Expiration } : {}) };
  }
}

/**
 * The clients an adapter uses on a cluster: its own (the gateway's role) for a cluster of the gateway's account, else
 * one made with the credentials of the cluster's access role, one per set ClusterAccess keeps (a renewal makes anew).
 */
export class ClusterClients<C extends object> {
  private readonly made = new WeakMap<TemporaryCredentials, C>();

  constructor(
    private readonly own: C,
    private readonly make: (credentials: TemporaryCredentials) => C,
    private readonly access?: ClusterAccess,
  ) {}

  /** The client for `clusterId`; with `sourceIdentity`, the access role's session that carries it (kept as ClusterAccess keeps it). */
  async on(clusterId: string, sourceIdentity?: string): Promise<C> {
    const credentials = await this.access?.credentials(clusterId, sourceIdentity);
    if (!credentials) return this.own;
    let client = this.made.get(credentials);
    if (!client) this.made.set(credentials, (client = this.make(credentials)));
    return client;
  }
}
