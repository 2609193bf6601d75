/**
 * What the job domain needs from the outside world, as interfaces: the job table, the audit trail, EMR's
 * steps and the workflow engine. Adapters (src/adapters/) implement them over the AWS SDK and translate SDK
 * errors into domain errors (TransientError, EmrRejectedError, ...); tests implement them in memory.
 */
import type { ActiveEntry, AdmissionLimits, ClusterQueue, QueuedEntry } from './queue';
import type { AuditDraft, AuditEvent } from '../audit/chain';
import type { CancelMode, EmrStepState, FailureDetails, Job, StateChangeReason } from './model';
import type { TaskResult, WorkflowInput } from './workflow-input';

/** Fields an update may not touch: identity, the request and the creation time. */
export type JobChanges = Partial<Omit<Job, 'jobId' | 'version' | 'createdAt' | 'listKey' | 'request' | 'requestHash' | 'actor'>>;

/**
 * One page of a list index as the store reads it. `limit` counts the jobs read from the index, before the
 * status/cluster filters the index does not serve (DynamoDB's Limit before its FilterExpression), so a page may
 * hold fewer jobs, even none, and still have more after it.
 */
export interface ListQuery {
  principalArn?: string;
  status?: string;
  clusterId?: string;
  /** ISO timestamps bounding createdAt (inclusive). */
  from?: string;
  to?: string;
  limit: number;
  /**
   * Which jobs the caller may see, decided on what never changes once a job exists (its owner, cluster and runtime
   * role), so an index entry, however stale, always has it right: only entries it accepts are read through to
   * the table, and only those can be in the page. Absent: every entry.
   */
  visible?: (job: ListedJob) => boolean;
  /**
   * The store's raw position: a job's listKey (`${createdAt}#${jobId}`); the page starts strictly after it in
   * the index this query uses. Any listKey is a position, the job need not exist. It says which jobs come next,
   * so it never leaves the gateway as it is: JobService seals it into GET /jobs's nextToken (list-token.ts).
   */
  nextToken?: string;
}

/** What a list index holds of a job that never changes after its creation: enough to decide whether to read it. */
export type ListedJob = Pick<Job, 'jobId' | 'listKey' | 'principalArn' | 'clusterId' | 'executionRoleArn'>;

export interface JobPage {
  /** The jobs as the table holds them, each at its own position and matching every filter (an index may say otherwise). */
  jobs: Job[];
  /** The listKey of the last job read (returned or filtered out), when more may follow; absent at the end. */
  nextToken?: string;
}

/** A page of the jobs not in a terminal state, read from the table itself. */
export interface UnfinishedPage {
  jobs: Job[];
  /** Where the next page starts, when more may follow (a page may be empty and still have one). */
  cursor?: string;
}

/** What GET /usage counts of a job that has ended (the usage index's projection). */
export interface UsageEntry {
  jobId: string;
  status: string;
  principalArn: string;
  clusterId: string;
  executionRoleArn: string;
  finishedAt: string;
  stepSeconds?: number;
  tags?: Record<string, string>;
}

/** One page of the jobs that ended on `day` (UTC, YYYY-MM-DD) between `from` and `to` (ISO, inclusive). */
export interface UsageQuery {
  day: string;
  from: string;
  to: string;
  cursor?: string;
}

/** The job records. Every update is conditional on the version read (optimistic concurrency). */
export interface JobRepository {
  /** Creates the job; false (and nothing written) if a job with that id exists. */
  create(job: Job): Promise<boolean>;
  get(jobId: string): Promise<Job | undefined>;
  /**
   * Read-modify-write with retries: `change` sees the current job and returns the changes to make, or
   * undefined for none. Returns the job as it then is. JobConflictError if the job does not exist. `known`, the
   * job as the caller holds it, is tried first and saves the read while it is current (transition.ts).
   */
  transition(jobId: string, change: (job: Job) => JobChanges | undefined, known?: Job): Promise<Job>;
  /**
   * One page, newest first: by caller, cluster or status (at least one), the other filters applied on the way.
   * The jobs are read through to the table: an index entry whose job is gone, sits at another position or no
   * longer matches the filters is dropped, so a job appears once, at its own position, in the state it is in.
   * A nextToken that is not a listKey is a ValidationError on `nextToken`.
   */
  list(query: ListQuery): Promise<JobPage>;
  /**
   * Every job not in a terminal state, and every ended one that still holds a wait's task token (its wait not
   * completed yet), a page at a time from `cursor`, read from the table itself and not from an index, which may
   * lag or (locally, after a crash) be torn: a job that stays unfinished is never missed.
   */
  unfinished(cursor?: string): Promise<UnfinishedPage>;
  /** The jobs that ended on a day, from an index of ended jobs (no scan), a page at a time. */
  usage(query: UsageQuery): Promise<{ entries: UsageEntry[]; cursor?: string }>;
}

export interface AppendOptions {
  firstEvent?: boolean;
  /**
   * The chain as the caller has just read it: the first try extends it instead of reading it again. Safe when it is
   * stale: an event appended since holds the seq the write takes, so the write fails and the chain is read.
   */
  chain?: readonly Pick<AuditEvent, 'seq' | 'dedupeKey' | 'hash'>[];
  onlyBefore?: readonly string[];
}

/** Append-only chains of audit events, one per job (or per schedule/trigger). */
export interface AuditLog {
  /**
   * Appends after the chain's last event, unless an event with the same dedupe key is already in the chain:
   * then that event is returned and nothing is written. `firstEvent`: the chain is known to be new.
   * `onlyBefore`: dedupe keys of events this one must precede (e.g. the job's TERMINAL event): if the chain holds
   * one of them, nothing is written and the last of them is returned. The check is made on the very chain the
   * append's conditional write extends (it fails if any event was appended since), so no event written
   * concurrently can slip in before one of them unseen.
   */
  append(chainId: string, draft: AuditDraft, options?: AppendOptions): Promise<AuditEvent>;
  /** Every event of a chain, in order. */
  list(chainId: string): Promise<AuditEvent[]>;
}

/** A step as EMR describes it. */
export interface EmrStepStatus {
  state: EmrStepState;
  failureDetails?: FailureDetails;
  /** EMR's StateChangeReason (e.g. why a step was cancelled). */
  stateChangeReason?: StateChangeReason;
  /** EMR's step timeline: when the step started and ended running (ISO), where it did. */
  timeline?: { startedAt?: string; endedAt?: string };
}

/**
 * The EMR steps API, as the workflow uses it. Throws TransientError for what a retry can cure; `add` throws
 * EmrRejectedError when EMR refuses the step for good.
 */
export interface EmrSteps {
  /**
   * Adds the job's step under its runtime role, named `stepName` (one attempt: AddJobFlowSteps has no client
   * token), with the caller's source identity where the cluster propagates it.
   */
  add(job: Job, stepName: string): Promise<{ stepId: string; sourceIdentity?: string }>;
  /** The step on the job's cluster whose name ends with `marker`, created no earlier than `since`. */
  find(clusterId: string, marker: string, since: Date): Promise<string | undefined>;
  describe(clusterId: string, stepId: string): Promise<EmrStepStatus>;
  /** Asks EMR to cancel: EMR's CancelStepsInfo status (SUBMITTED: accepted; FAILED: refused, with its reason). */
  cancel(clusterId: string, stepId: string, mode: CancelMode): Promise<{ status?: 'SUBMITTED' | 'FAILED'; reason?: string }>;
}

/** Starts the state machine for a job; idempotent by name: a name already used counts as started. */
export interface WorkflowStarter {
  /** `name`: the execution's name, the job id unless the job names another (executionName in model.ts). */
  start(input: WorkflowInput, name?: string): Promise<void>;
}

/** A state machine execution as Step Functions describes it (DescribeExecution). */
export interface ExecutionStatus {
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED' | 'PENDING_REDRIVE';
  /** For FAILED, TIMED_OUT, ABORTED: the error and its cause, as the execution ended with them. */
  error?: string;
  cause?: string;
}

/** The workflow's executions, as the reconciler looks at them. */
export interface WorkflowExecutions {
  /**
   * The execution of that name, or undefined if Step Functions has none: never started, or gone (Step Functions
   * keeps a closed execution for 90 days; the local one keeps none across a restart).
   */
  describe(name: string): Promise<ExecutionStatus | undefined>;
}

/**
 * The executions' waits for a step's end (task tokens, SendTaskSuccess / SendTaskHeartbeat). `gone`: Step
 * Functions no longer waits on that token (it was completed, timed out, or its execution ended): nothing to do.
 */
export interface WorkflowCallbacks {
  /** Ends the wait with the task's result: the execution goes on at once. */
  complete(token: string, result: TaskResult): Promise<'sent' | 'gone'>;
  /** The step still runs: the wait goes on (its heartbeat timer starts again). */
  heartbeat(token: string): Promise<'sent' | 'gone'>;
}

/**
 * Each cluster's admission record (queue.ts ClusterQueue). Every change is one conditional write that holds the
 * limits itself, so racing submissions and completions never put more jobs on a cluster than it admits; each is
 * idempotent by job id (a job is active or queued at most once).
 */
export interface QueueStore {
  /** The record as it is now (consistent); empty if the cluster has none yet. Entries of an unreadable shape are left out. */
  read(clusterId: string): Promise<ClusterQueue>;
  /** Takes an active slot at once if the cluster has no job queued and both limits leave room; false otherwise (or if the job has a place). */
  startAtOnce(clusterId: string, jobId: string, entry: ActiveEntry, limits: AdmissionLimits): Promise<boolean>;
  /** Queues the job if both queue limits leave room; false otherwise (or if the job has a place). */
  enqueue(clusterId: string, jobId: string, entry: QueuedEntry, limits: AdmissionLimits): Promise<boolean>;
  /** Moves a queued job to an active slot if it is still queued and both limits leave room. */
  promote(clusterId: string, jobId: string, group: string, at: string, limits: AdmissionLimits): Promise<boolean>;
  /** Takes the job off the record (active or queued, as `where` says): the record after it, or undefined if the job was not there. */
  remove(clusterId: string, jobId: string, where: 'active' | 'queued', group: string): Promise<ClusterQueue | undefined>;
}
