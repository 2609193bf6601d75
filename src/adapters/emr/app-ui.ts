/**
 * EMR's application UIs over the SDK, with the gateway's own role (serverless.yml: the API may ask for them only on
 * the configured clusters, and only with a catalogue runtime role as ExecutionRoleArn): the Spark History Server on
 * the cluster while it runs (GetOnClusterAppUIPresignedURL), and the persistent application UI EMR keeps off the
 * cluster (CreatePersistentAppUI, which answers the cluster's one again, then GetPersistentAppUIPresignedURL). EMR's
 * refusals leave as EmrRejectedError, what a retry may cure as TransientError.
 */
import { CreatePersistentAppUICommand, GetOnClusterAppUIPresignedURLCommand, GetPersistentAppUIPresignedURLCommand, type EMRClient } from '@aws-sdk/client-emr';
import { EmrRejectedError, IntegrityError } from '../../errors';
import type { AppUiLink, AppUiLinks } from '../../jobs/app-ui';
import { errorName, translateAwsError } from '../aws-errors';

/** EMR's (and IAM's) answers that no retry changes. */
const REFUSALS = new Set(['ValidationException', 'InvalidRequestException', 'AccessDeniedException']);

export class SdkAppUiLinks implements AppUiLinks {
  constructor(private readonly emr: EMRClient) {}

  async onCluster({ clusterId, executionRoleArn }: { clusterId: string; executionRoleArn: string }): Promise<AppUiLink> {
    const out = await this.call('GetOnClusterAppUIPresignedURL', () =>
      this.emr.send(new GetOnClusterAppUIPresignedURLCommand({ ClusterId: clusterId, OnClusterAppUIType: 'SparkHistoryServer', ExecutionRoleArn: executionRoleArn })),
    );
    return link(out);
  }

  async persistent({ clusterArn, executionRoleArn }: { clusterArn: string; executionRoleArn: string }): Promise<AppUiLink & { persistentAppUiId: string }> {
    const created = await this.call('CreatePersistentAppUI', () => this.emr.send(new CreatePersistentAppUICommand({ TargetResourceArn: clusterArn, ProfilerType: 'SHS' })));
    const id = created.PersistentAppUIId;
    if (!id) throw new IntegrityError('CreatePersistentAppUI returned no PersistentAppUIId');
    const out = await this.call('GetPersistentAppUIPresignedURL', () =>
      this.emr.send(new GetPersistentAppUIPresignedURLCommand({ PersistentAppUIId: id, PersistentAppUIType: 'SHS', ExecutionRoleArn: executionRoleArn })),
    );
    return { ...link(out), persistentAppUiId: id };
  }

  private async call<T>(operation: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      if (REFUSALS.has(errorName(error))) throw new EmrRejectedError(`${operation}: ${error instanceof Error ? error.message : String(error)}`, errorName(error), { cause: error });
      throw translateAwsError(operation, error);
    }
  }
}

function link(out: { PresignedURLReady?: boolean; PresignedURL?: string }): AppUiLink {
  const ready = out.PresignedURLReady === true && typeof out.PresignedURL === 'string';
  return { ready, ...(ready ? { url: out.PresignedURL } : {}) };
}
