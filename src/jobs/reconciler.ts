/**
 * No job is left behind. The reconciler finds the jobs that are not terminal while no execution follows them, and
 * repairs each through the workflow's own code, audited (a RECONCILED event, then what the repair does):
 *
 * | the job's execution (DescribeExecution)                  | repair                                                     |
 * | -------------------------------------------------------- | ---------------------------------------------------------- |
 * | RUNNING (or PENDING_REDRIVE)                             | none: it is followed                                       |
 * | none: never started (ACCEPTED), or vanished              | `started`: StartExecution under the job's execution name   |
 * | SUCCEEDED or ABORTED, or FAILED with Gateway.NoSuchJob   | `refollowed`: a new execution (`JOBID-2`, ...) follows the  |
 * |   (it ended early, was stopped, or ran before the job    |   job (its tasks are safe to run again: a step already     |
 * |   existed)                                               |   added is found and followed, never added twice)           |
 * | FAILED otherwise, or TIMED_OUT (the workflow gave up,    | `ended`: the job ends FAILED (GATEWAY_ERROR) with the       |
 * |   e.g. RecordFailure exhausted its retries)              |   execution's error, a live step stopped (StepTasks.fail)  |
 *
 * A job whose execution is RUNNING and waits for the step's end (WaitForStepEnd, a task token on the job) is the
 * fallback for EMR's events: the step is looked at as EMR has it now, an end is recorded and the wait completed
 * (an event that was lost), else the wait gets a heartbeat and goes on, costing the execution no transition.
 * A job that has ended but still holds a token (a crash between recording the end and completing the wait) has
 * the wait completed.
 *
 * Unfinished jobs come from the jobs table itself (JobRepository.unfinished, a Scan), never from an index, which
 * may lag or be torn: a job that stays unfinished is found. Each is read again (consistently) after its execution
 * is described, so a job that ended meanwhile is left alone; a job changed less than `idleSeconds` ago is its
 * current writer's (a submission between its record and its StartExecution, say) and waits for the next run. The
 * RECONCILED event is a progress event: it is never appended after the job's end (journal.ts).
 */
import { eachLimited } from '../util/concurrency';
import type { ClusterQueues, SweepReport } from './cluster-queues';
import { recordEvent, TERMINAL_EVENT } from './journal';
import { executionName, isTerminal, nextExecutionName, type Job } from './model';
import type { AuditLog, ExecutionStatus, JobRepository, WorkflowExecutions, WorkflowStarter } from './ports';
import { subjectOf, type StepTasks, type WaitOutcome } from './step-tasks';
import type { PollingPolicy } from './workflow-input';

/** Who repairs, in the audit trail. */
export const RECONCILER_ACTOR = { principalArn: 'emr-step-gateway', callerArn: 'emr-step-gateway:reconciler' };
/** By default a job must have been left alone for 5 minutes: anything younger is still its writer's. */
export const DEFAULT_IDLE_SECONDS = 300;

/**
 * Jobs of a page repaired at once: one at a time, a restart of the local stack with hundreds of unfinished jobs
 * (each a DescribeExecution, a read, an audited write, a StartExecution, retried under throttling) took tens of
 * seconds before it answered; far below the services' request quotas.
 */
export const RECONCILE_CONCURRENCY = 16;

export type RepairAction = 'started' | 'refollowed' | 'ended';

export interface Repair {
  jobId: string;
  action: RepairAction;
  /** The execution the job named, as found. */
  execution: string;
  /** Its status then: NONE when Step Functions had no such execution. */
  found: ExecutionStatus['status'] | 'NONE';
  /** For `refollowed`: the new execution. */
  next?: string;
}

export interface ReconcileRun {
  /** Jobs found unfinished in the table. */
  unfinished: number;
  /** Of those, jobs a running execution follows. */
  followed: number;
  /** Waits for a step's end looked at: completed (the end was found, or had been recorded), heartbeats sent, stale tokens dropped. */
  waits: Record<Exclude<WaitOutcome, 'none'>, number>;
  repaired: Repair[];
  /** Of the unfinished, jobs waiting QUEUED for a slot: no execution follows them until they are admitted (cluster-queues.ts). */
  queued: number;
  /** What the admission sweep did, per cluster (absent without admission). */
  admission?: SweepReport[];
  /** Jobs this run could not look at or repair (the next run tries again), with the error. */
  errors: { jobId: string; error: string }[];
}

export interface ReconcilerDeps {
  jobs: JobRepository;
  audit: AuditLog;
  executions: WorkflowExecutions;
  workflow: WorkflowStarter;
  /** The workflow's Catch, to end a job the workflow gave up on. */
  tasks: Pick<StepTasks, 'fail' | 'followWaiting' | 'release'>;
  /** Admission: swept first in each run (places of ended jobs taken back, admitted jobs launched, free slots filled). */
  queues?: Pick<ClusterQueues, 'sweep'>;
  /** The executions' input, as JobService starts them (the same input keeps StartExecution idempotent by name). */
  polling: PollingPolicy;
  now?: () => Date;
}

/** One job's outcome: followed by its execution (and what was done for its wait), its wait completed, or a repair. */
type Outcome = Repair | { followed: true; wait: WaitOutcome } | { released: true };

export class Reconciler {
  private readonly now: () => Date;

  constructor(private readonly deps: ReconcilerDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  /**
   * One pass over every unfinished job. A job whose repair fails is reported, and the pass goes on. Once `signal`
   * aborts (a stop), no further job is looked at; the repairs in progress finish (each is safe to cut short anyway).
   */
  async run(options: { idleSeconds?: number; signal?: AbortSignal } = {}): Promise<ReconcileRun> {
    const idleMs = (options.idleSeconds ?? DEFAULT_IDLE_SECONDS) * 1000;
    const runId = this.now().toISOString();
    const report: ReconcileRun = { unfinished: 0, followed: 0, waits: { completed: 0, heartbeat: 0, stale: 0 }, repaired: [], queued: 0, errors: [] };
    if (this.deps.queues) {
      try {
        report.admission = await this.deps.queues.sweep();
      } catch (error) {
        report.errors.push({ jobId: '-', error: `admission sweep: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`.slice(0, 500) });
      }
    }
    let cursor: string | undefined;
    do {
      const page = await this.deps.jobs.unfinished(cursor);
      const outcomes: (Outcome | { error: string } | undefined)[] = [];
      await eachLimited(page.jobs, RECONCILE_CONCURRENCY, async (job, i) => {
        if (options.signal?.aborted) return;
        try {
          outcomes[i] = await this.reconcile(job, idleMs, runId);
        } catch (error) {
          outcomes[i] = { error: error instanceof Error ? `${error.name}: ${error.message}`.slice(0, 500) : String(error) };
        }
      });
      // Reported in the page's order, whichever finished first.
      page.jobs.forEach((job, i) => {
        const outcome = outcomes[i];
        if (!isTerminal(job.status)) report.unfinished++;
        if (job.status === 'QUEUED') report.queued++;
        if (outcome && 'followed' in outcome) {
          report.followed++;
          if (outcome.wait !== 'none') report.waits[outcome.wait]++;
        } else if (outcome && 'released' in outcome) report.waits.completed++;
        else if (outcome && 'error' in outcome) report.errors.push({ jobId: job.jobId, error: outcome.error });
        else if (outcome) report.repaired.push(outcome);
      });
      cursor = page.cursor;
    } while (cursor !== undefined && !options.signal?.aborted);
    return report;
  }

  private async reconcile(seen: Job, idleMs: number, runId: string): Promise<Outcome | undefined> {
    // Ended, with its wait never completed: completed now (or dropped, if Step Functions has moved on).
    if (isTerminal(seen.status)) return seen.waitToken ? (await this.deps.tasks.release(seen), { released: true }) : undefined;
    // Waiting for admission: no execution is to follow it yet (the admission sweep launches it once admitted).
    if (seen.status === 'QUEUED') return undefined;
    const name = executionName(seen);
    const execution = await this.deps.executions.describe(name);
    if (execution?.status === 'RUNNING' || execution?.status === 'PENDING_REDRIVE') return { followed: true, wait: await this.deps.tasks.followWaiting(seen.jobId) };
    // Read again after the execution: one that ended after finishing its job left the job terminal.
    const job = await this.deps.jobs.get(seen.jobId);
    if (!job || isTerminal(job.status) || executionName(job) !== name) return undefined;
    if (this.now().getTime() - Date.parse(job.updatedAt) < idleMs) return undefined;
    const found = execution?.status ?? 'NONE';
    const input = { jobId: job.jobId, polling: this.deps.polling };

    if (!execution) {
      const reason = job.status === 'ACCEPTED' && !job.stepId
        ? 'no execution follows the job: it was never started (or Step Functions no longer has it)'
        : 'no execution follows the job: Step Functions no longer has it';
      if (!(await this.record(job, `${name}:${runId}`, { action: 'started', execution: { name, status: found }, reason }))) return undefined;
      await this.deps.workflow.start(input, name);
      return { jobId: job.jobId, action: 'started', execution: name, found };
    }

    const gaveUp = (execution.status === 'FAILED' && execution.error !== 'Gateway.NoSuchJob') || execution.status === 'TIMED_OUT';
    const ended = { name, status: found, ...(execution.error ? { error: execution.error } : {}), ...(execution.cause ? { cause: execution.cause.slice(0, 1000) } : {}) };
    if (gaveUp) {
      const reason = 'the workflow ended without recording the job\'s end: the job ends as the workflow decided';
      if (!(await this.record(job, `${name}:ended`, { action: 'ended', execution: ended, reason }))) return undefined;
      const cause = `the workflow execution ${name} ended ${execution.status} (${execution.error ?? 'no error'}: ${execution.cause ?? ''}) without recording the job's end`;
      await this.deps.tasks.fail({ ...input, error: { Error: 'Gateway.ExecutionEnded', Cause: cause } });
      return { jobId: job.jobId, action: 'ended', execution: name, found };
    }

    const next = nextExecutionName(job.jobId, name);
    const reason = `the execution ended ${execution.status}${execution.error ? ` (${execution.error})` : ''} with the job unfinished: a new execution follows it`;
    const updated = await this.record(job, next, { action: 'refollowed', execution: ended, next, reason }, (j) => (executionName(j) === name ? { execution: next } : undefined));
    // Another run named another execution first: that one follows the job.
    if (!updated || executionName(updated) !== next) return undefined;
    await this.deps.workflow.start(input, next);
    return { jobId: job.jobId, action: 'refollowed', execution: name, found, next };
  }

  /** The RECONCILED event, before the job's end only; undefined (nothing done) if the job has ended meanwhile. */
  private async record(job: Job, key: string, detail: Record<string, unknown>, change?: (job: Job) => Partial<Job> | undefined): Promise<Job | undefined> {
    const { job: updated, recorded } = await recordEvent(
      this.deps.jobs,
      this.deps.audit,
      job.jobId,
      { type: 'RECONCILED', dedupeKey: `RECONCILED:${key}`, actor: { ...RECONCILER_ACTOR }, subject: subjectOf(job), detail },
      change,
      { onlyBefore: [TERMINAL_EVENT], known: job },
    );
    return recorded && !isTerminal(updated.status) ? updated : undefined;
  }
}
