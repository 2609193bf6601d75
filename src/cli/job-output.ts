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
  if (job.submittedAt) pairs.push(['Submitted', job.submittedAt]);
  if (job.finishedAt) pairs.push(['Finished', `${job.finishedAt} (after ${elapsed(job.createdAt, new Date(job.finishedAt))})`]);
  if (job.timeoutSeconds) pairs.push(['Timeout', `${job.timeoutSeconds}s`]);
  if (job.cancelRequested) pairs.push(['Cancel', `${job.cancelRequested.mode} requested by ${job.cancelRequested.by} at ${job.cancelRequested.at}`]);
  const f = job.failureDetails;
  // EMR's "Unknown Error." is its placeholder when it found no cause: the message and the log say what happened.
  if (f) pairs.push(['Failure', [f.reason === EMR_UNKNOWN_REASON ? undefined : f.reason, f.message, f.logFile && `log: ${f.logFile}`].filter(Boolean).join(' — ') || (f.reason ?? '')]);
  // EMR's reason matters most where the job did not fail itself: e.g. cancelled by another step's CANCEL_AND_WAIT.
  const r = job.stateChangeReason;
  if (r && !f) pairs.push(['EMR reason', [r.code, r.message].filter(Boolean).join(': ')]);
  return fields(pairs);
}
