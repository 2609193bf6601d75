/**
 * EMR's application UIs over the SDK, with the gateway's own role (serverless.yml: the API may ask for them only on
 * the configured clusters, and only with a catalogue runtime role as ExecutionRoleArn), or on a cluster of another
 * account with its access role there (cluster-access.ts): the Spark History Server on
 * the cluster while it runs (GetOnClusterAppUIPresignedURL), and the persistent application UI EMR keeps off the
 * cluster (CreatePersistentAppUI, which answers the cluster's one again, then GetPersistentAppUIPresignedURL). EMR's
 * refusals leave as EmrRejectedError, what a retry may cure as TransientError.
 */
import { CreatePersistentAppUICommand, GetOnClusterAppUIPresignedURLCommand, GetPersistentAppUIPresignedURLCommand, type EMRClient } from '@aws-sdk/client-emr';
import { IntegrityError } from '../../errors';
import type { AppUiLink, AppUiLinks } from '../../jobs/app-ui';
import type { ClusterClients } from './cluster-access';
import { emrCall } from './emr-call';

export class SdkAppUiLinks implements AppUiLinks {
  constructor(private readonly clients: ClusterClients<EMRClient>) {}

  async onCluster({ clusterId, executionRoleArn }: { clusterId: string; executionRoleArn: string }): Promise<AppUiLink> {
    const emr = await this.clients.on(clusterId);
    const out = await emrCall('GetOnClusterAppUIPresignedURL', () =>
      emr.send(new GetOnClusterAppUIPresignedURLCommand({ ClusterId: clusterId, OnClusterAppUIType: 'SparkHistoryServer', ExecutionRoleArn: executionRoleArn })),
    );
    return link(out);
  }

  async persistent({ clusterId, clusterArn, executionRoleArn }: { clusterId: string; clusterArn: string; executionRoleArn: string }): Promise<AppUiLink & { persistentAppUiId: string }> {
    const emr = await this.clients.on(clusterId);
    const created = await emrCall('CreatePersistentAppUI', () => emr.send(new CreatePersistentAppUICommand({ TargetResourceArn: clusterArn, ProfilerType: 'SHS' })));
    const id = created.PersistentAppUIId;
    if (!id) throw new IntegrityError('CreatePersistentAppUI returned no PersistentAppUIId');
    const out = await emrCall('GetPersistentAppUIPresignedURL', () =>
      emr.send(new GetPersistentAppUIPresignedURLCommand({ PersistentAppUIId: id, PersistentAppUIType: 'SHS', ExecutionRoleArn: executionRoleArn })),
    );
    return { ...link(out), persistentAppUiId: id };
  }
}

function link(out: { PresignedURLReady?: boolean; PresignedURL?: string }): AppUiLink {
  const ready = out.PresignedURLReady === true && typeof out.PresignedURL === 'string';
  return { ready, ...(ready ? { url: out.PresignedURL } : {}) };
}
