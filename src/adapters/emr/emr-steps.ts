/**
 * The EMR steps port over the SDK. Polls and cancels use the gateway's own role. Submissions to a cluster that
 * propagates source identity go through a short session of the submitter role with SourceIdentity set to the
 * job's source identity (a verified person or a schedule's own, never a caller-chosen session name), so EMR
 * carries the person into the runtime-role session and CloudTrail names them. SDK errors leave
 * as domain errors: retryable → TransientError, EMR's refusal of a step → EmrRejectedError.
 */
import {
  AddJobFlowStepsCommand,
  CancelStepsCommand,
  DescribeStepCommand,
  EMRClient,
  ListStepsCommand,
  type StepSummary,
} from '@aws-sdk/client-emr';
import { AssumeRoleCommand, type STSClient } from '@aws-sdk/client-sts';
import type { ClusterConfig } from '../../config/schema';
import { EmrRejectedError, IntegrityError, TransientError } from '../../errors';
import { sanitizeSourceIdentity } from '../../identifiers';
import { toAddJobFlowSteps } from '../../jobs/emr-step';
import type { CancelMode, FailureDetails, Job } from '../../jobs/model';
import type { EmrStepStatus, EmrSteps } from '../../jobs/ports';
import { awsCall, errorName, translateAwsError } from '../aws-errors';
import { clientConfig, type AwsTarget } from '../client-config';
import { ClusterClients, type ClusterAccess, type TemporaryCredentials } from './cluster-access';

export type { TemporaryCredentials } from './cluster-access';

/** EMR's answers that mean "this step will never be accepted as it is". */
const REJECTIONS = new Set(['ValidationException', 'InvalidRequestException']);

/**
 * EMR clients that submit: one SDK attempt only. AddJobFlowSteps has no client token, so an SDK-level retry
 * after a lost response could add a second step; the task's own retry first looks for the step it added.
 */
export function submitClientFactory(target: AwsTarget): (credentials?: TemporaryCredentials) => EMRClient {
  return (credentials) => new EMRClient({ ...clientConfig(target), ...(credentials ? { credentials } : {}), maxAttempts: 1 });
}

/** A cluster of another account: its access role's credentials, and the clients (retrying, for reads and cancels) made with them. */
export interface CrossAccount {
  access: ClusterAccess;
  client: (credentials: TemporaryCredentials) => EMRClient;
}

export class SdkEmrSteps implements EmrSteps {
  private readonly ownSubmitter: EMRClient;
  private readonly readers: ClusterClients<EMRClient>;
  /** Submitting clients (one SDK attempt) with an access role's credentials, one per set ClusterAccess keeps. */
  private readonly submitters: ClusterClients<EMRClient>;

  constructor(
    private readonly emr: EMRClient,
    private readonly sts: STSClient,
    private readonly clusters: readonly Pick<ClusterConfig, 'id' | 'propagateSourceIdentity'>[],
    private readonly submitterRoleArn: string | undefined,
    private readonly submitClient: (credentials?: TemporaryCredentials) => EMRClient,
    private readonly crossAccount?: CrossAccount,
  ) {
    this.ownSubmitter = submitClient();
    this.readers = new ClusterClients(emr, (credentials) => crossAccount!.client(credentials), crossAccount?.access);
    this.submitters = new ClusterClients(this.ownSubmitter, submitClient, crossAccount?.access);
  }

  /** The client for reads and cancels on `clusterId`: the gateway's own, or its access role's in the cluster's account. */
  private reader(clusterId: string): Promise<EMRClient> {
    return this.readers.on(clusterId);
  }

  async add(job: Job, stepName: string): Promise<{ stepId: string; sourceIdentity?: string }> {
    const submitter = await awsCall('AssumeRole', () => this.submitter(job));
    const command = toAddJobFlowSteps(job.request, stepName);
    let stepIds: string[] | undefined;
    try {
      stepIds = (await submitter.client.send(new AddJobFlowStepsCommand(command))).StepIds;
    } catch (error) {
      // EMR refuses: e.g. a runtime role on a cluster without runtime roles, or none where one is required.
      if (REJECTIONS.has(errorName(error))) throw new EmrRejectedError(error instanceof Error ? error.message : String(error), errorName(error), { cause: error });
      throw translateAwsError('AddJobFlowSteps', error);
    }
    const stepId = stepIds?.[0];
    if (!stepId) throw new TransientError('AddJobFlowSteps returned no step id');
    return { stepId, ...(submitter.sourceIdentity ? { sourceIdentity: submitter.sourceIdentity } : {}) };
  }

  /** Steps come newest first: once they predate `since`, the step was never added. */
  async find(clusterId: string, marker: string, since: Date): Promise<string | undefined> {
    let page: string | undefined;
    do {
      const emr = await this.reader(clusterId);
      const out = await awsCall('ListSteps', () => emr.send(new ListStepsCommand({ ClusterId: clusterId, Marker: page })));
      const steps: StepSummary[] = out.Steps ?? [];
      const found = steps.find((s) => s.Name?.endsWith(marker));
      if (found?.Id) return found.Id;
      const oldest = steps.at(-1)?.Status?.Timeline?.CreationDateTime;
      if (oldest && oldest.getTime() < since.getTime()) return undefined;
      page = out.Marker;
    } while (page);
    return undefined;
  }

  async describe(clusterId: string, stepId: string): Promise<EmrStepStatus> {
    const emr = await this.reader(clusterId);
    const out = await awsCall('DescribeStep', () => emr.send(new DescribeStepCommand({ ClusterId: clusterId, StepId: stepId })));
    const status = out.Step?.Status;
    if (!status?.State) throw new TransientError('DescribeStep returned no state');
    const failure = status.FailureDetails;
    const reason = status.StateChangeReason;
    const failureDetails: FailureDetails | undefined =
      failure && (failure.Reason || failure.Message || failure.LogFile) ? { reason: failure.Reason, message: failure.Message, logFile: failure.LogFile } : undefined;
    const { StartDateTime: started, EndDateTime: ended } = status.Timeline ?? {};
    const timeline = { ...(started ? { startedAt: started.toISOString() } : {}), ...(ended ? { endedAt: ended.toISOString() } : {}) };
    return {
      state: status.State,
      ...(failureDetails ? { failureDetails } : {}),
      ...(reason && (reason.Code || reason.Message) ? { stateChangeReason: { code: reason.Code, message: reason.Message } } : {}),
      ...(Object.keys(timeline).length ? { timeline } : {}),
    };
  }

  async cancel(clusterId: string, stepId: string, mode: CancelMode): Promise<{ status?: 'SUBMITTED' | 'FAILED'; reason?: string }> {
    const emr = await this.reader(clusterId);
    const out = await awsCall('CancelSteps', () => emr.send(new CancelStepsCommand({ ClusterId: clusterId, StepIds: [stepId], StepCancellationOption: mode })));
    const info = out.CancelStepsInfoList?.[0];
    return { ...(info?.Status ? { status: info.Status } : {}), ...(info?.Reason ? { reason: info.Reason } : {}) };
  }

  private async submitter(job: Job): Promise<{ client: EMRClient; sourceIdentity?: string }> {
    if (this.crossAccount?.access.crossAccount(job.clusterId)) {
      // In the cluster's account: its access role, with the source identity set on that one hop where propagated.
      const via = withSourceIdentity(this.clusters, job.clusterId, job.actor.sourceIdentity, 'access-role');
      return { client: await this.submitters.on(job.clusterId, via?.sourceIdentity), ...(via ? { sourceIdentity: via.sourceIdentity } : {}) };
    }
    const via = withSourceIdentity(this.clusters, job.clusterId, job.actor.sourceIdentity, this.submitterRoleArn);
    if (!via) return { client: this.ownSubmitter };
    const credentials = await assumeWithSourceIdentity(this.sts, via.roleArn, `emr-gateway-${job.jobId}`, via.sourceIdentity);
    return { client: this.submitClient(credentials), sourceIdentity: via.sourceIdentity };
  }
}

/**
 * The submitter path's choice: through `roleArn` with the caller as SourceIdentity where the cluster propagates it and
 * the caller is a verified person (or a schedule's own identity); undefined where the gateway's own role calls EMR.
 */
export function withSourceIdentity(
  clusters: readonly Pick<ClusterConfig, 'id' | 'propagateSourceIdentity'>[],
  clusterId: string,
  caller: string | undefined,
  roleArn: string | undefined,
): { roleArn: string; sourceIdentity: string } | undefined {
  const cluster = clusters.find((c) => c.id === clusterId);
  if (!cluster?.propagateSourceIdentity || !caller || !roleArn) return undefined;
  return { roleArn, sourceIdentity: sanitizeSourceIdentity(caller) };
}

/** A short session of `roleArn` with SourceIdentity set (it cannot change down a role chain, so EMR and CloudTrail see it). */
export async function assumeWithSourceIdentity(sts: STSClient, roleArn: string, sessionName: string, sourceIdentity: string): Promise<TemporaryCredentials> {
  const out = await sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: sessionName.slice(0, 64), SourceIdentity: sourceIdentity, DurationSeconds: 900 }));
  const c = out.Credentials;
  if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken) throw new IntegrityError('AssumeRole returned no credentials');
  return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken, ...(c.Expiration ? { expiration: c.Expiration } : {}) };
}
