/**
 * The message a notification carries, the same JSON to a webhook (its body) and to SNS (its Message): what a
 * receiver needs to act without calling back (the job, the state it reached and when, why it failed) and the
 * links to look further (the API's job, its logs, its Spark UI, its audit trail; each needs the caller's own
 * SigV4-signed access, as any API call).
 */
import type { AuditEvent } from '../audit/chain';
import type { DueDelivery, FailureDetails, Job, JobStatus, StateChangeReason } from '../jobs/model';

export const MESSAGE_TYPE = 'emr-gateway.job-state-change';

export interface NotificationMessage {
  type: typeof MESSAGE_TYPE;
  version: '1';
  deliveryId: string;
  notification: string;
  jobId: string;
  name: string;
  /** The state this delivery is for (the job may have moved on since: `currentStatus`). */
  status: JobStatus;
  currentStatus: JobStatus;
  /** When the job entered `status`. */
  at: string;
  clusterId: string;
  executionRoleArn: string;
  /** The job's owner (aws:PrincipalArn), the person behind it where verified, and the schedule or trigger that submitted it. */
  principal: string;
  sourceIdentity?: string;
  trigger?: string;
  stepId?: string;
  submittedAt: string;
  startedAt?: string;
  endedAt?: string;
  failureDetails?: FailureDetails;
  stateChangeReason?: StateChangeReason;
  tags?: Record<string, string>;
  links?: { job: string; logs: string; ui: string; audit: string };
}

/** When the step started running: the first EMR RUNNING state on the trail. */
export function startedAt(events: readonly AuditEvent[]): string | undefined {
  return events.find((e) => e.emr?.state === 'RUNNING')?.at;
}

export function notificationMessage(job: Job, delivery: DueDelivery, events: readonly AuditEvent[], apiUrl: string | undefined): NotificationMessage {
  const base = apiUrl?.replace(/\/+$/, '');
  const jobUrl = base ? `${base}/jobs/${encodeURIComponent(job.jobId)}` : undefined;
  const started = startedAt(events);
  const ended = isEndOf(delivery.state) ? job.finishedAt : undefined;
  return {
    type: MESSAGE_TYPE,
    version: '1',
    deliveryId: delivery.id,
    notification: delivery.name,
    jobId: job.jobId,
    name: job.name,
    status: delivery.state,
    currentStatus: job.status,
    at: delivery.at,
    clusterId: job.clusterId,
    executionRoleArn: job.executionRoleArn,
    principal: job.principalArn,
    ...(job.actor.sourceIdentity ? { sourceIdentity: job.actor.sourceIdentity } : {}),
    ...(job.actor.trigger ? { trigger: job.actor.trigger } : {}),
    ...(job.stepId ? { stepId: job.stepId } : {}),
    submittedAt: job.createdAt,
    ...(started ? { startedAt: started } : {}),
    ...(ended ? { endedAt: ended } : {}),
    ...(job.failureDetails && isEndOf(delivery.state) ? { failureDetails: job.failureDetails } : {}),
    ...(job.stateChangeReason && isEndOf(delivery.state) ? { stateChangeReason: job.stateChangeReason } : {}),
    ...(job.request.tags ? { tags: job.request.tags } : {}),
    ...(jobUrl ? { links: { job: jobUrl, logs: `${jobUrl}/logs`, ui: `${jobUrl}/ui`, audit: `${jobUrl}/audit` } } : {}),
  };
}

const ENDS: readonly string[] = ['COMPLETED', 'FAILED', 'CANCELLED', 'INTERRUPTED', 'TIMED_OUT', 'REJECTED'];
const isEndOf = (state: JobStatus): boolean => ENDS.includes(state);

/** SNS's Subject: printable ASCII, no line break, under 100 characters. */
export function snsSubject(message: Pick<NotificationMessage, 'name' | 'status'>): string {
  const name = message.name.replace(/[^\x20-\x7E]/g, '?');
  const subject = `EMR job ${message.status}: ${name}`;
  return subject.length > 99 ? `${subject.slice(0, 96)}...` : subject;
}
