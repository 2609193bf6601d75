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

export interface TemporaryCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration?: Date;
}

/** EMR's answers that mean "this step will never be accepted as it is". */
const REJECTIONS = new Set(['ValidationException', 'InvalidRequestException']);

/**
 * EMR clients that submit: one SDK attempt only. AddJobFlowSteps has no client token, so an SDK-level retry
 * after a lost response could add a second step; the task's own retry first looks for the step it added.
 */
export function submitClientFactory(target: AwsTarget): (credentials?: TemporaryCredentials) => EMRClient {
  return (credentials) => new EMRClient({ ...clientConfig(target), ...(credentials ? { credentials } : {}), maxAttempts: 1 });
}

export class SdkEmrSteps implements EmrSteps {
  private readonly ownSubmitter: EMRClient;

  constructor(
    private readonly emr: EMRClient,
    private readonly sts: STSClient,
    private readonly clusters: readonly Pick<ClusterConfig, 'id' | 'propagateSourceIdentity'>[],
    private readonly submitterRoleArn: string | undefined,
    private readonly submitClient: (credentials?: TemporaryCredentials) => EMRClient,
  ) {
    this.ownSubmitter = submitClient();
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
      const out = await awsCall('ListSteps', () => this.emr.send(new ListStepsCommand({ ClusterId: clusterId, Marker: page })));
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
    const out = await awsCall('DescribeStep', () => this.emr.send(new DescribeStepCommand({ ClusterId: clusterId, StepId: stepId })));
    const status = out.Step?.Status;
    if (!status?.State) throw new TransientError('DescribeStep returned no state');
    const failure = status.FailureDetails;
    const reason = status.StateChangeReason;
    const failureDetails: FailureDetails | undefined =
      failure && (failure.Reason || failure.Message || failure.LogFile) ? { reason: failure.Reason, message: failure.Message, logFile: failure.LogFile } : undefined;
    return {
      state: status.State,
      ...(failureDetails ? { failureDetails } : {}),
      ...(reason && (reason.Code || reason.Message) ? { stateChangeReason: { code: reason.Code, message: reason.Message } } : {}),
    };
  }

  async cancel(clusterId: string, stepId: string, mode: CancelMode): Promise<{ status?: 'SUBMITTED' | 'FAILED'; reason?: string }> {
    const out = await awsCall('CancelSteps', () => this.emr.send(new CancelStepsCommand({ ClusterId: clusterId, StepIds: [stepId], StepCancellationOption: mode })));
    const info = out.CancelStepsInfoList?.[0];
    return { ...(info?.Status ? { status: info.Status } : {}), ...(info?.Reason ? { reason: info.Reason } : {}) };
  }

  private async submitter(job: Job): Promise<{ client: EMRClient; sourceIdentity?: string }> {
    const cluster = this.clusters.find((c) => c.id === job.clusterId);
    const caller = job.actor.sourceIdentity;
    if (!cluster?.propagateSourceIdentity || !caller || !this.submitterRoleArn) return { client: this.ownSubmitter };
    const sourceIdentity = sanitizeSourceIdentity(caller);
    const out = await this.sts.send(
      new AssumeRoleCommand({
        RoleArn: this.submitterRoleArn,
        RoleSessionName: `emr-gateway-${job.jobId}`.slice(0, 64),
        SourceIdentity: sourceIdentity,
        DurationSeconds: 900,
      }),
    );
    const c = out.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken) throw new IntegrityError('AssumeRole returned no credentials');
    const credentials: TemporaryCredentials = { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken, ...(c.Expiration ? { expiration: c.Expiration } : {}) };
    return { client: this.submitClient(credentials), sourceIdentity };
  }
}
