/**
 * How the workflow reaches EMR. Polls and cancels use the gateway's own role. Submissions to a cluster that
 * propagates source identity go through a short session of the submitter role with SourceIdentity set to the
 * caller, so EMR carries the person into the runtime-role session and CloudTrail names them.
 */
import { EMRClient } from '@aws-sdk/client-emr';
import { clientConfig, type AwsTarget } from './clients';
import { AssumeRoleCommand, type STSClient } from '@aws-sdk/client-sts';
import type { GatewayConfig } from '../config/load';
import type { Job } from '../jobs/model';
import type { EmrAccess } from '../jobs/workflow';

export interface TemporaryCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration?: Date;
}

/** STS's rule for SourceIdentity: 2-64 characters of [\w+=,.@-]. Others become '-'. */
export function sanitizeSourceIdentity(value: string): string {
  const cleaned = value.replace(/[^\w+=,.@-]/g, '-').slice(0, 64);
  return cleaned.length >= 2 ? cleaned : cleaned.padEnd(2, '-');
}

/**
 * EMR clients that submit: one SDK attempt only. AddJobFlowSteps has no client token, so an SDK-level retry
 * after a lost response could add a second step; the task's own retry first looks for the step it added.
 */
export function submitClientFactory(target: AwsTarget): (credentials?: TemporaryCredentials) => EMRClient {
  return (credentials) => new EMRClient({ ...clientConfig(target), ...(credentials ? { credentials } : {}), maxAttempts: 1 });
}

export class StsEmrAccess implements EmrAccess {
  private readonly ownSubmitter: EMRClient;

  constructor(
    private readonly emr: EMRClient,
    private readonly sts: STSClient,
    private readonly config: Pick<GatewayConfig, 'clusters'>,
    private readonly submitterRoleArn: string | undefined,
    private readonly submitClient: (credentials?: TemporaryCredentials) => EMRClient,
  ) {
    this.ownSubmitter = submitClient();
  }

  client(): EMRClient {
    return this.emr;
  }

  async submitter(job: Job): Promise<{ client: EMRClient; sourceIdentity?: string }> {
    const cluster = this.config.clusters.find((c) => c.id === job.clusterId);
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
    if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken) throw new Error('AssumeRole returned no credentials');
    const credentials: TemporaryCredentials = { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken, ...(c.Expiration ? { expiration: c.Expiration } : {}) };
    return { client: this.submitClient(credentials), sourceIdentity };
  }
}
