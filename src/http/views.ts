/** What the API shows of a job: the record without its internals (hashes, versions, the raw request). */
import type { Job } from '../jobs/model';
import type { Session } from '../sessions/model';
import type { JobView, SessionView } from './schemas';

export const jobLinks = (jobId: string) => ({ self: `/jobs/${jobId}`, audit: `/jobs/${jobId}/audit` });

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
    decision: job.decision,
    ...(job.failureDetails ? { failureDetails: job.failureDetails } : {}),
    ...(job.stateChangeReason ? { stateChangeReason: job.stateChangeReason } : {}),
    ...(job.cancelRequested ? { cancelRequested: { by: job.cancelRequested.by, mode: job.cancelRequested.mode, at: job.cancelRequested.at } } : {}),
    createdAt: job.createdAt,
    updatedAt: job.updatedAt,
    ...(job.submittedAt ? { submittedAt: job.submittedAt } : {}),
    ...(job.finishedAt ? { finishedAt: job.finishedAt } : {}),
    ...(job.idempotencyKey ? { idempotencyKey: job.idempotencyKey } : {}),
    ...(job.invocation ? { invocation: job.invocation } : {}),
    links: jobLinks(job.jobId),
  };
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
