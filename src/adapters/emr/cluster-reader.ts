/**
 * doctor's EMR reads over the SDK (doctor/facts.ts ClusterReader): DescribeCluster with the number of primary nodes
 * (ListInstanceGroups' MASTER group, or ListInstanceFleets' MASTER fleet for an instance-fleet cluster), and
 * DescribeSecurityConfiguration. A failed read is returned as the fact it is, never thrown.
 */
import {
  DescribeClusterCommand,
  DescribeSecurityConfigurationCommand,
  paginateListInstanceFleets,
  paginateListInstanceGroups,
  type EMRClient,
} from '@aws-sdk/client-emr';
import { readFailed, readOk, type ClusterFacts, type ClusterReader, type PrimaryNodes, type Read, type SecurityConfigurationFacts } from '../../doctor/facts';
import { readFailure } from '../doctor-errors';

/** EMR's InvalidRequestException for an id or name it does not know. */
const NOT_FOUND = /is not valid|does not exist|not found/i;

/** An instance profile named by ARN is reduced to its name (GetInstanceProfile takes names). */
export function instanceProfileName(value: string): string {
  return value.startsWith('arn:') ? value.slice(value.lastIndexOf('/') + 1) : value;
}

export class SdkClusterReader implements ClusterReader {
  constructor(private readonly emr: EMRClient) {}

  async describeCluster(clusterId: string): Promise<Read<ClusterFacts>> {
    let cluster;
    try {
      cluster = (await this.emr.send(new DescribeClusterCommand({ ClusterId: clusterId }))).Cluster;
    } catch (error) {
      return readFailed(readFailure('elasticmapreduce:DescribeCluster', clusterId, error, NOT_FOUND));
    }
    if (!cluster?.Id) return readFailed({ kind: 'failed', operation: 'elasticmapreduce:DescribeCluster', resource: clusterId, code: 'EmptyResponse', message: 'DescribeCluster answered without a Cluster' });
    const collectionType = cluster.InstanceCollectionType === 'INSTANCE_FLEET' || cluster.InstanceCollectionType === 'INSTANCE_GROUP' ? cluster.InstanceCollectionType : undefined;
    const profile = cluster.Ec2InstanceAttributes?.IamInstanceProfile;
    return readOk({
      id: cluster.Id,
      name: cluster.Name ?? '',
      arn: cluster.ClusterArn ?? clusterId,
      state: cluster.Status?.State ?? 'UNKNOWN',
      ...(cluster.ReleaseLabel ? { releaseLabel: cluster.ReleaseLabel } : {}),
      applications: (cluster.Applications ?? []).filter((a) => a.Name).map((a) => ({ name: a.Name!, ...(a.Version ? { version: a.Version } : {}) })),
      ...(profile ? { instanceProfile: instanceProfileName(profile) } : {}),
      ...(cluster.SecurityConfiguration ? { securityConfiguration: cluster.SecurityConfiguration } : {}),
      ...(cluster.LogUri ? { logUri: cluster.LogUri } : {}),
      ...(collectionType ? { collectionType } : {}),
      primaryNodes: collectionType === 'INSTANCE_FLEET' ? await this.primaryFleet(cluster.Id) : await this.primaryGroup(cluster.Id),
    });
  }

  async describeSecurityConfiguration(name: string): Promise<Read<SecurityConfigurationFacts>> {
    try {
      const out = await this.emr.send(new DescribeSecurityConfigurationCommand({ Name: name }));
      return readOk({ name: out.Name ?? name, json: out.SecurityConfiguration ?? '{}' });
    } catch (error) {
      return readFailed(readFailure('elasticmapreduce:DescribeSecurityConfiguration', name, error, NOT_FOUND));
    }
  }

  private async primaryGroup(clusterId: string): Promise<Read<PrimaryNodes>> {
    try {
      for await (const page of paginateListInstanceGroups({ client: this.emr }, { ClusterId: clusterId })) {
        const primary = (page.InstanceGroups ?? []).find((g) => g.InstanceGroupType === 'MASTER');
        if (primary) return readOk({ count: primary.RequestedInstanceCount ?? primary.RunningInstanceCount ?? 0, source: 'instance-group' });
      }
    } catch (error) {
      return readFailed(readFailure('elasticmapreduce:ListInstanceGroups', clusterId, error));
    }
    return readFailed({ kind: 'failed', operation: 'elasticmapreduce:ListInstanceGroups', resource: clusterId, code: 'NoPrimaryGroup', message: 'no MASTER instance group' });
  }

  private async primaryFleet(clusterId: string): Promise<Read<PrimaryNodes>> {
    try {
      for await (const page of paginateListInstanceFleets({ client: this.emr }, { ClusterId: clusterId })) {
        const primary = (page.InstanceFleets ?? []).find((f) => f.InstanceFleetType === 'MASTER');
        if (primary) return readOk({ count: (primary.TargetOnDemandCapacity ?? 0) + (primary.TargetSpotCapacity ?? 0), source: 'instance-fleet' });
      }
    } catch (error) {
      return readFailed(readFailure('elasticmapreduce:ListInstanceFleets', clusterId, error));
    }
    return readFailed({ kind: 'failed', operation: 'elasticmapreduce:ListInstanceFleets', resource: clusterId, code: 'NoPrimaryFleet', message: 'no MASTER instance fleet' });
  }
}
