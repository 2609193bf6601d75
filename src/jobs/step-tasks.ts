/**
 * The tasks the state machine (statemachines/submit-job.asl.json) runs, one method each, and the ends of its
 * waits. Every task reloads the job and is safe to run again after a crash, a retry or a second concurrent run:
 * audit appends dedupe, job updates are conditional, a submission looks for a step it may already have added
 * before adding one, and a terminal state, once recorded, is never replaced. Tasks throw TransientError only for
 * what a retry can cure (the ASL's Retry, for as long as it lasts: a submission until the job's deadline, a poll
 * for ever); anything else goes to the Catch, which ends the job FAILED.
 *
 * After submission the execution waits for the step's end on a task token (WaitForStepEnd): `watch` stores it
 * on the job, and whoever records the job's end completes it (`release`): the EMR step-event handler, or the
 * reconciler (`followWaiting`) for an event that was lost, which also sends the wait's heartbeats meanwhile.
 * The token stays on the job until it is completed, so a retried or duplicated event, or the reconciler after a
 * crash between recording the end and completing the wait, completes it then; Step Functions lets a token
 * complete its task once, and answers TaskTimedOut to the others.
 */
import type { AuditDraft } from '../audit/chain';
import type { AuditSealer } from '../audit/ports';
import { EmrRejectedError, IntegrityError, NotFoundError } from '../errors';
import { admissionRefusal, type AdmissionConfig } from './admission';
import { JOB_ID_IN_STEP_NAME, stepMarker, stepNameFor } from './step-name';
import { endedBy, recordEvent, TERMINAL_EVENT, type JobChange, type RecordOptions } from './journal';
import { retriesAfter, retryIntervalSeconds } from './retry';
import { attemptOf, betweenAttempts, isEmrStepState, stepSecondsOf, isEmrTerminal, isTerminal, laterEmrStates, terminalStatusFor, type AttemptRecord, type CancelMode, type EmrStepState, type FailureDetails, type Job, type JobStatus, type StateChangeReason, type TerminalStatus } from './model';
import type { AuditLog, EmrStepStatus, EmrSteps, JobRepository, WorkflowCallbacks } from './ports';
import { DEFAULT_POLLING, isTaskTokenShaped, POLLING_LIMITS, MAX_WAIT_SECONDS, type TaskResult, type WorkflowInput } from './workflow-input';

export type { TaskResult } from './workflow-input';
export interface PollInput extends WorkflowInput {
  /** The previous result; absent when it was not a task result (a wait's answer that `Finished?` refused). */
  poll?: Pick<TaskResult, 'waitSeconds'> & Partial<TaskResult>;
}
/** WaitForStepEnd's Lambda: the wait's task token, with the state machine's input. */
export interface WatchInput extends PollInput {
  taskToken: string;
}
/** What the reconciler did for a job whose execution waits for its step's end. */
export type WaitOutcome = 'completed' | 'heartbeat' | 'stale' | 'none';
export interface FailInput extends WorkflowInput {
  error?: { Error?: string | null; Cause?: string | null };
}

export const SYSTEM_ACTOR = { principalArn: 'emr-step-gateway', callerArn: 'emr-step-gateway' };

export interface StepTasksDeps {
  jobs: JobRepository;
  audit: AuditLog;
  emr: EmrSteps;
  /** The executions' waits for the step's end: completed when the job ends, heartbeats while it runs. */
  callbacks: WorkflowCallbacks;
  /** Checks the seal of the decision a submission rests on. */
  sealer: AuditSealer;
  /** The runtime-role catalogue and the clusters: no step is added outside them, whatever a job record says. */
  config: AdmissionConfig;
  now?: () => Date;
  /** Told of the job each task works on (the Lambda handlers put its ids into the log keys). */
  observe?: (job: Job) => void;
}

/** The state machine's tasks: submit (SubmitStep), watch (WaitForStepEnd), poll (PollStep), fail (RecordFailure), and step events. */
export class StepTasks {
  private readonly jobs: JobRepository;
  private readonly audit: AuditLog;
  private readonly emr: EmrSteps;
  private readonly now: () => Date;
  private readonly observe: (job: Job) => void;

  constructor(private readonly deps: StepTasksDeps) {
    ({ jobs: this.jobs, audit: this.audit, emr: this.emr } = deps);
    this.now = deps.now ?? (() => new Date());
    this.observe = deps.observe ?? (() => undefined);
  }

  /**
   * Adds the EMR step (once), records SUBMITTED with its id. First, whatever the job record says, the job must
   * be what a decision allowed (admission.ts); if not, it ends REJECTED with the reason, before any EMR call.
   */
  async submit(input: WorkflowInput): Promise<TaskResult> {
    let job = await this.load(input.jobId);
    if (isTerminal(job.status) || job.stepId) return this.result(job, input, this.firstWait(input, job));
    const trail = await this.audit.list(job.jobId);
    // A trail that records the job's end: the record was set back (a replay); finish() restores the recorded outcome.
    const ended = trail.find((e) => e.dedupeKey === TERMINAL_EVENT);
    const refusal = ended ? `the job already ended (${ended.type}, event ${ended.seq})` : await admissionRefusal(job, trail, this.deps.config, this.deps.sealer);
    if (refusal) {
      const detail = { by: 'gateway', reason: refusal };
      return this.result(await this.finish(job, 'REJECTED', { type: 'REJECTED', detail }, { reason: 'GATEWAY_REFUSED', message: refusal }), input);
    }

    // An earlier call may have added the step and died before recording it.
    let stepId = job.submitAttempts > 0 ? await this.findSubmittedStep(job) : undefined;
    if (!stepId && job.cancelRequested) {
      return this.result(await this.finish(job, 'CANCELLED', { type: 'CANCELLED', detail: { before: this.nextAttemptName(job) } }), input);
    }
    // Transient failures are retried until they stop (the ASL's Retry has no practical limit), but not past the
    // job's deadline: with no step on EMR by then, there is nothing to time out but the submission itself.
    const deadline = this.deadline(job);
    if (!stepId && deadline !== undefined && this.now().getTime() >= deadline) {
      const { timeoutSeconds } = job.request;
      const failureDetails = { reason: 'DEADLINE', message: `the deadline (${timeoutSeconds} s) passed before EMR accepted the step` };
      return this.result(await this.finish(job, 'TIMED_OUT', { type: 'TIMED_OUT', detail: { by: 'gateway', before: this.nextAttemptName(job), timeoutSeconds } }, failureDetails), input);
    }
    if (!stepId && betweenAttempts(job)) {
      // Not due yet (a new execution follows the job, or a wait's answer came early): the execution waits again.
      if (this.now().getTime() < Date.parse(job.nextAttemptAt!)) return this.result(job, input);
      job = await this.startAttempt(job);
      if (isTerminal(job.status) || job.stepId) return this.result(job, input, this.firstWait(input, job));
    }
    let sourceIdentity: string | undefined;
    if (!stepId) {
      job = await this.jobs.transition(job.jobId, (j) => (j.stepId || isTerminal(j.status) || betweenAttempts(j) ? undefined : { submitAttempts: j.submitAttempts + 1 }), job);
      if (job.stepId || isTerminal(job.status)) return this.result(job, input, this.firstWait(input, job));
      try {
        ({ stepId, sourceIdentity } = await this.emr.add(job, stepNameFor(job)));
      } catch (error) {
        if (!(error instanceof EmrRejectedError)) throw error;
        // EMR refuses: e.g. a runtime role on a cluster without runtime roles, or none where one is required.
        const detail = { by: error.by, error: error.emrError, message: error.message };
        return this.result(await this.finish(job, 'REJECTED', { type: 'REJECTED', detail }, { reason: 'EMR_REJECTED', message: error.message }), input);
      }
    }
    const submittedAt = this.now().toISOString();
    const attempt = attemptOf(job);
    // The trail read above is extended as it is, unless this task has appended to it since (an attempt started).
    const chain = trail.at(-1)?.seq === job.auditSeq ? trail : undefined;
    job = await this.progress(job, { type: 'SUBMITTED', dedupeKey: attemptKey('SUBMITTED', attempt), emr: { stepId, ...this.attemptField(job), ...(sourceIdentity ? { sourceIdentity } : {}) } }, (j, event) =>
      // A retry's job is PENDING since the previous attempt ended: it does not go back to SUBMITTED. The job follows the
      // step the trail's SUBMITTED names: another run of this task (a Lambda retry while this one ran) may have added
      // its own step and written that event first, found here by its dedupe key.
      j.stepId || isTerminal(j.status) || attemptOf(j) !== attempt || typeof event.emr?.stepId !== 'string' ? undefined : { status: attempt > 1 ? j.status : 'SUBMITTED', stepId: event.emr.stepId, submittedAt },
    [], chain);
    if (job.stepId !== stepId) {
      // The job ended meanwhile (e.g. failed by a concurrent run), or follows another run's step: a step nobody follows
      // must not keep running. The trail says so after the end or the SUBMITTED, where it happened.
      const stopped = await this.cancelQuietly(job, stepId, 'TERMINATE_PROCESS');
      const reason = !isTerminal(job.status) && job.stepId !== undefined
        ? `another run of the submit task added the job's step first (${job.stepId}): nobody follows this one`
        : 'the job ended while its step was being added: nobody follows the step';
      job = await this.record(job, { type: 'STEP_STOPPED', dedupeKey: `STEP_STOPPED:${stepId}`, emr: { stepId, stopped }, detail: { reason } }, () => undefined);
    }
    return this.result(job, input, this.firstWait(input, job));
  }

  /** One poll: DescribeStep, record a change of EMR state once, enforce the deadline and pending cancels. */
  async poll(input: PollInput): Promise<TaskResult> {
    let job = await this.load(input.jobId);
    if (isTerminal(job.status) || !job.stepId) return this.result(job, input, input.poll?.waitSeconds);
    job = await this.advance(job);
    return isTerminal(job.status) ? this.result(job, input) : this.result(job, input, this.nextWait(input, job));
  }

  /**
   * The start of a wait for the step's end: the step is looked at once (an end that came while nobody waited, its
   * event lost or the stack stopped, is found now; a cancel not yet sent is sent), then the task token is stored on
   * the job for whoever records the end to complete it. A job that has ended (its event came first) completes the
   * wait at once.
   */
  async watch(input: WatchInput): Promise<TaskResult> {
    let job = await this.load(input.jobId);
    // Nothing would ever end such a wait: the submit task records a step or an end before any wait.
    if (!isTerminal(job.status) && !job.stepId && !betweenAttempts(job)) throw new IntegrityError(`job ${job.jobId} is ${job.status} with no EMR step to wait for`);
    if (!settled(job)) job = await this.advance(job);
    const at = this.now().toISOString();
    const waiting = settled(job) ? job : await this.jobs.transition(job.jobId, (j) => (settled(j) ? undefined : { waitToken: { token: input.taskToken, at } }), job);
    // Ended, or the attempt ended with another to come: the execution goes on at once.
    if (settled(waiting)) await this.deps.callbacks.complete(input.taskToken, this.result(waiting, input));
    return this.result(waiting, input);
  }

  /**
   * Completes the wait of a job that has ended: its execution goes on to its end now. The token leaves the job
   * once Step Functions has taken it (or no longer knows it), not before, so a crash in between is completed by
   * the next one to come (a retried event, the reconciler).
   */
  async release(job: Job): Promise<Job> {
    const wait = job.waitToken;
    if (!wait || !settled(job)) return job;
    // No wait's token (planted on the record): Step Functions would refuse it on every try; it is dropped.
    if (!isTaskTokenShaped(wait.token)) return this.forget(job, wait.token);
    await this.deps.callbacks.complete(wait.token, isTerminal(job.status) ? endResult(job) : this.retryResult(job));
    return this.forget(job, wait.token);
  }

  /**
   * The reconciler's look at a job whose execution waits for the step's end: the step as EMR has it now (the
   * fallback for a lost event: an end is recorded and the wait completed), else a heartbeat, so that the wait
   * goes on without waking the execution. A token Step Functions no longer knows is dropped (`stale`).
   */
  async followWaiting(jobId: string): Promise<WaitOutcome> {
    let job = await this.jobs.get(jobId);
    if (!job?.waitToken) return 'none';
    if (settled(job)) return (await this.release(job), 'completed');
    // The heartbeat first: a look at EMR that fails (throttling) must not cost the wait its heartbeat.
    const token = job.waitToken.token;
    if (!isTaskTokenShaped(token) || (await this.deps.callbacks.heartbeat(token)) === 'gone') return (await this.forget(job, token), 'stale');
    if (job.stepId) job = await this.advance(job);
    return settled(job) ? (await this.release(job), 'completed') : 'heartbeat';
  }

  /** The token off the job, if it is still that one (a newer wait may have stored its own). */
  private forget(job: Job, token: string): Promise<Job> {
    return this.jobs.transition(job.jobId, (j) => (j.waitToken?.token === token ? { waitToken: undefined } : undefined), job);
  }

  /** The step as EMR has it now, recorded; then the deadline (a TIMEOUT and a cancel) and a cancel not yet sent. */
  private async advance(seen: Job): Promise<Job> {
    let job = await this.refresh(seen);
    if (isTerminal(job.status)) return job;
    const deadline = this.deadline(job);
    if (deadline !== undefined && this.now().getTime() >= deadline && !job.timedOut) {
      // The cancel is recorded as pending before it is sent, so a failed send is sent again by the next poll.
      const at = this.now().toISOString();
      job = await this.progress(job, { type: 'TIMEOUT', dedupeKey: 'TIMEOUT', detail: { timeoutSeconds: job.request.timeoutSeconds } }, (j) =>
        j.timedOut || isTerminal(j.status) ? undefined : { timedOut: true, cancelRequested: { by: SYSTEM_ACTOR.callerArn, mode: 'TERMINATE_PROCESS', at } },
      );
      // The step ended before the deadline was recorded: no TIMEOUT, nothing to cancel.
      if (isTerminal(job.status)) return job;
    }
    if (job.cancelRequested && !job.cancelRequested.sent) job = await this.sendCancel(job, job.cancelRequested.mode);
    return job;
  }

  /**
   * An EMR "Step Status Change" event (EventBridge): recorded as it happens, through the same code as a poll,
   * so a change is recorded once whichever sees it first. Events are matched to jobs by the job marker in the
   * step name and must name the step the job recorded; others are ignored. Terminal states are read back
   * with DescribeStep for their details.
   */
  async observeStepEvent(detail: { stepId?: string; clusterId?: string; name?: string; state?: string }): Promise<JobStatus | undefined> {
    const jobId = JOB_ID_IN_STEP_NAME.exec(detail.name ?? '')?.[1];
    if (!jobId) return undefined;
    const job = await this.jobs.get(jobId);
    // The end of the previous attempt again (a retried event, after a crash before its wait was completed).
    if (job && betweenAttempts(job) && job.clusterId === detail.clusterId && job.attempts?.at(-1)?.stepId === detail.stepId) return (await this.release(job)).status;
    // Only a step the submit task has recorded: an event cannot attach a step to a job (a step added
    // directly with the same name marker, under another role, must not pass for the job's).
    if (!job || job.clusterId !== detail.clusterId || !job.stepId || job.stepId !== detail.stepId) return job?.status;
    // Ended already: a duplicate, a late event, or this event again after a crash before its wait was completed.
    if (isTerminal(job.status)) return (await this.release(job)).status;
    const state = detail.state;
    if (!isEmrStepState(state)) return job.status; // not a state EMR has: nothing to record
    this.observe(job);
    if (!isEmrTerminal(state)) return (await this.recordState(job, state)).status;
    return (await this.release(await this.refresh(job))).status;
  }

  /** DescribeStep, then the state it shows recorded (once). */
  private async refresh(job: Job): Promise<Job> {
    const stepId = job.stepId!;
    const step = await this.emr.describe(job.clusterId, stepId);
    const state = step.state;
    if (!isEmrTerminal(state)) return this.recordState(job, state);
    const status = terminalStatusFor(state, job.timedOut === true);
    const details = failureDetailsOf(step);
    // Kept for every ending: a step EMR cancelled because another tenant's step failed says so only here.
    const reason = stateChangeReasonOf(step);
    const retry = this.retryPlan(job, state);
    // How long the step ran, by EMR's timeline: the job's step-seconds (GET /usage), every attempt's summed.
    const seconds = stepSecondsOf(step.timeline);
    const ran = seconds !== undefined ? { stepSeconds: seconds } : {};
    if (retry && 'at' in retry) return this.endAttempt(job, { attempt: attemptOf(job), stepId, state, ...(job.submittedAt ? { submittedAt: job.submittedAt } : {}), endedAt: this.now().toISOString(), ...(details ? { failureDetails: details } : {}), ...(reason ? { stateChangeReason: reason } : {}), ...ran }, retry.at);
    const notRetried = retry ? { detail: { retry: { notRetried: retry.refused } } } : {};
    const timeline = step.timeline ? { timeline: step.timeline } : {};
    return this.finish(job, status, { type: status, emr: { stepId, state, ...this.attemptField(job), ...(details ? { failureDetails: details } : {}), ...(reason ? { stateChangeReason: reason } : {}), ...timeline }, ...notRetried }, details);
  }

  /**
   * Whether an attempt that ended in `state` is followed by another: when (`at`), or why not (`refused`) although
   * the policy alone would retry it; undefined when the policy does not (no policy, no attempt left, a state it
   * does not retry). Never with a cancel requested, after the deadline's cancel, or for a start at or past the deadline.
   */
  private retryPlan(job: Job, state: EmrStepState): { at: Date } | { refused: string } | undefined {
    const policy = job.request.retry;
    const attempt = attemptOf(job);
    if (!policy || !retriesAfter(policy, attempt, state)) return undefined;
    if (job.cancelRequested) return { refused: 'a cancel was requested' };
    if (job.timedOut) return { refused: 'the deadline passed' };
    const at = this.now().getTime() + retryIntervalSeconds(policy, attempt) * 1000;
    const deadline = this.deadline(job);
    if (deadline !== undefined && at >= deadline) return { refused: `attempt ${attempt + 1} would start after the job's deadline (${job.request.timeoutSeconds} s)` };
    return { at: new Date(at) };
  }

  /**
   * The end of an attempt that another follows: recorded (ATTEMPT_ENDED, once per attempt, before the job's end), and
   * the job is between attempts: PENDING, no step, the next due at `at`. A crash before the job's update is repaired
   * by the next look at the step, which finds the event and takes its time, not a new one.
   */
  private endAttempt(job: Job, ended: AttemptRecord, at: Date): Promise<Job> {
    const { attempt, stepId, state, failureDetails, stateChangeReason, stepSeconds } = ended;
    const intervalSeconds = retryIntervalSeconds(job.request.retry!, attempt);
    const draft: AuditDraft = {
      type: 'ATTEMPT_ENDED',
      dedupeKey: attemptKey('ATTEMPT_ENDED', attempt, true),
      emr: { stepId, attempt, state, ...(failureDetails ? { failureDetails } : {}), ...(stateChangeReason ? { stateChangeReason } : {}), ...(stepSeconds !== undefined ? { stepSeconds } : {}) },
      detail: { nextAttempt: attempt + 1, nextAttemptAt: at.toISOString(), intervalSeconds, maxAttempts: job.request.retry!.maxAttempts },
    };
    return this.progress(job, draft, (j, event) => {
      if (j.stepId !== stepId || isTerminal(j.status)) return undefined;
      const nextAttemptAt = typeof event.detail?.nextAttemptAt === 'string' ? event.detail.nextAttemptAt : at.toISOString();
      return { status: 'PENDING', stepId: undefined, emrState: undefined, submittedAt: undefined, submitAttempts: 0, attempts: [...(j.attempts ?? []), { ...ended, endedAt: event.at }], nextAttemptAt };
    });
  }

  /**
   * The next attempt, once due: recorded (ATTEMPT_STARTED, once per attempt, before the job's end) before its step is
   * added, which then goes as the first attempt's does (a crash after the record adds the step once, found by the
   * attempt's own marker). A cancel between attempts that came first has ended the job: nothing is started.
   */
  private startAttempt(job: Job): Promise<Job> {
    const next = attemptOf(job) + 1;
    const previous = job.attempts?.at(-1);
    const draft: AuditDraft = {
      type: 'ATTEMPT_STARTED',
      dedupeKey: attemptKey('ATTEMPT_STARTED', next, true),
      detail: { attempt: next, maxAttempts: job.request.retry?.maxAttempts, ...(previous ? { after: { stepId: previous.stepId, state: previous.state } } : {}) },
    };
    return this.progress(job, draft, (j) => (betweenAttempts(j) && attemptOf(j) === next - 1 ? { attempt: next, nextAttemptAt: undefined, submitAttempts: 0 } : undefined));
  }

  /**
   * A cancel between attempts: no step runs, so the job ends CANCELLED now. Unless the next attempt has started (its
   * ATTEMPT_STARTED is in the trail): then nothing is written here, and the cancel goes as for any attempt.
   */
  async cancelBetweenAttempts(job: Job): Promise<Job> {
    if (!betweenAttempts(job)) return job;
    const next = attemptOf(job) + 1;
    const draft: AuditDraft = { type: 'CANCELLED', dedupeKey: TERMINAL_EVENT, actor: SYSTEM_ACTOR, subject: subjectOf(job), detail: { before: `attempt ${next}` } };
    return (await recordEvent(this.jobs, this.audit, job.jobId, draft, endedBy, { onlyBefore: [attemptKey('ATTEMPT_STARTED', next, true)], known: job })).job;
  }

  /**
   * A non-terminal EMR state, recorded once per job and state, and only while the trail holds neither the job's
   * end nor a later state (steps never go back): a state read before another writer recorded a later one is stale.
   */
  private async recordState(job: Job, state: EmrStepState): Promise<Job> {
    const later = laterEmrStates(state);
    if (state === job.emrState || (job.emrState && later.includes(job.emrState))) return job;
    const attempt = attemptOf(job);
    const stateKey = (s: EmrStepState) => attemptKey(`STATE:${s}`, attempt);
    return this.progress(job, { type: 'STATE_CHANGED', dedupeKey: stateKey(state), emr: { stepId: job.stepId, state, ...this.attemptField(job) } }, (j) =>
      isTerminal(j.status) || j.stepId !== job.stepId || j.emrState === state || (j.emrState && later.includes(j.emrState)) ? undefined : { status: state, emrState: state },
      // Nor after the attempt's end (a state read before another writer recorded it).
      [...later.map(stateKey), attemptKey('ATTEMPT_ENDED', attempt, true)],
    );
  }

  /** The Catch of every task: the job ends FAILED with the error and a final audit event; a live step is stopped. */
  async fail(input: FailInput): Promise<TaskResult> {
    const job = await this.load(input.jobId);
    if (isTerminal(job.status)) return this.result(job, input);
    const message = `${input.error?.Error ?? 'Error'}: ${String(input.error?.Cause ?? '').slice(0, 1000)}`;
    const stepStopped = job.stepId ? await this.cancelQuietly(job, job.stepId, 'TERMINATE_PROCESS') : undefined;
    const detail = { by: 'gateway', error: message, ...(stepStopped !== undefined ? { stepStopped } : {}) };
    return this.result(await this.finish(job, 'FAILED', { type: 'FAILED', detail }, { reason: 'GATEWAY_ERROR', message }), input);
  }

  /** Asks EMR to cancel the job's step now, and marks the request sent. */
  async sendCancel(job: Job, mode: CancelMode): Promise<Job> {
    if (!job.stepId) return job;
    const stepId = job.stepId;
    const answer = await this.emr.cancel(job.clusterId, stepId, mode);
    if (answer.status === 'FAILED') {
      job = await this.record(job, { type: 'CANCEL_FAILED', dedupeKey: `CANCEL_FAILED:${mode}`, emr: { stepId, reason: answer.reason } }, () => undefined);
    }
    return this.jobs.transition(job.jobId, (j) => (j.cancelRequested && !j.cancelRequested.sent ? { cancelRequested: { ...j.cancelRequested, sent: true } } : undefined), job);
  }

  /** Best effort, for steps the gateway is about to stop following: true if EMR accepted the cancel. */
  private async cancelQuietly(job: Job, stepId: string, mode: CancelMode): Promise<boolean> {
    try {
      return (await this.emr.cancel(job.clusterId, stepId, mode)).status === 'SUBMITTED';
    } catch {
      return false;
    }
  }

  /**
   * Appends the terminal event (one per job: dedupe key TERMINAL) and marks the job terminal. If another run
   * got there first with another outcome, the job takes the outcome of the event that is in the trail.
   */
  private async finish(job: Job, status: TerminalStatus, draft: Omit<AuditDraft, 'dedupeKey'> & { type: TerminalStatus }, failureDetails?: FailureDetails): Promise<Job> {
    if (isTerminal(job.status)) return job;
    const detail = { ...draft.detail, ...(failureDetails ? { failureDetails } : {}) };
    return this.record(job, { ...draft, type: status, ...(Object.keys(detail).length ? { detail } : {}), dedupeKey: TERMINAL_EVENT }, endedBy);
  }

  /** An event that belongs anywhere in the trail, after the end too (a refused cancel, a step stopped after the end). */
  private async record(job: Job, draft: AuditDraft, change: JobChange): Promise<Job> {
    return (await recordEvent(this.jobs, this.audit, job.jobId, { actor: SYSTEM_ACTOR, subject: subjectOf(job), ...draft }, change, { known: job })).job;
  }

  /**
   * An event of the job's progress: appended only before its end (and before the events `before`), checked by the
   * append's own conditional write. After the end nothing is appended and the job takes the end its trail records.
   */
  private async progress(job: Job, draft: AuditDraft, change: JobChange, before: readonly string[] = [], chain?: RecordOptions['chain']): Promise<Job> {
    const options = { onlyBefore: [...before, TERMINAL_EVENT], known: job, ...(chain ? { chain } : {}) };
    return (await recordEvent(this.jobs, this.audit, job.jobId, { actor: SYSTEM_ACTOR, subject: subjectOf(job), ...draft }, change, options)).job;
  }

  /** The step a previous attempt added for this job, found by the job marker in its name. */
  private findSubmittedStep(job: Job): Promise<string | undefined> {
    // A minute's grace: EMR's clock and ours may differ a little.
    return this.emr.find(job.clusterId, stepMarker(job.jobId, attemptOf(job)), new Date(Date.parse(job.createdAt) - 60_000));
  }

  private async load(jobId: string): Promise<Job> {
    const job = await this.jobs.get(jobId);
    if (!job) throw new NotFoundError(`job ${jobId} does not exist`);
    this.observe(job);
    return job;
  }

  private deadline(job: Job): number | undefined {
    const seconds = job.request.timeoutSeconds;
    return seconds === undefined ? undefined : Date.parse(job.createdAt) + seconds * 1000;
  }

  /** Never wait past the deadline, so a timeout is noticed on time. */
  private untilDeadline(job: Job, wait: number): number {
    const deadline = this.deadline(job);
    if (deadline === undefined || job.timedOut) return wait;
    return Math.max(1, Math.min(wait, Math.ceil((deadline - this.now().getTime()) / 1000)));
  }

  private firstWait(input: WorkflowInput, job: Job): number {
    return this.untilDeadline(job, Math.min(input.polling.initialSeconds, input.polling.maxSeconds));
  }

  /** Capped exponential backoff. */
  private nextWait(input: PollInput, job: Job): number {
    const { factor, maxSeconds } = input.polling;
    return this.untilDeadline(job, Math.min(maxSeconds, Math.ceil((input.poll?.waitSeconds ?? input.polling.initialSeconds) * factor)));
  }

  private result(job: Job, input: WorkflowInput, waitSeconds = input.polling.initialSeconds): TaskResult {
    this.observe(job);
    // The States Language: a Task's HeartbeatSeconds MUST be smaller than its TimeoutSeconds. So a wait shortened by
    // the deadline has a heartbeat under it, and one with under 2 s left waits 2 s (the deadline is enforced 1 s later).
    const timeoutSeconds = Math.max(2, this.untilDeadline(job, MAX_WAIT_SECONDS));
    // A cluster of another account: EMR puts its step events on that account's bus, and nothing need forward them
    // here, so its wait ends (a heartbeat timeout) at the polling's longest interval, and PollStep looks at the step.
    const eventless = this.deps.config.clusters.some((c) => c.id === job.clusterId && c.accessRole);
    const cap = eventless ? Math.max(POLLING_LIMITS.minHeartbeatSeconds, input.polling.maxSeconds) : Infinity;
    const heartbeatSeconds = Math.min(input.polling.heartbeatSeconds ?? DEFAULT_POLLING.heartbeatSeconds, cap, timeoutSeconds - 1);
    return { jobId: job.jobId, done: isTerminal(job.status), status: job.status, waitSeconds, timeoutSeconds, heartbeatSeconds, ...this.retryIn(job) };
  }

  /** A completed wait's result for a job between attempts: the execution pauses (WaitToRetry), then SubmitStep. */
  private retryResult(job: Job): TaskResult {
    return { ...endResult(job), done: false, ...this.retryIn(job) };
  }

  /** Between attempts: the seconds until the next is due (`Finished?` sends the execution to WaitToRetry for them). */
  private retryIn(job: Job): { retryInSeconds?: number } {
    if (!betweenAttempts(job)) return {};
    return { retryInSeconds: Math.max(0, Math.ceil((Date.parse(job.nextAttemptAt!) - this.now().getTime()) / 1000)) };
  }

  /** The attempt's number on its events, for a job with a retry policy (a job without one records none, as before). */
  private attemptField(job: Job): { attempt?: number } {
    return job.request.retry ? { attempt: attemptOf(job) } : {};
  }

  /** What a cancel or the deadline comes before: the submission, or a retry's next attempt. */
  private nextAttemptName(job: Job): string {
    return betweenAttempts(job) ? `attempt ${attemptOf(job) + 1}` : attemptOf(job) > 1 ? `attempt ${attemptOf(job)}` : 'submission';
  }
}

/** Ended, or between attempts: either way, no step to wait for. */
const settled = (job: Job): boolean => isTerminal(job.status) || betweenAttempts(job);

/**
 * An event's dedupe key for the job's attempt: the first attempt's keys are those of jobs without retries
 * (SUBMITTED, STATE:RUNNING), unless `always` (the events that only retries have).
 */
function attemptKey(key: string, attempt: number, always = false): string {
  return attempt > 1 || always ? `${key}:${attempt}` : key;
}

/** A wait's result for a job that has ended: the execution ends. */
function endResult(job: Job): TaskResult {
  return { jobId: job.jobId, done: true, status: job.status, waitSeconds: 1, timeoutSeconds: 1, heartbeatSeconds: DEFAULT_POLLING.heartbeatSeconds };
}

/** Why a step ended as it did: EMR's FailureDetails, or for FAILED/INTERRUPTED its StateChangeReason. */
function failureDetailsOf(step: EmrStepStatus): FailureDetails | undefined {
  if (step.failureDetails) return step.failureDetails;
  const reason = step.stateChangeReason;
  return (step.state === 'FAILED' || step.state === 'INTERRUPTED') && reason ? { reason: reason.code, message: reason.message } : undefined;
}

/** EMR's StateChangeReason with only the parts it gave (EMR currently gives no code). */
function stateChangeReasonOf(step: EmrStepStatus): StateChangeReason | undefined {
  const { code, message } = step.stateChangeReason ?? {};
  return code || message ? { ...(code ? { code } : {}), ...(message ? { message } : {}) } : undefined;
}

export function subjectOf(job: Pick<Job, 'clusterId' | 'executionRoleArn' | 'stepType' | 'argsHash'>): Record<string, unknown> {
  return { clusterId: job.clusterId, executionRoleArn: job.executionRoleArn, stepType: job.stepType, argsHash: job.argsHash };
}
