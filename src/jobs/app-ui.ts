/**
 * A job's Spark UI and application history, as EMR presents them: a presigned link, under the job's runtime role
 * (ExecutionRoleArn), to the cluster's own UI while the job runs (GetOnClusterAppUIPresignedURL) or to the
 * persistent application UI EMR keeps off the cluster once it has ended (CreatePersistentAppUI, then
 * GetPersistentAppUIPresignedURL), which outlives the cluster. The port is implemented over the SDK in
 * adapters/emr/app-ui.ts.
 */

export type AppUiKind = 'on-cluster' | 'persistent';

export interface AppUiLink {
  /** EMR's PresignedURLReady: false while EMR is still preparing the UI (ask again shortly). */
  ready: boolean;
  /** The presigned URL, when EMR gave one. */
  url?: string;
}

export interface AppUiLinks {
  /** The cluster's Spark History Server, presigned for the runtime role. */
  onCluster(input: { clusterId: string; executionRoleArn: string }): Promise<AppUiLink>;
  /** The cluster's persistent application UI (created if need be), presigned for the runtime role. */
  persistent(input: { clusterId: string; clusterArn: string; executionRoleArn: string }): Promise<AppUiLink & { persistentAppUiId: string }>;
}
