/** The job record and its states: the gateway's lifecycle, and how EMR's step states map onto it. */
import type { Decision, DecisionResult } from '../authz/engine';
import { JOB_ID } from '../identifiers';
import type { JobRequest } from './request';

import { isTerminal, type JobStatus, type TerminalStatus } from './statuses';

export { ACTIVE_STATUSES, JOB_STATUSES, TERMINAL_STATUSES, isTerminal, type JobStatus, type TerminalStatus } from './statuses';


/** EMR's step states (DescribeStep Status.State). */
export const EMR_STEP_STATES = ['PENDING', 'CANCEL_PENDING', 'RUNNING', 'COMPLETED', 'CANCELLED', 'FAILED', 'INTERRUPTED'] as const;
export type EmrStepState = (typeof EMR_STEP_STATES)[number];
export const isEmrStepState = (state: unknown): state is EmrStepState => (EMR_STEP_STATES as readonly unknown[]).includes(state);
export const EMR_TERMINAL_STATES = ['COMPLETED', 'CANCELLED', 'FAILED', 'INTERRUPTED'] as const satisfies readonly EmrStepState[];
export const isEmrTerminal = (state: EmrStepState): state is (typeof EMR_TERMINAL_STATES)[number] => (EMR_TERMINAL_STATES as readonly string[]).includes(state);
/** EMR's non-terminal step states in the only order a step passes through them (none comes back). */
const EMR_PROGRESS: readonly EmrStepState[] = ['PENDING', 'RUNNING', 'CANCEL_PENDING'];
/** The non-terminal states a step in `state` can no longer be in: any after it. */
export const laterEmrStates = (state: EmrStepState): EmrStepState[] => {
  const at = EMR_PROGRESS.indexOf(state);
  return at < 0 ? [] : EMR_PROGRESS.slice(at + 1);
};

/** Who asked: the authenticated caller, or a schedule/trigger acting as its configured principal. */
export interface Actor {
  /** aws:PrincipalArn: the role ARN for an assumed-role session. */
  principalArn: string;
  /** The ARN the caller authenticated as. */
  callerArn: string;
  /**
   * The person behind the request: a verified session name (its principals rule says `sessionNames: verified`)
   * or a schedule's or trigger's configured identity. EMR gets it as the STS SourceIdentity.
   */
  sourceIdentity?: string;
  /** An assumed-role session name that is not verified: what the caller chose to call itself, never an identity. */
  sessionName?: string;
  /** The schedule or trigger that acted, if any. */
  trigger?: string;
}

export interface FailureDetails {
  reason?: string;
  message?: string;
  logFile?: string;
}

/** EMR's StateChangeReason of a step (DescribeStep Status.StateChangeReason): EMR currently sets only the message. */
export interface StateChangeReason {
  code?: string;
  message?: string;
}

/** An attempt that has ended (its step ended and another attempt followed). */
export interface AttemptRecord {
  attempt: number;
  stepId: string;
  state: EmrStepState;
  submittedAt?: string;
  endedAt: string;
  failureDetails?: FailureDetails;
  stateChangeReason?: StateChangeReason;
  /** How long its step ran, by EMR's step timeline (StartDateTime to EndDateTime). */
  stepSeconds?: number;
}

/** Whole seconds a step ran by EMR's timeline, if it shows both ends (a step cancelled while PENDING never started). */
export function stepSecondsOf(timeline: { startedAt?: string; endedAt?: string } | undefined): number | undefined {
  const started = timeline?.startedAt === undefined ? NaN : Date.parse(timeline.startedAt);
  const ended = timeline?.endedAt === undefined ? NaN : Date.parse(timeline.endedAt);
  return Number.isNaN(started) || Number.isNaN(ended) ? undefined : Math.max(0, Math.round((ended - started) / 1000));
}

/** The attempt a job is on (1 until a retry). */
export const attemptOf = (job: Pick<Job, 'attempt'>): number => job.attempt ?? 1;

/** Between attempts: the last attempt has ended, the next is due at nextAttemptAt, no step runs. */
export const betweenAttempts = (job: Pick<Job, 'status' | 'stepId' | 'nextAttemptAt'>): boolean => !isTerminal(job.status) && !job.stepId && job.nextAttemptAt !== undefined;
/** A notification a job sends (its configured name) and the states it is sent at, fixed at submission. */
export interface JobNotification {
  name: string;
  states: JobStatus[];
}

/**
 * A delivery due: the outbox entry written with the state that made it due (one conditional write, so a crash can
 * lose neither), sent and removed by the notifier, never by the job's own path.
 */
export interface DueDelivery {
  /** `JOBID/STATE/NAME`: the same in every attempt, so a receiver can drop a repeat. */
  id: string;
  name: string;
  state: JobStatus;
  /** When the job entered the state. */
  at: string;
  /** Attempts made (each on the audit trail). */
  attempts: number;
  /** The next attempt not before (after a failed one's backoff). */
  nextAt?: string;
  /** A notifier at work on it, until then (one at a time; a crashed one's lease runs out). */
  lease?: { by: string; until: string };
}

export interface Job {
  jobId: string;
  status: JobStatus;
  /** Optimistic concurrency: every update requires the version it read. */
  version: number;
  createdAt: string;
  updatedAt: string;
  /** `${createdAt}#${jobId}`: the sort key of every list index, newest first. */
  listKey: string;
  actor: Actor;
  /** Denormalised for the byCaller index. */
  principalArn: string;
  clusterId: string;
  executionRoleArn: string;
  name: string;
  stepType: string;
  request: JobRequest;
  /** SHA-256 of the canonical request: the same Idempotency-Key with another body is a conflict. */
  requestHash: string;
  /** SHA-256 of the step's arguments, for the audit trail. */
  argsHash: string;
  idempotencyKey?: string;
  /** The schedule's or trigger's run this job is (e.g. `schedule:nightly:2026-11-28T02:00:00.000Z`). */
  invocation?: string;
  decision: { result: DecisionResult; reason: string };
  stepId?: string;
  emrState?: EmrStepState;
  failureDetails?: FailureDetails;
  /** Why EMR ended the step as it did, in EMR's words: e.g. cancelled because another step failed with CANCEL_AND_WAIT. */
  stateChangeReason?: StateChangeReason;
  /** AddJobFlowSteps calls for the current attempt (a retried submission looks for the step an earlier call added). */
  submitAttempts: number;
  /** The attempt the job is on: absent for the first (retry.ts). Each attempt is a new EMR step under the same decision. */
  attempt?: number;
  /** The attempts that have ended before the current one, in order. */
  attempts?: AttemptRecord[];
  /** Between attempts (no step): when the next one is due. */
  nextAttemptAt?: string;
  /** When the current attempt's step was added. */
  submittedAt?: string;
  finishedAt?: string;
  cancelRequested?: { by: string; mode: CancelMode; at: string; sent?: boolean };
  /** Set when the deadline passed and the gateway cancelled the step: CANCELLED then reads TIMED_OUT. */
  timedOut?: boolean;
  /** The job this one reruns (POST /jobs/{id}/rerun). */
  rerunOf?: string;
  /** The jobs that rerun this one, oldest first (the last MAX_RERUNS_KEPT). */
  reruns?: string[];
  /** The template and parameters a schedule or trigger (or a rerun of its job) made this job's request from. */
  template?: TemplateRun;
  /**
   * The name of the state machine execution that follows the job, when it is not the job id: the reconciler started
   * another one (`JOBID-2`, `-3`, ...) after the previous one had ended with the job unfinished.
   */
  execution?: string;
  /**
   * The task token the job's execution waits on for the step's end (WaitForStepEnd), from when the wait starts
   * until someone completes it: the step-event handler, or the reconciler for an event that was lost. Never shown.
   */
  waitToken?: { token: string; at: string };
  /** The notifications the job sends (configured ones its owner, cluster or tags select, and those its request named). */
  notifications?: JobNotification[];
  /** Deliveries due, oldest first (notifications/due.ts); absent when none is. */
  notifyDue?: DueDelivery[];
  /** While deliveries are due: when the next may be tried (what the notifier's sweep and the jobs stream's filter look for). */
  notifyAt?: string;
  /** The head of the job's audit chain, as last recorded on the job (the chain itself may be one event ahead after a crash). */
  auditSeq: number;
  auditHash: string;
  /** Its place in the cluster's admission (queues.ts): the principal group it counts against, its priority, when admitted. */
  admission?: { group: string; priority: number; queuedAt?: string; admittedAt?: string };
  /** Once ended: how long its steps ran, every attempt's, by EMR's step timelines (GET /usage's step-seconds). */
  stepSeconds?: number;
}

const LIST_KEY = new RegExp(`^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z#(${JOB_ID.source.replace(/^\^|\$$/g, '')})$`);

/** The job id in a listKey (`${createdAt}#${jobId}`, createdAt as toISOString writes it), or undefined if it is not one. */
export function jobIdOfListKey(listKey: string): string | undefined {
  return LIST_KEY.exec(listKey)?.[1];
}

/** The name of the execution that follows the job: the job id, or the one a reconciler started after it. */
export const executionName = (job: Pick<Job, 'jobId' | 'execution'>): string => job.execution ?? job.jobId;

/** The name of the execution after `name` for the job: `JOBID-2` after `JOBID`, `JOBID-3` after `JOBID-2`. */
export function nextExecutionName(jobId: string, name: string): string {
  const n = name === jobId ? 1 : Number(/-(\d+)$/.exec(name)?.[1] ?? 1);
  return `${jobId}-${n + 1}`;
}

/** How many reruns a job lists (the newest): each also names what it reruns. */
export const MAX_RERUNS_KEPT = 100;

/**
 * A job's template and the parameter values it was rendered with; `fromEvent` names those an event (or a rerun's
 * caller) chose, which a rerun checks again as such (triggers/template.ts).
 */
export interface TemplateRun {
  name: string;
  parameters: Record<string, string | number | boolean>;
  fromEvent: string[];
}

export type CancelMode = 'SEND_INTERRUPT' | 'TERMINATE_PROCESS';
export const CANCEL_MODES: readonly CancelMode[] = ['SEND_INTERRUPT', 'TERMINATE_PROCESS'];

/** The job's terminal status for a terminal EMR step state: a step the gateway cancelled at its deadline ends TIMED_OUT. */
export function terminalStatusFor(state: (typeof EMR_TERMINAL_STATES)[number], timedOut: boolean): TerminalStatus {
  return state === 'CANCELLED' && timedOut ? 'TIMED_OUT' : (state);
}

/** A new job record: ACCEPTED when the decision allowed it, else REJECTED (and finished) at once. */
export function newJob(fields: {
  jobId: string;
  at: Date;
  actor: Actor;
  request: JobRequest;
  requestHash: string;
  argsHash: string;
  idempotencyKey?: string;
  invocation?: string;
  rerunOf?: string;
  template?: TemplateRun;
  /** The notifications it sends (notifications/selection.ts). */
  notifications?: JobNotification[];
  decision: Pick<Decision, 'allowed' | 'result' | 'reason'>;
  /** The audit chain's head after the DECISION event. */
  head: { seq: number; hash: string };
}): Job {
  const { jobId, actor, request, decision } = fields;
  const at = fields.at.toISOString();
  return {
    jobId,
    status: decision.allowed ? 'ACCEPTED' : 'REJECTED',
    version: 1,
    createdAt: at,
    updatedAt: at,
    listKey: `${at}#${jobId}`,
    actor,
    principalArn: actor.principalArn,
    clusterId: request.clusterId,
    executionRoleArn: request.executionRoleArn,
    name: request.name,
    stepType: request.step.type,
    request,
    requestHash: fields.requestHash,
    argsHash: fields.argsHash,
    ...(fields.idempotencyKey !== undefined ? { idempotencyKey: fields.idempotencyKey } : {}),
    ...(fields.invocation !== undefined ? { invocation: fields.invocation } : {}),
    ...(fields.rerunOf !== undefined ? { rerunOf: fields.rerunOf } : {}),
    ...(fields.template !== undefined ? { template: fields.template } : {}),
    decision: { result: decision.result, reason: decision.reason },
    submitAttempts: 0,
    ...(decision.allowed ? {} : { finishedAt: at }),
    ...(fields.notifications?.length ? { notifications: fields.notifications } : {}),
    auditSeq: fields.head.seq,
    auditHash: fields.head.hash,
  };
}

/** What identifies a job in logs (appended to every later line of an invocation). */
export function jobLogKeys(job: Pick<Job, 'jobId' | 'executionRoleArn' | 'stepId'>): Record<string, string> {
  return { jobId: job.jobId, executionRoleArn: job.executionRoleArn, ...(job.stepId ? { stepId: job.stepId } : {}) };
}
