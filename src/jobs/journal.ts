/**
 * The two writes of every change to a job: the audit event first, then the job record with the new chain
 * head. No transactions: a crash between them is repaired by doing it again, because the append finds its
 * event by dedupe key and the job update is conditional on the version it read.
 *
 * The trail tells events in the order they happened. An event of the job's progress (a submission, an EMR state,
 * a deadline, a reconciler's repair) is appended only while the trail has no terminal event, and an EMR state
 * only while no later state is recorded: the append checks it on the chain its own conditional write extends
 * (AuditLog `onlyBefore`), never on a read made before, which a concurrent writer could overtake. What belongs
 * after the end (a late cancel request refused, a denied read, a step stopped after the end) is appended freely.
 */
import type { AuditDraft, AuditEvent } from '../audit/chain';
import { attemptOf, isTerminal, stepSecondsOf, type EmrStepState, type FailureDetails, type Job, type StateChangeReason } from './model';
import { deliveriesDue } from '../notifications/due';
import type { AppendOptions, AuditLog, JobChanges, JobRepository } from './ports';

/** The dedupe key of a job's one terminal event (its type is the terminal status). */
export const TERMINAL_EVENT = 'TERMINAL';

export type JobChange = (job: Job, event: AuditEvent) => Partial<Job> | undefined;

export interface RecordOptions {
  /** Dedupe keys of events this one must precede (TERMINAL for any event of the job's progress). */
  onlyBefore?: readonly string[];
  /** The job as the caller holds it: the update starts from it, and reads the job only if it moved on. */
  known?: Job;
  /** The trail as the caller has just read it (AppendOptions `chain`). */
  chain?: AppendOptions['chain'];
}

export interface Recorded {
  job: Job;
  /** The draft's event, or, when the trail already held an event it had to precede, that event. */
  event: AuditEvent;
  /** False when nothing was appended because the trail already held an event the draft had to precede. */
  recorded: boolean;
}

/**
 * Appends `draft` (found again by its dedupe key after a crash) and applies `change` to the job with the new head.
 * If the trail already holds an event the draft must precede, nothing is appended and `change` is not applied;
 * if that event is the job's end, the job takes it (endedBy): a crash may have kept the end off the record.
 */
export async function recordEvent(jobs: JobRepository, audit: AuditLog, jobId: string, draft: AuditDraft, change: JobChange = () => undefined, options: RecordOptions = {}): Promise<Recorded> {
  const event = await audit.append(jobId, draft, { ...(options.onlyBefore ? { onlyBefore: options.onlyBefore } : {}), ...(options.chain ? { chain: options.chain } : {}) });
  const recorded = event.dedupeKey === draft.dedupeKey;
  const job = await jobs.transition(jobId, (current) => {
    const changes = withDeliveries(current, recorded ? change(current, event) : event.dedupeKey === TERMINAL_EVENT ? endedBy(current, event) : undefined, event.at);
    const advance = event.seq > current.auditSeq ? { auditSeq: event.seq, auditHash: event.hash } : {};
    return changes || Object.keys(advance).length ? { ...changes, ...advance } : undefined;
  }, options.known);
  return { job, event, recorded };
}

/** A terminal event's EMR timeline, if it holds one of strings (events are read back: their shape is not assumed). */
function timelineOf(value: unknown): { startedAt?: string; endedAt?: string } | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const { startedAt, endedAt } = value as Record<string, unknown>;
  return { ...(typeof startedAt === 'string' ? { startedAt } : {}), ...(typeof endedAt === 'string' ? { endedAt } : {}) };
}

/** A change of the job's status makes its notifications for the new status due, in the same write. */
function withDeliveries(job: Job, changes: JobChanges | undefined, at: string): JobChanges | undefined {
  if (!changes?.status || changes.status === job.status) return changes;
  // The attempt the new state belongs to: the one the change starts, or, between attempts (PENDING until the next is
  // due), the next; so each attempt's PENDING and RUNNING are deliveries of their own (due.ts deliveryId).
  const attempt = changes.attempt ?? (changes.nextAttemptAt !== undefined ? attemptOf(job) + 1 : job.attempt);
  const due = deliveriesDue({ ...job, ...(attempt !== undefined ? { attempt } : {}) }, changes.status, at);
  return due ? { ...changes, ...due } : changes;
}

/** The job as its terminal event records it (status, end time, EMR's last state and details), unless it has ended already. */
export function endedBy(job: Job, event: AuditEvent): JobChanges | undefined {
  if (isTerminal(job.status) || !isTerminal(event.type)) return undefined;
  const details = event.detail?.failureDetails as FailureDetails | undefined;
  const emrState = event.emr?.state as EmrStepState | undefined;
  const reason = event.emr?.stateChangeReason as StateChangeReason | undefined;
  // Every attempt's step-seconds, the last one's from its end's timeline (an event of the trail: its shape is checked).
  const last = stepSecondsOf(timelineOf(event.emr?.timeline));
  const earlier = (job.attempts ?? []).map((a) => (typeof a.stepSeconds === 'number' && Number.isFinite(a.stepSeconds) ? a.stepSeconds : 0));
  const ran = last !== undefined || earlier.length ? { stepSeconds: earlier.reduce((sum, s) => sum + s, last ?? 0) } : {};
  return { status: event.type, finishedAt: event.at, ...(emrState ? { emrState } : {}), ...(details ? { failureDetails: details } : {}), ...(reason ? { stateChangeReason: reason } : {}), ...ran };
}
