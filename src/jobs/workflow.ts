/**
 * The tasks the state machine (statemachines/submit-job.asl.json) runs, one method each. Every task reloads
 * the job, is safe to run again after a crash or a retry (audit appends dedupe, job updates are conditional,
 * a second submission looks for the first step before adding one), and throws TransientError only for what a
 * retry can cure; the state machine's Retry handles those, its Catch sends anything else to `fail`.
 */
import {
  AddJobFlowStepsCommand,
  CancelStepsCommand,
  DescribeStepCommand,
  ListStepsCommand,
  type EMRClient,
  type StepSummary,
} from '@aws-sdk/client-emr';
import { errorName, isRetryable } from '../aws/errors';
import type { AuditDraft } from '../audit/chain';
import type { AuditStore } from '../audit/store';
import { DomainError, NotFoundError } from '../errors';
import { toAddJobFlowSteps } from './emr-step';
import { isEmrTerminal, isTerminal, terminalStatusFor, type EmrStepState, type FailureDetails, type Job, type JobStatus, type TerminalStatus } from './model';
import type { JobStore } from './store';

/** A failure a retry may cure (throttling, 5xx, timeouts): the state machine retries it with jittered backoff. */
export class TransientError extends DomainError {
  readonly code = 'Gateway.Transient';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'Gateway.Transient'; // the error name Step Functions' Retry matches
  }
}

export interface PollingPolicy {
  initialSeconds: number;
  factor: number;
  maxSeconds: number;
}
export const DEFAULT_POLLING: PollingPolicy = { initialSeconds: 15, factor: 2, maxSeconds: 300 };

export interface WorkflowInput {
  jobId: string;
  polling: PollingPolicy;
}
export interface TaskResult {
  /** True when the job has reached a terminal state: the state machine ends. */
  done: boolean;
  status: JobStatus;
  /** Seconds until the next poll. */
  waitSeconds: number;
}
export interface PollInput extends WorkflowInput {
  poll: TaskResult;
}
export interface FailInput extends WorkflowInput {
  error?: { Error?: string; Cause?: string };
}

/** EMR clients: the gateway's own, and one that carries the caller's source identity (via an assumed role). */
export interface EmrAccess {
  client(): EMRClient;
  /** The client to submit with: with the caller's source identity where the cluster propagates it. */
  submitter(job: Job): Promise<{ client: EMRClient; sourceIdentity?: string }>;
}

const SYSTEM_ACTOR = { principalArn: 'emr-step-gateway', callerArn: 'emr-step-gateway' };
/** Marks the EMR step with its job, so a retried submission finds the step it may already have added. */
export const stepMarker = (jobId: string): string => `[${jobId}]`;

export class JobWorkflow {
  constructor(
    private readonly jobs: JobStore,
    private readonly audit: AuditStore,
    private readonly emr: EmrAccess,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Adds the EMR step (once), records SUBMITTED with its id. */
  async submit(input: WorkflowInput): Promise<TaskResult> {
    let job = await this.load(input.jobId);
    if (isTerminal(job.status)) return this.result(job, input);
    if (job.cancelRequested && !job.stepId) {
      return this.result(await this.finish(job, 'CANCELLED', { type: 'CANCELLED', detail: { before: 'submission' } }), input);
    }
    if (job.stepId) return this.result(job, input);

    job = await this.jobs.transition(job.jobId, (j) => (j.stepId || isTerminal(j.status) ? undefined : { submitAttempts: j.submitAttempts + 1 }));
    if (job.stepId || isTerminal(job.status)) return this.result(job, input);

    const { client, sourceIdentity } = await this.emr.submitter(job).catch((error: unknown) => {
      throw isRetryable(error) ? new TransientError(`assuming the submitter role: ${errorName(error)}`, { cause: error }) : error;
    });
    let stepId = job.submitAttempts > 1 ? await this.findSubmittedStep(client, job) : undefined;
    if (!stepId) {
      const command = toAddJobFlowSteps(job.request);
      const step = command.Steps![0]!;
      step.Name = `${job.request.name.slice(0, 256 - stepMarker(job.jobId).length - 1)} ${stepMarker(job.jobId)}`;
      try {
        const out = await client.send(new AddJobFlowStepsCommand(command));
        stepId = out.StepIds?.[0];
      } catch (error) {
        if (errorName(error) === 'ValidationException' || errorName(error) === 'InvalidRequestException') {
          // EMR refuses: e.g. a runtime role on a cluster without runtime roles, or none where one is required.
          const message = error instanceof Error ? error.message : String(error);
          return this.result(
            await this.finish(job, 'REJECTED', { type: 'REJECTED', detail: { by: 'EMR', error: errorName(error), message } }, { reason: 'EMR_REJECTED', message }),
            input,
          );
        }
        if (isRetryable(error)) throw new TransientError(`AddJobFlowSteps: ${errorName(error)}`, { cause: error });
        throw error;
      }
      if (!stepId) throw new TransientError('AddJobFlowSteps returned no step id');
    }
    job = await this.record(job, { type: 'SUBMITTED', dedupeKey: 'SUBMITTED', emr: { stepId, ...(sourceIdentity ? { sourceIdentity } : {}) } }, (j) =>
      j.stepId ? undefined : { status: 'SUBMITTED', stepId, submittedAt: this.now().toISOString() },
    );
    return this.result(job, input);
  }

  /** One poll: DescribeStep, record a change of EMR state once, enforce the deadline and pending cancels. */
  async poll(input: PollInput): Promise<TaskResult> {
    let job = await this.load(input.jobId);
    if (isTerminal(job.status) || !job.stepId) return this.result(job, input, input.poll.waitSeconds);
    const step = await this.emrCall('DescribeStep', () =>
      this.emr.client().send(new DescribeStepCommand({ ClusterId: job.clusterId, StepId: job.stepId })),
    );
    const state = step.Step?.Status?.State;
    if (!state) throw new TransientError('DescribeStep returned no state');

    if (isEmrTerminal(state)) {
      const status = terminalStatusFor(state, job.timedOut === true);
      const failure = step.Step?.Status?.FailureDetails;
      const details: FailureDetails | undefined =
        failure && (failure.Reason || failure.Message || failure.LogFile)
          ? { reason: failure.Reason, message: failure.Message, logFile: failure.LogFile }
          : state === 'FAILED' || state === 'INTERRUPTED'
            ? { reason: step.Step?.Status?.StateChangeReason?.Code, message: step.Step?.Status?.StateChangeReason?.Message }
            : undefined;
      job = await this.finish(job, status, { type: status, emr: { stepId: job.stepId, state, ...(details ? { failureDetails: details } : {}) } }, details);
      return this.result(job, input);
    }
    if (state !== job.emrState) {
      job = await this.record(job, { type: 'STATE_CHANGED', dedupeKey: `STATE:${state}`, emr: { stepId: job.stepId, state } }, (j) =>
        isTerminal(j.status) || j.emrState === state ? undefined : { status: state, emrState: state },
      );
    }
    if (job.cancelRequested && !job.cancelRequested.sent) job = await this.sendCancel(job, job.cancelRequested.mode);
    const deadline = this.deadline(job);
    if (deadline !== undefined && this.now().getTime() >= deadline && !job.timedOut) {
      job = await this.record(job, { type: 'TIMEOUT', dedupeKey: 'TIMEOUT', detail: { timeoutSeconds: job.request.timeoutSeconds } }, (j) =>
        j.timedOut ? undefined : { timedOut: true },
      );
      await this.cancelStep(job, 'TERMINATE_PROCESS');
    }
    return this.result(job, input, this.nextWait(input, job));
  }

  /** The Catch of every task: whatever went wrong, the job ends FAILED with a final audit event. */
  async fail(input: FailInput): Promise<TaskResult> {
    const job = await this.load(input.jobId);
    const message = `${input.error?.Error ?? 'Error'}: ${String(input.error?.Cause ?? '').slice(0, 1000)}`;
    const finished = await this.finish(job, 'FAILED', { type: 'FAILED', detail: { by: 'gateway', error: message } }, { reason: 'GATEWAY_ERROR', message });
    return this.result(finished, input);
  }

  /** Asks EMR to cancel the job's step now (called by the cancel API when a step exists). */
  async sendCancel(job: Job, mode: NonNullable<Job['cancelRequested']>['mode']): Promise<Job> {
    await this.cancelStep(job, mode);
    return this.jobs.transition(job.jobId, (j) => (j.cancelRequested && !j.cancelRequested.sent ? { cancelRequested: { ...j.cancelRequested, sent: true } } : undefined));
  }

  private async cancelStep(job: Job, mode: NonNullable<Job['cancelRequested']>['mode']): Promise<void> {
    const out = await this.emrCall('CancelSteps', () =>
      this.emr.client().send(new CancelStepsCommand({ ClusterId: job.clusterId, StepIds: [job.stepId!], StepCancellationOption: mode })),
    );
    const info = out.CancelStepsInfoList?.[0];
    if (info?.Status === 'FAILED') {
      await this.audit.append(job.jobId, { type: 'CANCEL_FAILED', dedupeKey: `CANCEL_FAILED:${mode}`, actor: SYSTEM_ACTOR, emr: { stepId: job.stepId, reason: info.Reason } }, head(job));
    }
  }

  /** Appends the terminal event (once per job, whoever gets there first) and marks the job terminal. */
  private async finish(
    job: Job,
    status: TerminalStatus,
    draft: Omit<AuditDraft, 'dedupeKey'>,
    failureDetails?: FailureDetails,
  ): Promise<Job> {
    if (isTerminal(job.status)) return job;
    const at = this.now().toISOString();
    return this.record(job, { ...draft, dedupeKey: 'TERMINAL' }, (j) =>
      isTerminal(j.status)
        ? undefined
        : { status, finishedAt: at, ...(draft.emr?.state ? { emrState: draft.emr.state as EmrStepState } : {}), ...(failureDetails ? { failureDetails } : {}) },
    );
  }

  /**
   * The two writes of every change: the audit event first, then the job (with the new chain head). A crash
   * between them is repaired by running the task again: the append finds its event by dedupe key.
   */
  private async record(job: Job, draft: AuditDraft, change: (job: Job) => Partial<Job> | undefined): Promise<Job> {
    const event = await this.audit.append(job.jobId, { actor: SYSTEM_ACTOR, subject: subjectOf(job), ...draft }, head(job));
    return this.jobs.transition(job.jobId, (current) => {
      const changes = change(current);
      const advance = event.seq > current.auditSeq ? { auditSeq: event.seq, auditHash: event.hash } : {};
      return changes || Object.keys(advance).length ? { ...changes, ...advance } : undefined;
    });
  }

  private async findSubmittedStep(client: EMRClient, job: Job): Promise<string | undefined> {
    const marker = stepMarker(job.jobId);
    const created = Date.parse(job.createdAt) - 60_000;
    let marker_: string | undefined;
    for (let page = 0; page < 5; page++) {
      const out = await this.emrCall('ListSteps', () => client.send(new ListStepsCommand({ ClusterId: job.clusterId, Marker: marker_ })));
      const steps: StepSummary[] = out.Steps ?? [];
      const found = steps.find((s) => s.Name?.endsWith(marker));
      if (found?.Id) return found.Id;
      // Steps come newest first: once they predate the job, the step was never added.
      const oldest = steps.at(-1)?.Status?.Timeline?.CreationDateTime;
      if (!out.Marker || (oldest && oldest.getTime() < created)) return undefined;
      marker_ = out.Marker;
    }
    return undefined;
  }

  private async emrCall<T>(operation: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      if (isRetryable(error)) throw new TransientError(`${operation}: ${errorName(error)}`, { cause: error });
      throw error;
    }
  }

  private async load(jobId: string): Promise<Job> {
    const job = await this.jobs.get(jobId);
    if (!job) throw new NotFoundError(`job ${jobId} does not exist`);
    return job;
  }

  private deadline(job: Job): number | undefined {
    const seconds = job.request.timeoutSeconds;
    return seconds === undefined ? undefined : Date.parse(job.createdAt) + seconds * 1000;
  }

  /** Capped exponential backoff, never past the deadline (so a timeout is noticed on time). */
  private nextWait(input: PollInput, job: Job): number {
    const { factor, maxSeconds } = input.polling;
    let wait = Math.min(maxSeconds, Math.ceil(input.poll.waitSeconds * factor));
    const deadline = this.deadline(job);
    if (deadline !== undefined && !job.timedOut) wait = Math.max(1, Math.min(wait, Math.ceil((deadline - this.now().getTime()) / 1000)));
    return wait;
  }

  private result(job: Job, input: WorkflowInput, waitSeconds = input.polling.initialSeconds): TaskResult {
    return { done: isTerminal(job.status), status: job.status, waitSeconds };
  }
}

const head = (job: Job) => ({ seq: job.auditSeq, hash: job.auditHash });

export function subjectOf(job: Pick<Job, 'clusterId' | 'executionRoleArn' | 'stepType' | 'argsHash'>): Record<string, unknown> {
  return { clusterId: job.clusterId, executionRoleArn: job.executionRoleArn, stepType: job.stepType, argsHash: job.argsHash };
}
