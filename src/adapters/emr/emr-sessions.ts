/**
 * EMR for interactive sessions over the SDK: DescribeCluster for the endpoints a notebook connects to, and
 * GetClusterSessionCredentials by the submitter path (emr-steps.ts): where the cluster propagates source identity and
 * the caller is a verified person, through a short session of the gateway's session role with SourceIdentity set, so
 * that EMR carries the person into the runtime role's session; otherwise with the gateway's own role. The session
 * role may do nothing but this (serverless.yml), so the API that assumes it still cannot add a step. EMR's refusals
 * (and IAM's, for the gateway's own role) leave as EmrRejectedError, what a retry may cure as TransientError.
 */
import { DescribeClusterCommand, EMRClient, GetClusterSessionCredentialsCommand } from '@aws-sdk/client-emr';
import type { STSClient } from '@aws-sdk/client-sts';
import type { ClusterConfig } from '../../config/schema';
import { IntegrityError } from '../../errors';
import { LIVY_PORT, type ClusterEndpoints } from '../../sessions/model';
import type { EmrSessionCredentials, IssuedCredentials, IssueRequest } from '../../sessions/ports';
import { awsCall } from '../aws-errors';
import { clientConfig, type AwsTarget } from '../client-config';
import { emrCall } from './emr-call';
import { ClusterClients, type ClusterAccess } from './cluster-access';
import { assumeWithSourceIdentity, withSourceIdentity, type TemporaryCredentials } from './emr-steps';

/** EMR clients with a session role's credentials: the SDK's retries are safe here, a repeated issue only issues again. */
export function sessionClientFactory(target: AwsTarget): (credentials: TemporaryCredentials) => EMRClient {
  return (credentials) => new EMRClient({ ...clientConfig(target), credentials });
}

export class SdkEmrSessions implements EmrSessionCredentials {
  constructor(
    private readonly emr: EMRClient,
    private readonly sts: STSClient,
    private readonly clusters: readonly Pick<ClusterConfig, 'id' | 'propagateSourceIdentity'>[],
    private readonly sessionRoleArn: string | undefined,
    private readonly clientFor: (credentials: TemporaryCredentials) => EMRClient,
    private readonly access?: ClusterAccess,
  ) {
    this.readers = new ClusterClients(emr, clientFor, access);
  }

  /** The clients that read a cluster: the gateway's own, or its access role's for a cluster of another account. */
  private readonly readers: ClusterClients<EMRClient>;

  async endpoints(clusterId: string): Promise<ClusterEndpoints | undefined> {
    const emr = await this.readers.on(clusterId);
    const cluster = (await emrCall('DescribeCluster', () => emr.send(new DescribeClusterCommand({ ClusterId: clusterId })))).Cluster;
    const dns = cluster?.MasterPublicDnsName;
    if (!dns) return undefined;
    const livy = (cluster.Applications ?? []).some((a) => a.Name?.toLowerCase() === 'livy');
    // Livy on the primary node, over TLS: EMR's runtime-role clusters encrypt in transit (its documentation recommends it).
    return { masterPublicDnsName: dns, ...(livy ? { livy: `https://${dns}:${LIVY_PORT}` } : {}) };
  }

  async issue(request: IssueRequest): Promise<IssuedCredentials> {
    const { client, sourceIdentity } = await this.issuer(request);
    const out = await emrCall('GetClusterSessionCredentials', () => client.send(new GetClusterSessionCredentialsCommand({ ClusterId: request.clusterId, ExecutionRoleArn: request.executionRoleArn })));
    const pair = out.Credentials?.UsernamePassword;
    if (!pair?.Username || !pair.Password || !out.ExpiresAt) throw new IntegrityError('GetClusterSessionCredentials returned no user name, password or expiry');
    return { username: pair.Username, password: pair.Password, expiresAt: out.ExpiresAt, ...(sourceIdentity ? { sourceIdentity } : {}) };
  }

  /**
   * Who asks EMR: for a cluster of another account its access role there, the source identity set on that hop where
   * propagated; otherwise the session role with it, or the gateway's own role.
   */
  private async issuer(request: IssueRequest): Promise<{ client: EMRClient; sourceIdentity?: string }> {
    if (this.access?.crossAccount(request.clusterId)) {
      const via = withSourceIdentity(this.clusters, request.clusterId, request.sourceIdentity, 'access-role');
      return { client: await this.readers.on(request.clusterId, via?.sourceIdentity), ...(via ? { sourceIdentity: via.sourceIdentity } : {}) };
    }
    const via = withSourceIdentity(this.clusters, request.clusterId, request.sourceIdentity, this.sessionRoleArn);
    if (!via) return { client: this.emr };
    const credentials = await awsCall('AssumeRole', () => assumeWithSourceIdentity(this.sts, via.roleArn, `emr-gateway-${request.sessionId}`, via.sourceIdentity));
    return { client: this.clientFor(credentials), sourceIdentity: via.sourceIdentity };
  }
}
