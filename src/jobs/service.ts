/**
 * The one submission path every entry point uses (HTTP, schedules, events): validate → authorize → audit the
 * decision (denials too) → idempotency → job record → start the workflow. And cancellation, authorized the
 * same way. Nothing reaches EMR without an Allow from the policy engine.
 */
import type { AnchorReport, DigestVerifier } from '../audit/digester';
import type { AuditDraft, AuditEvent, ChainHead, VerifyResult } from '../audit/chain';
import type { AuditSealer } from '../audit/ports';
import { verifyTrail } from '../audit/verify';
import { GATEWAY_ACTIONS, GATEWAY_CONTEXT_KEYS, type GatewayAction } from '../authz/actions';
import { resolvePrincipal } from '../authz/arn';
import type { ContextValue } from '../authz/context';
import type { AuthzRequest, Decision, NearMiss, PolicyEngine } from '../authz/engine';
import type { StatementRef } from '../authz/policy';
import { rolesFor } from '../authz/roles';
import { submissionRequest } from '../authz/submission';
import type { GatewayConfig } from '../config/validate';
import { ConflictError, ForbiddenError, IntegrityError, NotFoundError, TransientError, ValidationError } from '../errors';
import { configuredClusterArn, DENIALS_CHAIN_PREFIX, denialsChain } from '../identifiers';
import { hashOf } from '../util/canonical';
import { stepArguments } from './emr-step';
import { jobIdForIdempotencyKey, jobIdForInvocation, jobIdForRerun, newJobId } from './job-id';
import { actorFor, type Caller } from './actor';
import { endedBy, recordEvent, TERMINAL_EVENT, type JobChange } from './journal';
import type { ClusterQueues, QueueView } from './cluster-queues';
import { ListTokens, type ListTokenScope } from './list-token';
import { betweenAttempts, executionName, isTerminal, MAX_RERUNS_KEPT, newJob, type Actor, type CancelMode, type Job, type TemplateRun } from './model';
import { rerunSource } from './rerun';
import { usageReport, type UsageQuery, type UsageReport } from './usage';
import type { AuditLog, JobRepository, WorkflowStarter } from './ports';
import { actionOnFailureProblem, DEFAULT_ACTION_ON_FAILURE, parseJobRequest, runtimeRolesProblem, STEP_TYPES, type JobRequest } from './request';
import { maxAttemptsOf, type RetryPolicy } from './retry';
import { subjectOf, type StepTasks } from './step-tasks';
import { deliveriesDue, notificationsFor } from '../notifications/due';
import type { PollingPolicy } from './workflow-input';

export type { Caller } from './actor';

/** A runtime role this caller may use on a cluster: the step types allowed, and the decision's reason and statements. */
export interface UsableRole {
  roleArn: string;
  stepTypes: string[];
  reason: string;
  allowedBy: StatementRef[];
}

/** GET /decision: the policy's decision on a submission, for the caller who asks (nothing is recorded). */
export interface SubmissionDecision {
  clusterId: string;
  executionRoleArn: string;
  stepType: string;
  actionOnFailure: string;
  action: string;
  resource: string;
  allowed: boolean;
  result: Decision['result'];
  reason: string;
  rule?: { index: number; match: string };
  allowedBy: StatementRef[];
  deniedBy: StatementRef[];
  nearMisses: NearMiss[];
}

export interface SubmitCommand {
  caller: Caller;
  body: unknown;
  /** The API's Idempotency-Key: the job id derives from (principal, key). */
  idempotencyKey?: string;
  /**
   * A schedule's or trigger's run of `caller.trigger` (e.g. `schedule:nightly:TIME`): the job id derives from
   * (principal, trigger, invocation), a namespace no Idempotency-Key reaches. Never set from HTTP input.
   */
  invocation?: string;
  /** The job this submission reruns (rerun() sets it; its Idempotency-Key then names a job of that rerun only). */
  rerunOf?: string;
  /** The template and parameters the body was rendered from (a schedule's or trigger's run, or a rerun of one). */
  template?: TemplateRun;
}

/** POST /jobs/{id}/rerun: the caller's Idempotency-Key, and parameter overrides for a job a template made. */
export interface RerunCommand {
  idempotencyKey?: string;
  parameters?: Record<string, string>;
}

export interface SubmitResult {
  job: Job;
  /** True when an earlier submission with the same Idempotency-Key and body is being returned. */
  replayed: boolean;
}

const IDEMPOTENCY_KEY = /^[\x21-\x7E]{1,255}$/;

/** GET /jobs's query: the filters, the page size, and the nextToken of the previous page (sealed, list-token.ts). */
export interface ListJobsQuery {
  status?: string;
  clusterId?: string;
  /** Only this caller's jobs (an IAM principal or session ARN; a session means its principal). */
  caller?: string;
  from?: string;
  to?: string;
  limit: number;
  nextToken?: string;
}

export interface JobListPage {
  jobs: Job[];
  /** Sealed: opaque, for this caller and these filters only, for 24 hours. */
  nextToken?: string;
}

/** The store pages (Queries) one GET /jobs may read to fill its page, and the jobs each but the first reads. */
export const LIST_STORE_PAGES = 10;
export const LIST_STORE_PAGE_JOBS = 100;

/** All a job-access decision reads of a job. */
type JobAccessSubject = Pick<Job, 'principalArn' | 'clusterId' | 'executionRoleArn'>;

export interface JobServiceDeps {
  config: GatewayConfig;
  engine: PolicyEngine;
  jobs: JobRepository;
  audit: AuditLog;
  /** Checks the MACs of a trail that is read back (GET /jobs/{id}/audit); its MAC of a fixed label keys the list tokens. */
  sealer: AuditSealer;
  /** The rollback check of a trail against the digests of the chain heads. */
  digests: Pick<DigestVerifier, 'check'>;
  workflow: WorkflowStarter;
  /** The cancel path sends EMR CancelSteps through the workflow's tasks; a workflow that cannot start fails the job. */
  tasks: Pick<StepTasks, 'sendCancel' | 'fail' | 'cancelBetweenAttempts'>;
  polling: PollingPolicy;
  /** Admission control: each allowed job takes a place (active or queued) before it is recorded. */
  queues?: ClusterQueues;
  now?: () => Date;
}

export class JobService {
  private readonly now: () => Date;
  private readonly catalogue: ReadonlySet<string>;
  private readonly listTokens: ListTokens;

  constructor(private readonly deps: JobServiceDeps) {
    this.now = deps.now ?? (() => new Date());
    this.catalogue = new Set(deps.config.runtimeRoles);
    // The token key comes from the audit key (one GenerateMac per process, at the first token).
    this.listTokens = new ListTokens(deps.sealer, this.now);
  }

  async submit(command: SubmitCommand): Promise<SubmitResult> {
    const actor = this.actorFor(command.caller);
    const parsed = parseJobRequest(command.body);
    const key = command.idempotencyKey;
    if (key !== undefined && !IDEMPOTENCY_KEY.test(key)) {
      throw ValidationError.single('Idempotency-Key', 'must be 1-255 printable ASCII characters without spaces');
    }
    const idempotent = this.idempotency(actor, key, command.invocation, command.rerunOf);
    const cluster = this.deps.config.clusters.find((c) => c.id === parsed.clusterId);
    if (!cluster) throw ValidationError.single('clusterId', `${parsed.clusterId} is not a cluster this gateway manages`);
    // The job's request is the body with the cluster's retry default applied: it is what the decision, the record and
    // its hash are of, so the policy's emr-gateway:RetryMaxAttempts and the submit task's admission check both see it.
    const request = withRetryDefault(parsed, cluster.defaultRetry);
    // The cluster's rules, the same for every caller, so they are validation (before the policy, nothing recorded).
    const rolesProblem = runtimeRolesProblem(cluster);
    if (rolesProblem) throw ValidationError.single('clusterId', rolesProblem);
    const actionProblem = actionOnFailureProblem(cluster, request.actionOnFailure);
    if (actionProblem) throw ValidationError.single('actionOnFailure', actionProblem);
    const retryProblem = retryActionProblem(request);
    if (retryProblem) throw ValidationError.single('retry', retryProblem);
    if (!this.catalogue.has(request.executionRoleArn)) {
      throw ValidationError.single('executionRoleArn', 'is not one of the runtime roles this gateway may pass (see GET /roles)');
    }
    // A name the configuration does not have is the request's mistake, the same for every caller: before the policy.
    const unknownNotify = (request.notify ?? []).findIndex((name) => !this.deps.config.notifications.some((n) => n.name === name));
    if (unknownNotify >= 0) {
      const known = this.deps.config.notifications.map((n) => n.name);
      throw ValidationError.single(`notify[${unknownNotify}]`, `${JSON.stringify(request.notify![unknownNotify])} is not a configured notification (configured: ${known.join(', ') || 'none'})`);
    }

    const resource = this.clusterArn(request.clusterId);
    const decision = this.deps.engine.evaluate(
      submissionRequest(this.requester(command.caller), resource, {
        executionRoleArn: request.executionRoleArn,
        stepType: request.step.type,
        actionOnFailure: request.actionOnFailure,
        retryMaxAttempts: maxAttemptsOf(request.retry),
        ...(request.tags ? { tags: request.tags } : {}),
        ...(request.notify ? { notify: request.notify } : {}),
      }),
    );
    const requestHash = hashOf(request);
    const jobId = idempotent?.jobId ?? newJobId(this.now());

    const argsHash = hashOf(stepArguments(request.step));
    // The request hash makes the decision one on exactly this request: the submit task checks it (admission.ts).
    const subject = { ...subjectOf({ clusterId: request.clusterId, executionRoleArn: request.executionRoleArn, stepType: request.step.type, argsHash }), clusterArn: resource, name: request.name, requestHash };
    // One decision event per distinct request on this job id: a replay of the same body finds its own, and two
    // different bodies racing on one Idempotency-Key each leave their own decision (one of them then gets 409).
    const event = await this.deps.audit.append(jobId, {
      type: 'DECISION',
      dedupeKey: `DECISION:${requestHash}`,
      actor: { ...actor },
      subject,
      decision: decisionRecord(decision),
      ...(idempotent || command.rerunOf ? { detail: { ...idempotent?.detail, ...(command.rerunOf ? { rerunOf: command.rerunOf } : {}) } } : {}),
    }, { firstEvent: !idempotent });
    // What a denied request asked to be told is not granted: only the configured selections notify of its rejection,
    // and not by its tags, which the caller writes and no policy allowed (an allowed request's passed aws:RequestTag).
    const selectedBy = { principalArn: actor.principalArn, clusterId: request.clusterId, ...(decision.allowed && request.tags ? { tags: request.tags } : {}) };
    const notifications = notificationsFor(this.deps.config.notifications, selectedBy, decision.allowed ? (request.notify ?? []) : []);
    // Its place on the cluster before its record (a record without one would wait for ever): a full queue refuses the job
    // with nothing but its decision written. A replay of a recorded job keeps the place it has (or had).
    const placement = decision.allowed && this.deps.queues && !(idempotent && (await this.deps.jobs.get(jobId)))
      ? await this.deps.queues.place({ jobId, clusterId: request.clusterId, principalArn: actor.principalArn, ...(request.priority !== undefined ? { priority: request.priority } : {}) })
      : undefined;
    const queued = placement?.state === 'queued'
      ? await this.deps.audit.append(jobId, { type: 'QUEUED', dedupeKey: 'QUEUED', actor: { ...actor }, subject, detail: { group: placement.group, priority: placement.priority } })
      : undefined;
    const made = newJob({
      jobId, at: this.now(), actor, request, requestHash, argsHash, idempotencyKey: key, invocation: command.invocation, notifications, decision, head: queued ?? event,
      ...(command.rerunOf !== undefined ? { rerunOf: command.rerunOf } : {}),
      ...(command.template !== undefined ? { template: command.template } : {}),
    });
    const admission = placement ? { admission: { group: placement.group, priority: placement.priority, ...(queued ? { queuedAt: placement.at } : { admittedAt: placement.at }) } } : {};
    const created: Job = { ...made, ...(queued ? { status: 'QUEUED' as const } : {}), ...admission };
    // Its first state (REJECTED, or ACCEPTED) may be one a notification is sent at: due from this first write.
    const job = { ...created, ...deliveriesDue(created, created.status, created.createdAt) };
    if (!(await this.deps.jobs.create(job))) {
      // The job exists (a retry, or a concurrent duplicate created it first): answer as a replay of that one.
      // The decision event above was found by its dedupe key for the same body, or records this other body's.
      const existing = await this.deps.jobs.get(jobId);
      if (!existing) throw new IntegrityError(`job ${jobId} could not be created, yet does not exist`);
      // Another body's decision was appended to the job's trail: the job's head moves over it, as over any event.
      const current = event.seq > existing.auditSeq ? await this.deps.jobs.transition(jobId, (j) => (event.seq > j.auditSeq ? { auditSeq: event.seq, auditHash: event.hash } : undefined)) : existing;
      return this.replay(current, requestHash);
    }
    if (!decision.allowed) throw denied(decision, job);
    if (job.status === 'QUEUED') return { job: (await this.admitQueued(job)) ?? job, replayed: false };
    await this.startWorkflow(job, idempotent !== undefined);
    return { job, replayed: false };
  }

  /** The job id of an idempotent submission (API key or a trigger's run), and what its DECISION records of it. */
  private idempotency(actor: Actor, key: string | undefined, invocation: string | undefined, rerunOf: string | undefined): { jobId: string; detail: Record<string, string> } | undefined {
    if (invocation !== undefined) {
      if (key !== undefined || actor.trigger === undefined || rerunOf !== undefined) throw new IntegrityError('an invocation is a trigger\'s run, without an Idempotency-Key');
      return { jobId: jobIdForInvocation(actor.principalArn, actor.trigger, invocation), detail: { invocation } };
    }
    if (key === undefined) return undefined;
    return { jobId: rerunOf === undefined ? jobIdForIdempotencyKey(actor.principalArn, key) : jobIdForRerun(actor.principalArn, rerunOf, key), detail: { idempotencyKey: key } };
  }

  /**
   * POST /jobs/{id}/rerun: a new job from the job's request (or its template with overrides, rerun.ts), if this caller
   * may read the job; submitted as any job is, so decided again as this caller, under the policy in force now. Once
   * accepted, the job it reruns lists it (and its chain records the RERUN), found again by the new job's id: a retry
   * with the same Idempotency-Key completes a link a crash left undone.
   */
  async rerun(caller: Caller, jobId: string, command: RerunCommand = {}): Promise<SubmitResult> {
    const original = await this.get(caller, jobId);
    const source = rerunSource(original, this.deps.config.templates, command.parameters);
    const result = await this.submit({
      caller,
      body: source.body,
      rerunOf: original.jobId,
      ...(source.template ? { template: source.template } : {}),
      ...(command.idempotencyKey !== undefined ? { idempotencyKey: command.idempotencyKey } : {}),
    });
    const rerunJobId = result.job.jobId;
    const actor = this.actorFor(caller);
    await this.journal(
      original,
      { type: 'RERUN', dedupeKey: `RERUN:${rerunJobId}`, actor: { ...actor }, subject: subjectOf(original), detail: { rerunJobId, ...(source.template ? { template: source.template.name } : {}) } },
      (j) => (j.reruns?.includes(rerunJobId) ? undefined : { reruns: [...(j.reruns ?? []), rerunJobId].slice(-MAX_RERUNS_KEPT) }),
    );
    return result;
  }

  /** Cancels a job that has not finished: EMR CancelSteps if the step exists, else before it is submitted. */
  async cancel(caller: Caller, jobId: string, mode: CancelMode = 'SEND_INTERRUPT'): Promise<Job> {
    const job = await this.deps.jobs.get(jobId);
    if (!job) throw new NotFoundError(`no job ${jobId}`);
    const actor = this.actorFor(caller);
    await this.requireAccess(caller, job, GATEWAY_ACTIONS.cancel);
    if (isTerminal(job.status)) throw new ConflictError(`job ${jobId} is ${job.status}: there is nothing to cancel`, { status: job.status });
    const at = this.now().toISOString();
    let { job: updated } = await this.journal(
      job,
      { type: 'CANCEL_REQUESTED', dedupeKey: `CANCEL_REQUESTED:${mode}:${actor.callerArn}`, actor: { ...actor }, subject: subjectOf(job), detail: { mode } },
      (j) => (isTerminal(j.status) || (j.cancelRequested?.mode === mode && j.cancelRequested.sent) ? undefined : { cancelRequested: { by: actor.callerArn, mode, at } }),
    );
    // The job may have finished while the request was being recorded: then there was nothing left to cancel.
    if (isTerminal(updated.status)) throw new ConflictError(`job ${jobId} is ${updated.status}: there is nothing to cancel`, { status: updated.status });
    // Waiting for admission, it never started: it ends CANCELLED now (its place given back as the job store tells of its
    // end). Unless it was admitted meanwhile (ADMITTED first on its trail): then it is cancelled as any accepted job.
    if (updated.status === 'QUEUED') {
      const draft: AuditDraft = { type: 'CANCELLED', dedupeKey: TERMINAL_EVENT, actor: { ...actor }, subject: subjectOf(updated), detail: { before: 'admission', mode } };
      const { job: ended } = await this.journal(updated, draft, endedBy, ['ADMITTED']);
      if (ended.status === 'CANCELLED') return ended;
      // Admitted first: its admission is completed (the job ACCEPTED) and the cancel goes on as for any accepted job.
      updated = (await this.deps.queues?.launch(jobId)) ?? ended;
      if (updated.status === 'CANCELLED') return updated;
      if (updated.status === 'QUEUED' || isTerminal(updated.status)) throw new ConflictError(`job ${jobId} is ${updated.status}: it cannot be cancelled now, retry`, { status: updated.status });
    }
    // Between attempts no step runs: the job ends CANCELLED now, and no further attempt starts (its execution finds
    // it ended when its pause ends). Unless the next attempt has just started: then it is cancelled as any other.
    const settled = betweenAttempts(updated) ? await this.deps.tasks.cancelBetweenAttempts(updated) : updated;
    if (settled.status === 'CANCELLED') return settled;
    // With a step on EMR, cancel it now; without one, the submit task sees the request and never submits.
    const sent = settled.stepId && !settled.cancelRequested?.sent ? await this.deps.tasks.sendCancel(settled, mode) : settled;
    // The step may have ended otherwise while CancelSteps was on its way (EMR then refuses it): not cancelled.
    if (isTerminal(sent.status) && sent.status !== 'CANCELLED') throw new ConflictError(`job ${jobId} is ${sent.status}: there is nothing to cancel`, { status: sent.status });
    return sent;
  }

  /** A job, if this caller may read it (their own, or where a policy allows DescribeStep on its cluster). */
  async get(caller: Caller, jobId: string): Promise<Job> {
    const job = await this.deps.jobs.get(jobId);
    if (!job) throw new NotFoundError(`no job ${jobId}`);
    await this.requireAccess(caller, job, GATEWAY_ACTIONS.describe);
    return job;
  }

  /**
   * A job's audit events, in order, if this caller may read the job, with the head the job records and the
   * trail verified against it here: links, hashes, each MAC with the audit key, event 0 a DECISION, no event
   * beyond the head but one whose write is in flight.
   */
  async auditTrail(caller: Caller, jobId: string): Promise<{ job: Job; events: AuditEvent[]; head: ChainHead; verification: VerifyResult; anchor: AnchorReport }> {
    const job = await this.get(caller, jobId);
    const events = await this.deps.audit.list(jobId);
    const head = { seq: job.auditSeq, hash: job.auditHash };
    const [verification, anchor] = await Promise.all([
      verifyTrail(this.deps.sealer, jobId, events, { head, firstType: 'DECISION', now: this.now() }),
      this.deps.digests.check({ chainId: jobId, events, head }),
    ]);
    return { job, events, head, verification, anchor };
  }

  /**
   * Jobs newest first, each one only if this caller may both read it (the decision GET /jobs/{id} makes:
   * DescribeStep) and list it (ListSteps), each decided by authorizeJobAccess with the job's runtime role as
   * elasticmapreduce:ExecutionRoleArn: their own jobs unless a policy explicitly denies either, others' only where
   * a policy allows both. So a Deny tied to a runtime role hides a job here exactly as from GET /jobs/{id}.
   * Deciding is pure: a listing writes no audit event, for what it shows or what it hides.
   * Without filters: the caller's own jobs. With a status, cluster or caller filter: every matching job they may see.
   *
   * Pages are filled here, not by the store: the store is read until `limit` visible jobs are found or the
   * listing ends, in at most LIST_STORE_PAGES store pages (Queries) per request, the first of `limit` jobs (the
   * usual listing, one's own jobs, costs one Query of exactly the page), each further one of LIST_STORE_PAGE_JOBS:
   * at most limit + 900 <= 1,000 jobs read per request. Only then is a nextToken returned, so who may read
   * nothing gets `{jobs: []}` and no token whether the listing holds none or up to ~900 jobs hidden from them.
   * What remains visible to them: beyond that budget, a page that is empty or short but has a nextToken (which
   * says some jobs are there, not which); and the time a request takes grows with the jobs it reads.
   * The nextToken is sealed (list-token.ts): bound to this caller and these exact filters, 24 hours.
   */
  async list(caller: Caller, query: ListJobsQuery): Promise<JobListPage> {
    const self = this.actorFor(caller).principalArn;
    const { limit, nextToken, ...filters } = query;
    const { caller: callerFilter, ...rest } = filters;
    let principalArn: string | undefined;
    if (callerFilter !== undefined) {
      principalArn = resolvePrincipal(callerFilter)?.principalArn;
      if (!principalArn) throw ValidationError.single('caller', 'must be an IAM principal ARN');
    } else if (!query.status && !query.clusterId) {
      principalArn = self;
    }
    const scope: ListTokenScope = {
      caller: { callerArn: caller.callerArn, sourceIdentity: caller.sourceIdentity, trigger: caller.trigger },
      filters: { status: filters.status, clusterId: filters.clusterId, caller: callerFilter, from: filters.from, to: filters.to },
    };
    // The index sorts on listKey (`createdAt#jobId`, createdAt as toISOString writes it): bounds compare as the same text.
    const bounds = { ...(filters.from !== undefined ? { from: instant('from', filters.from) } : {}), ...(filters.to !== undefined ? { to: instant('to', filters.to) } : {}) };
    let position = nextToken === undefined ? undefined : await this.listTokens.open(nextToken, scope);
    const listable = this.listable(caller);
    const jobs: Job[] = [];
    for (let page = 0; page < LIST_STORE_PAGES; page++) {
      const read = await this.deps.jobs.list({
        ...rest,
        ...bounds,
        ...(principalArn ? { principalArn } : {}),
        limit: page === 0 ? limit : Math.max(limit, LIST_STORE_PAGE_JOBS),
        ...(position !== undefined ? { nextToken: position } : {}),
        // The store reads through to the table only the jobs this caller may see (decided on owner, cluster and role).
        visible: listable,
      });
      position = read.nextToken;
      // The store returns only jobs `visible` accepts (the ports contract holds both stores to it).
      for (const [i, job] of read.jobs.entries()) {
        jobs.push(job);
        if (jobs.length === limit) {
          // Full: the next page starts right after this job (or where the store stopped, if it was its last).
          if (i < read.jobs.length - 1) position = job.listKey;
          return this.listPage(jobs, position, scope);
        }
      }
      if (position === undefined) break;
    }
    return this.listPage(jobs, position, scope);
  }

  /**
   * GET /queues?clusterId=: the cluster's capacity, its active and queued jobs per group, and the queue in the order it
   * is expected to start. Counts and places are every caller's to see (as a shared cluster's load is); a job's id only
   * on the caller's own jobs (read from the byCaller index, not the queue record).
   */
  async queueView(caller: Caller, clusterId: string): Promise<QueueView> {
    if (!this.deps.config.clusters.some((c) => c.id === clusterId)) throw new NotFoundError(`${clusterId} is not a cluster this gateway manages`);
    if (!this.deps.queues) throw new IntegrityError('admission control is not configured');
    const own = new Set<string>();
    const principalArn = this.actorFor(caller).principalArn;
    let nextToken: string | undefined;
    for (let page = 0; page < LIST_STORE_PAGES; page++) {
      const read = await this.deps.jobs.list({ principalArn, status: 'QUEUED', clusterId, limit: LIST_STORE_PAGE_JOBS, ...(nextToken !== undefined ? { nextToken } : {}) });
      for (const job of read.jobs) own.add(job.jobId);
      nextToken = read.nextToken;
      if (nextToken === undefined) break;
    }
    return this.deps.queues.view(clusterId, own);
  }

  /** GET /usage: the jobs that ended in a range, counted and grouped (usage.ts), of those this caller may list. */
  usage(caller: Caller, query: UsageQuery): Promise<UsageReport> {
    return usageReport(query, { jobs: this.deps.jobs, visible: this.listable(caller), now: this.now });
  }

  private async listPage(jobs: Job[], position: string | undefined, scope: ListTokenScope): Promise<JobListPage> {
    return { jobs, ...(position !== undefined ? { nextToken: await this.listTokens.issue(position, scope) } : {}) };
  }

  /**
   * Whether a listing shows a job: DescribeStep and ListSteps both allowed by authorizeJobAccess. Decided once per
   * distinct (owner, cluster, role) in a request: that is all a job-access decision reads of a job.
   */
  private listable(caller: Caller): (job: JobAccessSubject) => boolean {
    const decided = new Map<string, boolean>();
    return (job) => {
      const subject: JobAccessSubject = { principalArn: job.principalArn, clusterId: job.clusterId, executionRoleArn: job.executionRoleArn };
      // ARNs and cluster ids hold no newline: a plain key, not a JSON encoding per listed job.
      const key = `${subject.principalArn}\n${subject.clusterId}\n${subject.executionRoleArn}`;
      let allowed = decided.get(key);
      if (allowed === undefined) {
        allowed = [GATEWAY_ACTIONS.describe, GATEWAY_ACTIONS.list].every((action) => this.authorizeJobAccess(caller, subject, action).allowed);
        decided.set(key, allowed);
      }
      return allowed;
    };
  }

  /**
   * The catalogue's runtime roles this caller may use, per configured cluster (or one). A cluster without runtime
   * roles takes no step of this gateway: none is offered there, and `unavailable` says why.
   */
  roles(caller: Caller, clusterId?: string): { clusterId: string; roles: UsableRole[]; unavailable?: string }[] {
    const { config } = this.deps;
    const clusters = clusterId ? config.clusters.filter((c) => c.id === clusterId) : config.clusters;
    if (clusterId && !clusters.length) throw new NotFoundError(`${clusterId} is not a cluster this gateway manages`);
    return clusters.map((cluster) => {
      const unavailable = runtimeRolesProblem(cluster);
      return unavailable ? { clusterId: cluster.id, roles: [], unavailable } : this.usableRoles(caller, cluster.id);
    });
  }

  /**
   * "May I?": the policy's decision on a submission by this caller (the cluster, the role, the step type), with its
   * reasons; nothing is made or recorded. What submit refuses before the policy (an unknown cluster or role) is refused
   * here the same way, so the answer is the one a submission would get.
   */
  decision(caller: Caller, query: { clusterId: string; executionRoleArn: string; stepType: string; actionOnFailure?: string }): SubmissionDecision {
    const cluster = this.deps.config.clusters.find((c) => c.id === query.clusterId);
    if (!cluster) throw new NotFoundError(`${query.clusterId} is not a cluster this gateway manages`);
    const rolesProblem = runtimeRolesProblem(cluster);
    if (rolesProblem) throw ValidationError.single('clusterId', rolesProblem);
    if (!this.catalogue.has(query.executionRoleArn)) {
      throw ValidationError.single('executionRoleArn', 'is not one of the runtime roles this gateway may pass (see GET /roles)');
    }
    const actionOnFailure = query.actionOnFailure ?? DEFAULT_ACTION_ON_FAILURE;
    const actionProblem = actionOnFailureProblem(cluster, actionOnFailure);
    if (actionProblem) throw ValidationError.single('actionOnFailure', actionProblem);
    const resource = this.clusterArn(cluster.id);
    const request = submissionRequest(this.requester(caller), resource, {
      executionRoleArn: query.executionRoleArn,
      stepType: query.stepType,
      actionOnFailure,
      retryMaxAttempts: maxAttemptsOf(cluster.defaultRetry),
    });
    const decision = this.deps.engine.evaluate(request);
    return {
      clusterId: cluster.id,
      executionRoleArn: query.executionRoleArn,
      stepType: query.stepType,
      actionOnFailure,
      action: request.action,
      resource,
      allowed: decision.allowed,
      result: decision.result,
      reason: decision.reason,
      ...(decision.rule ? { rule: decision.rule } : {}),
      allowedBy: decision.allowedBy,
      deniedBy: decision.deniedBy,
      nearMisses: decision.nearMisses,
    };
  }

  private usableRoles(caller: Caller, clusterId: string): { clusterId: string; roles: UsableRole[] } {
    const options = rolesFor(this.deps.engine, {
      ...this.requester(caller),
      clusterArn: this.clusterArn(clusterId),
      catalogue: this.deps.config.runtimeRoles,
      stepTypes: STEP_TYPES,
      actionOnFailure: DEFAULT_ACTION_ON_FAILURE,
      retryMaxAttempts: maxAttemptsOf(this.deps.config.clusters.find((c) => c.id === clusterId)?.defaultRetry),
    });
    return {
      clusterId,
      roles: options
        .filter((option) => option.stepTypes.length)
        .map((option) => ({ roleArn: option.roleArn, stepTypes: option.stepTypes, reason: option.decision.reason, allowedBy: option.decision.allowedBy })),
    };
  }

  /**
   * A denied read or cancel is recorded twice, so that no denial goes unrecorded and no caller can grow
   * someone else's trail without bound (a session name is the caller's to choose, so per-caller limits on the
   * job's trail limit nothing):
   * - in full on the denied principal's own chain (`denials:PRINCIPAL_ARN`, the role, not the session), one
   *   event per caller, job, action and minute: a flood lands on the record of whoever sends it;
   * - on the job's trail at most one event per action and hour, whoever the callers: its dedupe key names
   *   no caller; it carries the first denied principal of that hour (the role, no session name) and where
   *   every denial of the hour is recorded in full.
   */
  private async requireAccess(caller: Caller, job: Job, action: GatewayAction): Promise<void> {
    const decision = this.authorizeJobAccess(caller, job, action);
    if (decision.allowed) return;
    await this.denied(caller, job, action, decision, `not allowed to ${action === GATEWAY_ACTIONS.cancel ? 'cancel' : 'read'} ${job.jobId}`);
  }

  /**
   * A Spark UI link (GET /jobs/{id}/ui) shows every step the job's runtime role ran on the cluster, whoever submitted
   * it (EMR scopes the UI to the role, not to the job). So it needs a policy that lets this caller read and list that
   * role's steps there (DescribeStep and ListSteps, the role as elasticmapreduce:ExecutionRoleArn), with no own-job
   * rule: one's own job of a shared role is no grant to read the others'. A denial is recorded as a denied read is.
   */
  async requireRoleReads(caller: Caller, job: Job): Promise<void> {
    for (const action of [GATEWAY_ACTIONS.describe, GATEWAY_ACTIONS.list]) {
      const decision = this.authorize(caller, action, job.clusterId, { [GATEWAY_CONTEXT_KEYS.executionRoleArn]: job.executionRoleArn });
      if (!decision.allowed) await this.denied(caller, job, action, decision, `a Spark UI link shows every step ${job.executionRoleArn} ran on ${job.clusterId}, whoever submitted it`);
    }
  }

  /** Records a denied read or cancel (on the principal's denials chain, and once an hour on the job's), then refuses. */
  private async denied(caller: Caller, job: Job, action: GatewayAction, decision: Decision, refusal: string): Promise<never> {
    const actor = this.actorFor(caller);
    const [type, verb] = action === GATEWAY_ACTIONS.cancel ? ['CANCEL_DENIED', 'cancel'] : ['READ_DENIED', 'read'];
    const at = this.now().toISOString();
    const denials = denialsChain(actor.principalArn);
    await this.deps.audit.append(denials, {
      type,
      dedupeKey: `${type}:${job.jobId}:${actor.callerArn}:${at.slice(0, 16)}`,
      actor: { ...actor },
      subject: { jobId: job.jobId, clusterId: job.clusterId },
      decision: decisionRecord(decision),
      detail: { action },
    });
    const hour = at.slice(0, 13);
    await this.journal(job, {
      type,
      dedupeKey: `${type}:${hour}`,
      actor: { principalArn: actor.principalArn },
      subject: subjectOf(job),
      decision: decisionRecord(decision),
      detail: {
        action,
        hour,
        recordedOn: denials,
        note: `the first denied ${verb} of this job in this hour; this one and any later ones, by any principal, are recorded in full on each denied principal's own chain (${DENIALS_CHAIN_PREFIX}PRINCIPAL_ARN)`,
      },
    });
    throw new ForbiddenError(`${refusal}: ${decision.reason}`, { decision: decisionRecord(decision) });
  }

  /** Appends an event and moves the job's chain head (every event does, so a cut tail is detectable). */
  private journal(job: Job, draft: AuditDraft, change?: JobChange, onlyBefore?: string[]): Promise<{ job: Job }> {
    return recordEvent(this.deps.jobs, this.deps.audit, job.jobId, draft, change, { known: job, ...(onlyBefore ? { onlyBefore } : {}) });
  }

  /**
   * May this caller read, list or cancel this job? Their own jobs: yes, unless a policy explicitly denies it.
   * Others' jobs: only where a policy allows the action on the job's cluster. The job's runtime role is in the
   * context (elasticmapreduce:ExecutionRoleArn). The one rule for GET /jobs/{id}, GET /jobs and DELETE.
   */
  private authorizeJobAccess(caller: Caller, job: JobAccessSubject, action: GatewayAction): Decision {
    const decision = this.authorize(caller, action, job.clusterId, { [GATEWAY_CONTEXT_KEYS.executionRoleArn]: job.executionRoleArn });
    const own = resolvePrincipal(caller.callerArn)?.principalArn === job.principalArn;
    if (own && decision.result === 'ImplicitlyDenied') {
      return { ...decision, result: 'Allowed', allowed: true, reason: `allowed: the caller's own job (${decision.reason})` };
    }
    return decision;
  }

  private authorize(caller: Caller, action: GatewayAction, clusterId: string, context: Record<string, ContextValue>): Decision {
    const request: AuthzRequest = { ...this.requester(caller), action, resource: this.clusterArn(clusterId), context };
    return this.deps.engine.evaluate(request);
  }

  private requester(caller: Caller): { callerArn: string; sourceIdentity?: string; now: Date } {
    return { callerArn: caller.callerArn, ...(caller.sourceIdentity !== undefined ? { sourceIdentity: caller.sourceIdentity } : {}), now: this.now() };
  }

  /** In the cluster's own account: a cluster of another account is that account's resource. */
  private clusterArn(clusterId: string): string {
    return configuredClusterArn(this.deps.config, clusterId);
  }

  private async replay(existing: Job, requestHash: string): Promise<SubmitResult> {
    if (existing.requestHash !== requestHash) {
      throw new ConflictError('this Idempotency-Key was already used with a different request body', { jobId: existing.jobId });
    }
    if (existing.decision.result !== 'Allowed') {
      throw new ForbiddenError(existing.decision.reason, { jobId: existing.jobId, decision: existing.decision });
    }
    // The first attempt may have died before starting the workflow: starting it again is safe (named by job id).
    if (existing.status === 'ACCEPTED') await this.startWorkflow(existing, true);
    if (existing.status === 'QUEUED') return { job: (await this.admitQueued(existing)) ?? existing, replayed: true };
    return { job: existing, replayed: true };
  }

  /**
   * A queued job just recorded, settled by admission (it may start at once). A failure leaves it QUEUED, consistent:
   * the admission sweep goes on from there within a minute, so the caller is not told the submission failed.
   */
  private async admitQueued(job: Job): Promise<Job | undefined> {
    try {
      return await this.deps.queues?.settle(job);
    } catch {
      return undefined;
    }
  }

  /**
   * Starts the state machine. If that fails, the job must not stay ACCEPTED for ever: it ends FAILED, unless
   * the failure is transient and the caller holds an Idempotency-Key, whose retry will start it again.
   */
  private async startWorkflow(job: Job, retryable: boolean): Promise<void> {
    const input = { jobId: job.jobId, polling: this.deps.polling };
    try {
      await this.deps.workflow.start(input, executionName(job));
    } catch (error) {
      if (!(retryable && error instanceof TransientError)) {
        const name = error instanceof Error ? error.name : 'Error';
        await this.deps.tasks.fail({ ...input, error: { Error: name, Cause: `the workflow could not start: ${(error as Error).message}` } });
      }
      throw error;
    }
  }

  /** Who acts, as the engine identifies the caller: a session name is a source identity only where its rule verifies it. */
  private actorFor(caller: Caller): Actor {
    return actorFor(this.deps.engine, caller);
  }
}

/** EMR actions on failure after which the cluster is gone: nothing to retry on. */
const TERMINATING_ACTIONS: readonly string[] = ['TERMINATE_CLUSTER', 'TERMINATE_JOB_FLOW'];

/** The request with the cluster's retry policy when it has none of its own (and its step does not end the cluster). */
function withRetryDefault(request: JobRequest, defaultRetry: RetryPolicy | undefined): JobRequest {
  if (request.retry || !defaultRetry || TERMINATING_ACTIONS.includes(request.actionOnFailure)) return request;
  return { ...request, retry: { ...defaultRetry, on: [...defaultRetry.on] } };
}

/** Why the request's retry policy cannot be, or undefined: a failing step that terminates the cluster leaves nowhere to retry. */
function retryActionProblem(request: JobRequest): string | undefined {
  if (maxAttemptsOf(request.retry) <= 1 || !TERMINATING_ACTIONS.includes(request.actionOnFailure)) return undefined;
  return `cannot retry a step whose actionOnFailure is ${request.actionOnFailure}: its failure terminates the cluster (use maxAttempts 1, or actionOnFailure CONTINUE)`;
}

/** An ISO 8601 time (any precision, Z or an offset) as toISOString writes it, so that it compares with listKeys as text. */
function instant(field: string, time: string): string {
  const date = new Date(time);
  if (Number.isNaN(date.getTime())) throw ValidationError.single(field, 'must be an ISO 8601 time');
  return date.toISOString();
}

/** A decision as the audit trail and the API record it. */
export function decisionRecord(decision: Decision): Record<string, unknown> {
  return {
    result: decision.result,
    reason: decision.reason,
    allowedBy: decision.allowedBy,
    deniedBy: decision.deniedBy,
    ...(decision.rule ? { rule: decision.rule } : {}),
  };
}

function denied(decision: Decision, job: Job): ForbiddenError {
  return new ForbiddenError(decision.reason, { jobId: job.jobId, decision: decisionRecord(decision) });
}
