/**
 * In-memory implementations of the job domain's ports (src/jobs/ports.ts), for unit tests that run in
 * milliseconds. Each keeps its adapter's contract (src/adapters/): what is stored comes back as a copy with
 * undefined attributes dropped, as from DynamoDB; job updates are conditional on the version read and retried;
 * audit appends dedupe and seal with the real chain and a TestSealer key; EMR answers as SdkEmrSteps translates it. Where the two
 * differ, it is said below. integration/ports.contract.test.ts runs the same cases against both; the dynalite
 * tests stay the source of truth for concurrency.
 */
import type { DigestEntry } from '../../src/audit/digest';
import { genesisHash, sealEvent, type AuditDraft, type AuditEvent } from '../../src/audit/chain';
import type { AuditSealer } from '../../src/audit/ports';
import { EmrRejectedError, TransientError, ValidationError } from '../../src/errors';
import { sanitizeSourceIdentity } from '../../src/identifiers';
import { isEmrTerminal, isTerminal, jobIdOfListKey, type CancelMode, type EmrStepState, type FailureDetails, type Job } from '../../src/jobs/model';
import type { AppendOptions, AuditLog, EmrStepStatus, EmrSteps, ExecutionStatus, JobChanges, JobPage, JobRepository, ListQuery, UnfinishedPage, UsageEntry, UsageQuery, WorkflowCallbacks, WorkflowExecutions, WorkflowStarter } from '../../src/jobs/ports';
import type { TaskResult, WorkflowInput } from '../../src/jobs/workflow-input';
import { transitionJob } from '../../src/jobs/transition';
import { TestSealer } from './sealer';

/** What a table gives back: a copy, undefined attributes dropped (marshall's removeUndefinedValues). */
const stored = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;
/** Lets other callers run first, as a network round trip would. */
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

type ListAttribute = 'principalArn' | 'clusterId' | 'status';

export class InMemoryJobRepository implements JobRepository {
  readonly items = new Map<string, Job>();
  /** Runs before each conditional update; throwing fails that update (fault injection). */
  beforeUpdate?: (job: Job, changes: JobChanges) => void;

  constructor(private readonly now: () => Date = () => new Date()) {}

  async create(job: Job): Promise<boolean> {
    await turn();
    if (this.items.has(job.jobId)) return false;
    this.items.set(job.jobId, stored(job));
    return true;
  }

  async get(jobId: string): Promise<Job | undefined> {
    await turn();
    const job = this.items.get(jobId);
    return job && stored(job);
  }

  transition(jobId: string, change: (job: Job) => JobChanges | undefined, known?: Job): Promise<Job> {
    return transitionJob(this, jobId, change, known);
  }

  /** UpdateItem conditional on `version`: undefined if the job moved on meanwhile. */
  async update(job: Job, changes: JobChanges): Promise<Job | undefined> {
    await turn();
    this.beforeUpdate?.(job, changes);
    if (this.items.get(job.jobId)?.version !== job.version) return undefined;
    const next = stored({ ...job, ...changes, version: job.version + 1, updatedAt: this.now().toISOString() });
    this.items.set(job.jobId, next);
    return stored(next);
  }

  /**
   * One Query of the index the adapter would use (caller, else cluster, else status), newest first: `limit` jobs
   * of the partition are read, then the other filters drop some, as DynamoDB's Limit counts items before its
   * FilterExpression. The position is the last read job's listKey. Unlike DynamoDB, a page that read the last
   * matching job has no nextToken (DynamoDB may answer one that leads to an empty page). Having no index, it
   * has no ghost or stale entry to drop: what it lists is the table, as the adapter's read-through makes it.
   */
  async list(query: ListQuery): Promise<JobPage> {
    await turn();
    const [attribute, partition]: [ListAttribute, string | undefined] = query.principalArn
      ? ['principalArn', query.principalArn]
      : query.clusterId ? ['clusterId', query.clusterId] : ['status', query.status];
    if (!partition) throw ValidationError.single('', 'list jobs by caller, cluster or status: give at least one');
    const [from, to] = [query.from ?? '0', `${query.to ?? '9999'}~`];
    const after = query.nextToken;
    if (after !== undefined && !jobIdOfListKey(after)) throw ValidationError.single('nextToken', 'is not a position in a job listing');
    const inPartition = [...this.items.values()]
      .filter((j) => j[attribute] === partition && j.listKey >= from && j.listKey <= to && (after === undefined || j.listKey < after))
      .sort((a, b) => (a.listKey < b.listKey ? 1 : -1));
    const read = inPartition.slice(0, query.limit);
    const jobs = read.filter((j) => (!query.status || j.status === query.status) && (!query.clusterId || j.clusterId === query.clusterId) && (query.visible?.(j) ?? true));
    const last = read.at(-1);
    return { jobs: jobs.map(stored), ...(last && inPartition.length > read.length ? { nextToken: last.listKey } : {}) };
  }

  /** Pages of `unfinishedPageSize` jobs, by jobId, as the adapter's Scan (whose pages end at 1 MB) pages the table. */
  unfinishedPageSize = 100;

  /** The jobs not in a terminal state (or holding a wait's token), read from the items (the fake has no index to tear), a page from `cursor`. */
  async unfinished(cursor?: string): Promise<UnfinishedPage> {
    await turn();
    const all = [...this.items.values()].filter((j) => (!isTerminal(j.status) || j.waitToken !== undefined) && (cursor === undefined || j.jobId > cursor)).sort((a, b) => (a.jobId < b.jobId ? -1 : 1));
    const page = all.slice(0, this.unfinishedPageSize);
    return { jobs: page.map(stored), ...(all.length > page.length ? { cursor: page.at(-1)!.jobId } : {}) };
  }

  /** The jobs that ended on `day` in [from, to], as the usage index holds them (a page of unfinishedPageSize). */
  async usage(query: UsageQuery): Promise<{ entries: UsageEntry[]; cursor?: string }> {
    await turn();
    const all = [...this.items.values()]
      .filter((j) => j.finishedAt !== undefined && j.finishedAt.slice(0, 10) === query.day && j.finishedAt >= query.from && j.finishedAt <= query.to && (query.cursor === undefined || j.jobId > query.cursor))
      .sort((a, b) => (a.jobId < b.jobId ? -1 : 1));
    const page = all.slice(0, this.unfinishedPageSize);
    const entries = page.map((j): UsageEntry => ({
      jobId: j.jobId, status: j.status, principalArn: j.principalArn, clusterId: j.clusterId, executionRoleArn: j.executionRoleArn, finishedAt: j.finishedAt!,
      ...(j.stepSeconds !== undefined ? { stepSeconds: j.stepSeconds } : {}), ...(j.request.tags ? { tags: { ...j.request.tags } } : {}),
    }));
    return { entries, ...(all.length > page.length ? { cursor: page.at(-1)!.jobId } : {}) };
  }

  /** The jobs with deliveries due (notifyAt set), a page from `cursor`, as the adapter's Scan. */
  async withDeliveriesDue(cursor?: string): Promise<UnfinishedPage> {
    await turn();
    const all = [...this.items.values()].filter((j) => j.notifyAt !== undefined && (cursor === undefined || j.jobId > cursor)).sort((a, b) => (a.jobId < b.jobId ? -1 : 1));
    const page = all.slice(0, this.unfinishedPageSize);
    return { jobs: page.map(stored), ...(all.length > page.length ? { cursor: page.at(-1)!.jobId } : {}) };
  }

  /** The heads of jobs updated in (from, to] (every job without `from`), as the adapter's index answers. */
  async changedHeads(window: { from?: Date; to: Date }): Promise<DigestEntry[]> {
    await turn();
    const [from, to] = [window.from?.toISOString(), window.to.toISOString()];
    return [...this.items.values()].filter((j) => from === undefined || (j.updatedAt >= from && j.updatedAt <= to)).map((j) => ({ chainId: j.jobId, seq: j.auditSeq, hash: j.auditHash }));
  }
}

export class InMemoryAuditLog implements AuditLog {
  readonly chains = new Map<string, AuditEvent[]>();
  /** Runs after an event is written (not when an append finds its event by dedupe key). */
  afterWrite?: (event: AuditEvent) => void;

  constructor(
    private readonly now: () => Date = () => new Date(),
    readonly sealer: AuditSealer = new TestSealer(),
  ) {}

  /**
   * `firstEvent` and `chain` change nothing observable: the adapter's fast path falls back to reading the chain when
   * the seq it takes is taken. `onlyBefore` is checked on the chain the write extends, as the adapter's conditional put makes it.
   */
  async append(chainId: string, draft: AuditDraft, options: AppendOptions = {}): Promise<AuditEvent> {
    await turn();
    const current = this.chains.get(chainId) ?? [];
    // A chain the caller read: its first try extends it, and a stale one fails as the adapter's conditional put does.
    if (options.chain && options.chain.length !== current.length) return this.append(chainId, draft, { ...options, chain: undefined });
    const chain = current;
    const existing = chain.find((e) => e.dedupeKey === draft.dedupeKey);
    if (existing) return stored(existing);
    const blocker = options.onlyBefore && chain.findLast((e) => options.onlyBefore!.includes(e.dedupeKey));
    if (blocker) return stored(blocker);
    const last = chain.at(-1);
    const event = await sealEvent(this.sealer, draft, chainId, last ? last.seq + 1 : 0, last ? last.hash : genesisHash(chainId), this.now().toISOString());
    // Another append may have landed while the seal was made (as a conditional put would find): go round again.
    if ((this.chains.get(chainId) ?? []).length !== chain.length) return this.append(chainId, draft, options);
    this.chains.set(chainId, [...chain, stored(event)]);
    this.afterWrite?.(event);
    return event;
  }

  async list(chainId: string): Promise<AuditEvent[]> {
    await turn();
    return stored(this.chains.get(chainId) ?? []);
  }
}

export interface FakeStep {
  id: string;
  clusterId: string;
  name: string;
  job: Job;
  /** The states successive DescribeSteps show; the last one sticks. */
  script: EmrStepState[];
  position: number;
  created: Date;
  /** Shown when the step is FAILED (EMR's FailureDetails). */
  failureDetails?: FailureDetails;
  /** Shown once the step is in a terminal state (EMR's StateChangeReason). */
  stateChangeReason?: { code?: string; message?: string };
  cancelledWith?: CancelMode;
}
export type EmrOperation = 'add' | 'find' | 'describe' | 'cancel';

/** A TransientError as SdkEmrSteps makes one from a throttled call. */
export const throttled = (operation = 'AddJobFlowSteps'): TransientError =>
  new TransientError(`${operation}: ThrottlingException: Rate exceeded`, { throttled: true, dependency: `${operation}: ThrottlingException` });
/** EMR's refusal of a step, as SdkEmrSteps reports it. */
export const rejected = (message: string): EmrRejectedError => new EmrRejectedError(message, 'ValidationException');

/** EMR's steps at the port: each DescribeStep moves a step one place along its script; CancelSteps as EMR answers it. */
export class FakeEmrSteps implements EmrSteps {
  readonly steps: FakeStep[] = [];
  readonly calls: { operation: EmrOperation; args: unknown[] }[] = [];
  /** For the next added step. */
  nextScript: EmrStepState[] = ['PENDING', 'RUNNING', 'COMPLETED'];
  nextFailure?: FailureDetails;
  nextReason?: FakeStep['stateChangeReason'];
  /** Runs while AddJobFlowSteps is in flight, after EMR has added the step (races). */
  duringAdd?: () => Promise<void>;
  private readonly failures = new Map<EmrOperation, Error[]>();

  /** `propagating`: the clusters where the submission carries the caller as source identity. */
  constructor(private readonly now: () => Date = () => new Date(), private readonly propagating: readonly string[] = []) {}

  /** The next calls of `operation` throw these, one each. */
  failNext(operation: EmrOperation, ...errors: Error[]): void {
    this.failures.set(operation, [...(this.failures.get(operation) ?? []), ...errors]);
  }

  count(operation: EmrOperation): number {
    return this.calls.filter((c) => c.operation === operation).length;
  }

  async add(job: Job, stepName: string): Promise<{ stepId: string; sourceIdentity?: string }> {
    await this.enter('add', job.jobId, stepName);
    const step: FakeStep = { id: `s-${String(this.steps.length + 1).padStart(12, '0')}`, clusterId: job.clusterId, name: stepName, job: stored(job), script: [...this.nextScript], position: -1, created: this.now() };
    if (this.nextFailure) step.failureDetails = this.nextFailure;
    if (this.nextReason) step.stateChangeReason = this.nextReason;
    this.steps.push(step);
    await this.duringAdd?.();
    const caller = job.actor.sourceIdentity;
    return { stepId: step.id, ...(caller && this.propagating.includes(job.clusterId) ? { sourceIdentity: sanitizeSourceIdentity(caller) } : {}) };
  }

  async find(clusterId: string, marker: string, since: Date): Promise<string | undefined> {
    await this.enter('find', clusterId, marker, since);
    return [...this.steps].reverse().find((s) => s.clusterId === clusterId && s.name.endsWith(marker) && s.created >= since)?.id;
  }

  async describe(clusterId: string, stepId: string): Promise<EmrStepStatus> {
    await this.enter('describe', clusterId, stepId);
    const step = this.step(clusterId, stepId);
    step.position = Math.min(step.position + 1, step.script.length - 1);
    const state = step.script[step.position]!;
    return {
      state,
      ...(state === 'FAILED' && step.failureDetails ? { failureDetails: step.failureDetails } : {}),
      ...(isEmrTerminal(state) && step.stateChangeReason ? { stateChangeReason: step.stateChangeReason } : {}),
    };
  }

  async cancel(clusterId: string, stepId: string, mode: CancelMode): Promise<{ status?: 'SUBMITTED' | 'FAILED'; reason?: string }> {
    await this.enter('cancel', clusterId, stepId, mode);
    const step = this.step(clusterId, stepId);
    const state = step.script[Math.max(step.position, 0)];
    if (state !== 'PENDING' && state !== 'RUNNING') return { status: 'FAILED', reason: `step is ${state}` };
    step.cancelledWith = mode;
    step.script = [...step.script.slice(0, step.position + 1), 'CANCEL_PENDING', 'CANCELLED'];
    return { status: 'SUBMITTED' };
  }

  private async enter(operation: EmrOperation, ...args: unknown[]): Promise<void> {
    await turn();
    this.calls.push({ operation, args });
    const error = this.failures.get(operation)?.shift();
    if (error) throw error;
  }

  /** An unknown step: EMR's InvalidRequestException, which no retry cures (the adapter passes it on). */
  private step(clusterId: string, stepId: string): FakeStep {
    const step = this.steps.find((s) => s.id === stepId && s.clusterId === clusterId);
    if (!step) throw Object.assign(new Error(`Step id '${stepId}' is not valid.`), { name: 'InvalidRequestException' });
    return step;
  }
}

/** Step Functions' StartExecution, recorded; scripted failures. */
/**
 * Step Functions' callback API as the tasks see it: every completion and heartbeat recorded. A token completes
 * once: after that (or once `expire`d) it is `gone`, as Step Functions answers TaskTimedOut. `failNext` throws.
 */
export class RecordingCallbacks implements WorkflowCallbacks {
  readonly completed: { token: string; result: TaskResult }[] = [];
  readonly heartbeats: string[] = [];
  private readonly dead = new Set<string>();
  private readonly failures: Error[] = [];
  failNext(...errors: Error[]): void {
    this.failures.push(...errors);
  }
  expire(token: string): void {
    this.dead.add(token);
  }
  async complete(token: string, result: TaskResult): Promise<'sent' | 'gone'> {
    await turn();
    const error = this.failures.shift();
    if (error) throw error;
    if (this.dead.has(token)) return 'gone';
    this.dead.add(token);
    this.completed.push({ token, result: structuredClone(result) });
    return 'sent';
  }
  async heartbeat(token: string): Promise<'sent' | 'gone'> {
    await turn();
    const error = this.failures.shift();
    if (error) throw error;
    if (this.dead.has(token)) return 'gone';
    this.heartbeats.push(token);
    return 'sent';
  }
}

export class RecordingStarter implements WorkflowStarter {
  /** Every call, failed ones included. */
  readonly attempts: WorkflowInput[] = [];
  /** The execution name of each call (the job id unless another was given). */
  readonly names: string[] = [];
  private readonly failures: Error[] = [];
  failNext(...errors: Error[]): void {
    this.failures.push(...errors);
  }
  async start(input: WorkflowInput, name: string = input.jobId): Promise<void> {
    await turn();
    this.attempts.push(structuredClone(input));
    this.names.push(name);
    const error = this.failures.shift();
    if (error) throw error;
  }
}

/**
 * Step Functions' executions at the ports the reconciler uses: StartExecution (idempotent by name, as the adapter
 * makes it: a name in use is "already started") and DescribeExecution (undefined for a name it has never seen, as
 * the adapter answers ExecutionDoesNotExist). Executions run nothing: a test sets how they end.
 */
export class FakeExecutions implements WorkflowStarter, WorkflowExecutions {
  readonly executions = new Map<string, ExecutionStatus & { input: WorkflowInput }>();
  /** Every StartExecution, by name. */
  readonly started: string[] = [];
  private readonly failures = new Map<'start' | 'describe', Error[]>();

  failNext(operation: 'start' | 'describe', ...errors: Error[]): void {
    this.failures.set(operation, [...(this.failures.get(operation) ?? []), ...errors]);
  }

  async start(input: WorkflowInput, name: string = input.jobId): Promise<void> {
    await turn();
    this.fail('start');
    this.started.push(name);
    if (!this.executions.has(name)) this.executions.set(name, { status: 'RUNNING', input: structuredClone(input) });
  }

  async describe(name: string): Promise<ExecutionStatus | undefined> {
    await turn();
    this.fail('describe');
    const execution = this.executions.get(name);
    if (!execution) return undefined;
    const { input: _input, ...status } = execution;
    return { ...status };
  }

  /** The named execution ends (or is forgotten, as an execution older than 90 days is). */
  end(name: string, status: Exclude<ExecutionStatus['status'], 'RUNNING'> | 'VANISHED', error?: { error: string; cause?: string }): void {
    const execution = this.executions.get(name);
    if (status === 'VANISHED') this.executions.delete(name);
    else this.executions.set(name, { status, ...error, input: execution?.input ?? { jobId: name, polling: { initialSeconds: 15, factor: 2, maxSeconds: 300 } } });
  }

  private fail(operation: 'start' | 'describe'): void {
    const error = this.failures.get(operation)?.shift();
    if (error) throw error;
  }
}

/**
 * A crash between the two writes of a job change: the first job update after an audit event of `type` was
 * written fails with `error` (by default what the job store throws for a dropped connection).
 */
export function crashAfterEvent(
  stores: { jobs: InMemoryJobRepository; audit: InMemoryAuditLog },
  type: string,
  error: () => Error = () => new TransientError('DynamoDB UpdateItem: InternalServerError: crash between the two writes'),
): { crashes: number } {
  const fault = { crashes: 0 };
  let armed = false;
  stores.audit.afterWrite = (event) => {
    if (event.type === type) armed = true;
  };
  stores.jobs.beforeUpdate = () => {
    if (!armed || fault.crashes > 0) return;
    fault.crashes++;
    throw error();
  };
  return fault;
}
