/** What the API shows of a job: the record without its internals (hashes, versions, the raw request). */
import { attemptOf, betweenAttempts, type AttemptRecord, type Job } from '../jobs/model';
import type { JobAppUi, JobLogs } from '../jobs/job-logs';
import type { StepLogStream } from '../jobs/step-logs';
import type { Session } from '../sessions/model';
import type * as z from '../util/zod';
import type { appUiResponseSchema, JobView, logsResponseSchema, SessionView } from './response-schemas';

export const jobLinks = (jobId: string) => ({ self: `/jobs/${jobId}`, audit: `/jobs/${jobId}/audit`, logs: `/jobs/${jobId}/logs`, ui: `/jobs/${jobId}/ui` });

export function logsView({ job, stepId, location, lastModified, window }: JobLogs, stream: StepLogStream): z.output<typeof logsResponseSchema> {
  return {
    jobId: job.jobId,
    stepId,
    stream,
    logUri: location.uri,
    ...(lastModified ? { lastModified: lastModified.toISOString() } : {}),
    lines: window.lines,
    offset: window.offset,
    nextOffset: window.nextOffset,
    ...(window.partial !== undefined ? { partial: window.partial } : {}),
    more: window.more,
    cutLines: window.cutLines,
    ...(window.size !== undefined ? { size: window.size } : {}),
  };
}

export function appUiView({ job, stepId, kind, ready, url }: JobAppUi): z.output<typeof appUiResponseSchema> {
  return { jobId: job.jobId, stepId, kind, ready, ...(url !== undefined ? { url } : {}) };
}

export function jobView(job: Job): JobView {
  const { request } = job;
  return {
    jobId: job.jobId,
    status: job.status,
    name: job.name,
    clusterId: job.clusterId,
    executionRoleArn: job.executionRoleArn,
    stepType: job.stepType,
    caller: job.actor,
    step: { ...(job.stepId ? { id: job.stepId } : {}), ...(job.emrState ? { state: job.emrState } : {}) },
    actionOnFailure: request.actionOnFailure,
    ...(request.timeoutSeconds !== undefined ? { timeoutSeconds: request.timeoutSeconds } : {}),
    ...(request.tags ? { tags: request.tags } : {}),
    ...(request.retry ? { retry: request.retry, attempt: attemptOf(job), attempts: attemptsView(job) } : {}),
    ...(betweenAttempts(job) ? { nextAttemptAt: job.nextAttemptAt } : {}),
    decision: job.decision,
    ...(job.failureDetails ? { failureDetails: job.failureDetails } : {}),
    ...(job.stateChangeReason ? { stateChangeReason: job.stateChangeReason } : {}),
    ...(job.cancelRequested ? { cancelRequested: { by: job.cancelRequested.by, mode: job.cancelRequested.mode, at: job.cancelRequested.at } } : {}),
    createdAt: job.createdAt,
    updatedAt: job.updatedAt,
    ...(job.submittedAt ? { submittedAt: job.submittedAt } : {}),
    ...(job.finishedAt ? { finishedAt: job.finishedAt } : {}),
    ...(job.admission ? { admission: { ...job.admission } } : {}),
    ...(job.stepSeconds !== undefined ? { stepSeconds: job.stepSeconds } : {}),
    ...(job.idempotencyKey ? { idempotencyKey: job.idempotencyKey } : {}),
    ...(job.invocation ? { invocation: job.invocation } : {}),
    ...(job.rerunOf ? { rerunOf: job.rerunOf } : {}),
    ...(job.reruns?.length ? { reruns: [...job.reruns] } : {}),
    ...(job.template ? { template: { name: job.template.name, parameters: { ...job.template.parameters } } } : {}),
    ...(job.notifications?.length ? { notifications: job.notifications } : {}),
    ...(job.notifyDue?.length ? { deliveriesDue: job.notifyDue.map((d) => ({ id: d.id, name: d.name, state: d.state, attempts: d.attempts, ...(d.nextAt ? { nextAt: d.nextAt } : {}) })) } : {}),
    links: jobLinks(job.jobId),
  };
}

/** Every attempt of a job with a retry policy, in order: those that ended, then the current one, if its step was added. */
function attemptsView(job: Job): AttemptRecord[] {
  const ended = (job.attempts ?? []).map((a) => ({ ...a }));
  if (!job.stepId) return ended;
  const current: AttemptRecord = {
    attempt: attemptOf(job),
    stepId: job.stepId,
    ...(job.emrState ? { state: job.emrState } : {}),
    ...(job.submittedAt ? { submittedAt: job.submittedAt } : {}),
    ...(job.finishedAt ? { endedAt: job.finishedAt } : {}),
    ...(job.failureDetails ? { failureDetails: job.failureDetails } : {}),
    ...(job.stateChangeReason ? { stateChangeReason: job.stateChangeReason } : {}),
  } as AttemptRecord;
  return [...ended, current];
}

export const sessionLinks = (sessionId: string) => ({ self: `/sessions/${sessionId}`, audit: `/sessions/${sessionId}/audit` });

/** What the API shows of a session: never a password (the record holds none), nor the chain head or keys. */
export function sessionView(session: Session): SessionView {
  return {
    sessionId: session.sessionId,
    status: session.status,
    clusterId: session.clusterId,
    executionRoleArn: session.executionRoleArn,
    caller: session.actor,
    decision: session.decision,
    ...(session.durationSeconds !== undefined ? { durationSeconds: session.durationSeconds } : {}),
    ...(session.username !== undefined ? { username: session.username } : {}),
    ...(session.expiresAt !== undefined ? { expiresAt: session.expiresAt } : {}),
    ...(session.endpoints ? { endpoints: { ...session.endpoints } } : {}),
    ...(session.failure ? { failure: session.failure } : {}),
    createdAt: session.createdAt,
    links: sessionLinks(session.sessionId),
  };
}
