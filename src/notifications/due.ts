/**
 * The notifications' outbox on the job record: which notifications a job sends (chosen at submission), and the
 * deliveries a state makes due, added by the same conditional write that records the state (journal.ts), so a
 * job that reached a state always has its deliveries on record, whatever crashes after. The notifier sends them.
 */
import { globMatcher } from '../authz/pattern';
import { isTerminal, type DueDelivery, type Job, type JobNotification, type JobStatus } from '../jobs/model';

/** What this module reads of a configured notification (config/schema.ts). */
export interface NotificationRule {
  name: string;
  states: readonly JobStatus[];
  jobs?: { principals?: readonly string[]; clusters?: readonly string[]; tags?: Readonly<Record<string, string>> };
}

/** What selects a job for a notification by itself: its owner, cluster and tags, as they are at submission. */
export interface NotifiedJob {
  principalArn: string;
  clusterId: string;
  tags?: Readonly<Record<string, string>>;
}

/** Does the notification's `jobs` selector take this job (every criterion given must hold)? Without one, none. */
export function selects(notification: NotificationRule, job: NotifiedJob): boolean {
  const sel = notification.jobs;
  if (!sel) return false;
  if (sel.principals && !sel.principals.some((p) => globMatcher(p)(job.principalArn))) return false;
  if (sel.clusters && !sel.clusters.includes(job.clusterId)) return false;
  if (sel.tags && !Object.entries(sel.tags).every(([k, v]) => job.tags?.[k] === v)) return false;
  return true;
}

/**
 * The notifications a job sends: every configured one whose selector takes it, and those its request names
 * (`requested`, only when the decision allowed the request: the policy decided on them), in configuration order.
 */
export function notificationsFor(configured: readonly NotificationRule[], job: NotifiedJob, requested: readonly string[]): JobNotification[] {
  return configured.filter((n) => requested.includes(n.name) || selects(n, job)).map((n) => ({ name: n.name, states: [...n.states] }));
}

/**
 * A delivery's id: the same in every try of it (a receiver drops a repeat by it), another for each time the job enters
 * the state. With retries a job enters PENDING and RUNNING again for each attempt: those are new deliveries (`/N`);
 * its end comes once.
 */
export const deliveryId = (jobId: string, state: JobStatus, name: string, attempt = 1): string => `${jobId}/${state}/${name}${attempt > 1 && !isTerminal(state) ? `/${attempt}` : ''}`;

/** When the next of `due` may be tried: the earliest of each one's next attempt or the end of its lease. */
export function nextDueAt(due: readonly DueDelivery[]): string | undefined {
  const times = due.map((d) => [d.nextAt ?? d.at, d.lease?.until ?? ''].reduce((a, b) => (a > b ? a : b)));
  return times.length ? times.reduce((a, b) => (a < b ? a : b)) : undefined;
}

/** The job's outbox as it should be: `notifyDue` and `notifyAt`, both absent (removed) when nothing is due. */
export function outbox(due: readonly DueDelivery[]): Pick<Job, 'notifyDue' | 'notifyAt'> {
  return due.length ? { notifyDue: [...due], notifyAt: nextDueAt(due)! } : { notifyDue: undefined, notifyAt: undefined };
}

/** The outbox changes of a job entering `status` at `at`: a delivery for each of its notifications sent at that state. */
export function deliveriesDue(job: Pick<Job, 'jobId' | 'notifications' | 'notifyDue' | 'attempt'>, status: JobStatus, at: string): Pick<Job, 'notifyDue' | 'notifyAt'> | undefined {
  const existing = job.notifyDue ?? [];
  const added = (job.notifications ?? [])
    .filter((n) => n.states.includes(status))
    .map((n): DueDelivery => ({ id: deliveryId(job.jobId, status, n.name, job.attempt), name: n.name, state: status, at, attempts: 0 }))
    .filter((d) => !existing.some((e) => e.id === d.id));
  return added.length ? outbox([...existing, ...added]) : undefined;
}
