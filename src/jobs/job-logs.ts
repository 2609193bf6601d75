/**
 * What GET /jobs/{id}/logs and GET /jobs/{id}/ui answer: a window of a job's step log from the cluster's LogUri
 * (step-logs.ts), and a presigned link to its Spark UI (app-ui.ts), each only for a caller who may read the job (the
 * job service's decision of GET /jobs/{id}, its denials audited as there). Apart from JobService so that the functions
 * that only submit (schedules, triggers) carry none of it; the API builds it over its job service.
 */
import type { GatewayConfig } from '../config/validate';
import { ConflictError, EmrRejectedError, NotFoundError, ValidationError } from '../errors';
import { configuredClusterArn } from '../identifiers';
import type { AppUiKind, AppUiLink, AppUiLinks } from './app-ui';
import { attemptOf, betweenAttempts, isTerminal, type Job } from './model';
import type { Caller, JobService } from './service';
import { OffsetBeyondEndError, readStepLogWindow, stepLogLocation, type StepLogLocation, type StepLogQuery, type StepLogStore, type StepLogWindow } from './step-logs';

export interface JobLogsDeps {
  config: Pick<GatewayConfig, 'clusters' | 'partition' | 'region' | 'account'>;
  /** Reads a job as GET /jobs/{id} does (authorized, a denial audited). */
  jobs: Pick<JobService, 'get' | 'requireRoleReads'>;
  /** The step logs under the clusters' LogUri. */
  stepLogs: StepLogStore;
  /** EMR's presigned application UI links. */
  appUi: AppUiLinks;
}

/** A window of a job's step log, and where it was read. */
export interface JobLogs {
  job: Job;
  stepId: string;
  location: StepLogLocation;
  /** When EMR last uploaded it. */
  lastModified?: Date;
  window: StepLogWindow;
}

/** A job's application UI link. */
export interface JobAppUi extends AppUiLink {
  job: Job;
  stepId: string;
  kind: AppUiKind;
}

export class JobLogsService {
  constructor(private readonly deps: JobLogsDeps) {}

  /**
   * A window of the job's step log (stdout, stderr, controller or syslog), read as the job is: only if this
   * caller may read the job (the decision of GET /jobs/{id}). EMR archives the logs under the cluster's LogUri, as
   * configured (clusters[].logUri, which the gateway's IAM grant covers), every few minutes while the step runs.
   */
  async logs(caller: Caller, jobId: string, query: StepLogQuery & { attempt?: number }): Promise<JobLogs> {
    if (query.tail !== undefined && query.offset !== undefined) throw ValidationError.single('offset', 'give tail or offset, not both');
    const job = await this.deps.jobs.get(caller, jobId);
    const stepId = this.stepOf(job, query.attempt);
    const logUri = this.deps.config.clusters.find((c) => c.id === job.clusterId)?.logUri;
    if (logUri === undefined) {
      throw new NotFoundError(`cluster ${job.clusterId} has no logUri in the gateway's configuration (clusters[].logUri, the cluster's LogUri): its step logs cannot be read through the gateway`, { code: 'LogsNotConfigured' });
    }
        const location = stepLogLocation(logUri, job.clusterId, stepId, query.stream);
    const opened = await this.deps.stepLogs.open({ ...location, clusterId: job.clusterId });
    if (!opened) {
      throw new NotFoundError(`no ${query.stream} log of step ${stepId} at ${location.uri} yet: EMR uploads a step's logs to the cluster's LogUri every few minutes while it runs, and at its end (status ${job.status})`, { code: 'LogNotYetWritten' });
    }
    let window: StepLogWindow;
    try {
      window = await readStepLogWindow(opened.chunks, query);
    } catch (error) {
      if (error instanceof OffsetBeyondEndError) throw ValidationError.single('offset', error.message);
      throw error;
    }
    return { job, stepId, location, ...(opened.lastModified ? { lastModified: opened.lastModified } : {}), window };
  }

  /**
   * A presigned link to the job's Spark UI, if this caller may read the job: while the job runs, the cluster's own
   * (EMR GetOnClusterAppUIPresignedURL), once it has ended, the persistent application UI EMR keeps of the cluster
   * (CreatePersistentAppUI, GetPersistentAppUIPresignedURL), which outlives the cluster. Both under the job's runtime
   * role (ExecutionRoleArn): EMR scopes the UI to that role, not to the job, so the link shows what that role ran.
   */
  async appUi(caller: Caller, jobId: string): Promise<JobAppUi> {
    const job = await this.deps.jobs.get(caller, jobId);
    // The link shows every step of the role on the cluster, not only this job: reading them all must be allowed.
    await this.deps.jobs.requireRoleReads(caller, job);
    const stepId = this.stepOf(job);
        const kind: AppUiKind = isTerminal(job.status) ? 'persistent' : 'on-cluster';
    const role = { executionRoleArn: job.executionRoleArn };
    try {
      const link = kind === 'on-cluster' ? await this.deps.appUi.onCluster({ clusterId: job.clusterId, ...role }) : await this.deps.appUi.persistent({ clusterId: job.clusterId, clusterArn: configuredClusterArn(this.deps.config, job.clusterId), ...role });
      return { job, stepId, kind, ready: link.ready, ...(link.url !== undefined ? { url: link.url } : {}) };
    } catch (error) {
      // E.g. the cluster is gone (an on-cluster UI), or EMR refuses the role: the state of things, not a fault here.
      if (error instanceof EmrRejectedError) throw new ConflictError(`EMR gave no application UI link for ${jobId}: ${error.message}`, { emrError: error.emrError });
      throw error;
    }
  }

  /**
   * The job's EMR step, or why there is none to show (not submitted yet, or never). With retries: the step of
   * `attempt`, if given, else the current attempt's, or between attempts the last one's (whose failure one wants to see).
   */
  private stepOf(job: Job, attempt?: number): string {
    if (attempt !== undefined) {
      const ended = job.attempts?.find((a) => a.attempt === attempt);
      if (ended) return ended.stepId;
      if (attempt !== attemptOf(job)) throw new NotFoundError(`job ${job.jobId} has no attempt ${attempt} (it is on attempt ${attemptOf(job)})`, { code: 'NoStep' });
    }
    if (job.stepId) return job.stepId;
    const last = job.attempts?.at(-1);
    if (attempt === undefined && last && betweenAttempts(job)) return last.stepId;
    throw new NotFoundError(`job ${job.jobId} has no EMR step ${isTerminal(job.status) ? `(it ended ${job.status} before one was added)` : `yet (status ${job.status})`}`, { code: 'NoStep' });
  }
}
