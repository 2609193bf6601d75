/** How the CLI shows one job (status, the end of wait/submit --wait/cancel --wait) and the exit code it stands for. */
import type { JobView } from '../client';
import { isTerminal } from '../jobs/model';
import { fields } from './output';
import { EXIT } from './usage';

/** Exit code of a finished job: 0 completed, 3 denied by policy, 1 anything else. */
export function exitCodeForJob(job: JobView): number {
  if (job.status === 'COMPLETED') return EXIT.ok;
  if (job.status === 'REJECTED' && job.decision.result !== 'Allowed') return EXIT.denied;
  return EXIT.failed;
}

/** The FailureDetails.Reason EMR gives when it could not tell why a step failed. */
const EMR_UNKNOWN_REASON = 'Unknown Error.';

export function elapsed(from: string, to: Date = new Date()): string {
  const s = Math.max(0, Math.round((to.getTime() - Date.parse(from)) / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h ? `${h}h${String(m).padStart(2, '0')}m` : m ? `${m}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

/** One attempt: its step, state, times and why it failed. */
function attemptLine(a: NonNullable<JobView['attempts']>[number]): string {
  const f = a.failureDetails;
  const why = f ? [f.reason === EMR_UNKNOWN_REASON ? undefined : f.reason, f.message].filter(Boolean).join(' — ') : '';
  return [a.stepId, a.state ?? 'not yet seen', a.submittedAt && `from ${a.submittedAt}`, a.endedAt && `to ${a.endedAt}`].filter(Boolean).join('  ') + (why ? `  ${why}` : '');
}

/** The state a follower shows: the job's status, EMR's state if it differs, and the attempt of a job with retries. */
export function followState(job: JobView): string {
  const emr = job.step.state && job.step.state !== job.status ? ` (EMR ${job.step.state})` : '';
  const attempt = job.retry ? ` attempt ${job.attempt ?? 1}/${job.retry.maxAttempts}${job.nextAttemptAt ? `, next at ${job.nextAttemptAt}` : ''}` : '';
  return `${job.status}${emr}${attempt}`;
}

export function renderJob(job: JobView): string {
  const pairs: [string, string][] = [
    ['Job', job.jobId],
    ['Status', job.status],
    ['Name', job.name],
    ['Cluster', job.clusterId],
    ['Runtime role', job.executionRoleArn],
    ['Step', job.step.id ? `${job.step.id} (${job.step.state ?? 'not yet seen'}, ${job.stepType})` : `${isTerminal(job.status) ? 'never submitted' : 'not submitted yet'} (${job.stepType})`],
    ['Caller', `${job.caller.callerArn}${job.caller.sourceIdentity ? ` (source identity ${job.caller.sourceIdentity})` : ''}`],
    ['Decision', `${job.decision.result}: ${job.decision.reason}`],
    ['Created', job.createdAt],
  ];
  if (job.admission) {
    const { group, priority, queuedAt, admittedAt } = job.admission;
    const waited = queuedAt ? (admittedAt ? `, queued ${queuedAt}, admitted ${admittedAt}` : `, queued since ${queuedAt} (emr-gateway queue --cluster ${job.clusterId})`) : '';
    pairs.push(['Admission', `group ${group}, priority ${priority}${waited}`]);
  }
  if (job.submittedAt) pairs.push(['Submitted', job.submittedAt]);
  if (job.finishedAt) pairs.push(['Finished', `${job.finishedAt} (after ${elapsed(job.createdAt, new Date(job.finishedAt))})`]);
  if (job.timeoutSeconds) pairs.push(['Timeout', `${job.timeoutSeconds}s`]);
  if (job.retry) {
    const { maxAttempts, intervalSeconds, backoff, on } = job.retry;
    pairs.push(['Attempt', `${job.attempt ?? 1} of ${maxAttempts}${job.nextAttemptAt ? `, the next at ${job.nextAttemptAt}` : ''} (retry on ${on.join(', ')} after ${intervalSeconds}s${backoff !== 1 ? `, ×${backoff} each time` : ''})`]);
    for (const a of job.attempts ?? []) pairs.push([`  #${a.attempt}`, attemptLine(a)]);
  }
  if (job.cancelRequested) pairs.push(['Cancel', `${job.cancelRequested.mode} requested by ${job.cancelRequested.by} at ${job.cancelRequested.at}`]);
  const f = job.failureDetails;
  // EMR's "Unknown Error." is its placeholder when it found no cause: the message and the log say what happened.
  if (f) pairs.push(['Failure', [f.reason === EMR_UNKNOWN_REASON ? undefined : f.reason, f.message, f.logFile && `log: ${f.logFile}`].filter(Boolean).join(' — ') || (f.reason ?? '')]);
  // EMR's reason matters most where the job did not fail itself: e.g. cancelled by another step's CANCEL_AND_WAIT.
  const r = job.stateChangeReason;
  if (r && !f) pairs.push(['EMR reason', [r.code, r.message].filter(Boolean).join(': ')]);
  return fields(pairs);
}
