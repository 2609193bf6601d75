/**
 * Admission control over the clusters' admission records (queue.ts for the rules, QueueStore for the record).
 *
 * - A submission allowed by the policy takes a place before its job is recorded: an active slot at once while the
 *   cluster has room and nobody waits, else a place in the queue, else (both queues full) a QueueFullError and no job.
 * - A queued job has a job record (QUEUED) and no execution. It is launched when admitted: QUEUED → ACCEPTED with an
 *   ADMITTED audit event, then StartExecution (named by the job, so a repeat is harmless).
 * - A job that ends gives its place back (released, called by the job store on every transition to a terminal state),
 *   and the free slots go to queued jobs in admission order (dispatch).
 * - Nothing depends on every one of those calls arriving: `sweep` (every minute) takes back the places of jobs that
 *   ended or never got a record, launches admitted jobs still QUEUED (a crash between promotion and launch), and
 *   fills free slots. So a crash at any point, a lost event or a restart delays a job by at most a sweep.
 */
import { QueueFullError } from '../errors';
import type { GatewayConfig } from '../config/validate';
import { eachLimited } from '../util/concurrency';
import { recordEvent, TERMINAL_EVENT } from './journal';
import { executionName, isTerminal, type Job } from './model';
import type { AuditLog, JobRepository, QueueStore, WorkflowStarter } from './ports';
import { admissionOrder, countByGroup, DEFAULT_GROUP, nextToAdmit, PRIORITY, QUEUE_FULL_RETRY_AFTER_SECONDS, queueFullProblem, QuotaGroups, type AdmissionLimits, type ClusterQueue } from './queue';
import { subjectOf } from './step-tasks';
import type { PollingPolicy } from './workflow-input';

/** Who admits, in the audit trail. */
export const ADMISSION_ACTOR = { principalArn: 'emr-step-gateway', callerArn: 'emr-step-gateway:admission' };
/** A place whose job has no record after this long was taken by a submission that died before recording it. */
export const ORPHAN_GRACE_MS = 10 * 60_000;
/** Promotions one dispatch tries before it leaves the rest to the next (each lost race re-reads the record). */
const DISPATCH_ROUNDS = 64;

export type Placement = { state: 'active' | 'queued'; group: string; priority: number; at: string };

export interface ClusterQueuesDeps {
  config: Pick<GatewayConfig, 'clusters' | 'quotas'>;
  queues: QueueStore;
  jobs: JobRepository;
  audit: AuditLog;
  workflow: WorkflowStarter;
  polling: PollingPolicy;
  /** Told of a launch that failed (the job stays admitted and QUEUED: the sweep launches it); the composition logs it. */
  onLaunchError?: (jobId: string, error: unknown) => void;
  now?: () => Date;
}

/** What one sweep of a cluster did. */
export interface SweepReport {
  clusterId: string;
  /** Places taken back: of jobs that ended, or whose record never appeared. */
  freed: string[];
  /** Admitted jobs still QUEUED that were launched. */
  launched: string[];
  /** Queued jobs admitted into free slots. */
  admitted: string[];
  errors: { jobId: string; error: string }[];
}

/** GET /queues: a cluster's capacity, who holds it, and who waits in which order. */
export interface QueueView {
  clusterId: string;
  maxActiveJobs: number;
  maxQueuedJobs: number;
  active: number;
  queued: number;
  groups: { name: string; active: number; queued: number; maxActiveJobs?: number; maxQueuedJobs?: number }[];
  /** The queued jobs in the order they are expected to start (jobId only of the jobs `visible` accepts). */
  entries: { position: number; group: string; priority: number; queuedAt: string; jobId?: string }[];
}

export class ClusterQueues {
  private readonly groups: QuotaGroups;
  private readonly now: () => Date;

  constructor(private readonly deps: ClusterQueuesDeps) {
    this.groups = new QuotaGroups(deps.config.quotas);
    this.now = deps.now ?? (() => new Date());
  }

  /**
   * A place for a job about to be recorded: active at once or queued; idempotent by job id (a retried submission gets
   * the place it has). QueueFullError when neither is free: nothing is written.
   */
  async place(job: { jobId: string; clusterId: string; principalArn: string; priority?: number }): Promise<Placement> {
    const group = this.groups.groupOf(job.principalArn);
    const limits = this.limits(job.clusterId, group);
    const priority = job.priority ?? PRIORITY.default;
    const at = this.now().toISOString();
    if (await this.deps.queues.startAtOnce(job.clusterId, job.jobId, { group, at }, limits)) return { state: 'active', group, priority, at };
    if (await this.deps.queues.enqueue(job.clusterId, job.jobId, { group, priority, at }, limits)) return { state: 'queued', group, priority, at };
    // Neither: the job has a place already (a retry), or the queues are full.
    const queue = await this.deps.queues.read(job.clusterId);
    const held = queue.active[job.jobId] ?? queue.queued[job.jobId];
    if (held) return { state: queue.active[job.jobId] ? 'active' : 'queued', group: held.group, priority: queue.queued[job.jobId]?.priority ?? priority, at: held.at };
    const problem = queueFullProblem(queue, group, limits) ?? `the queue of ${job.clusterId} is full`;
    throw new QueueFullError(`${problem}: retry later`, QUEUE_FULL_RETRY_AFTER_SECONDS, {
      clusterId: job.clusterId,
      group,
      queued: Object.keys(queue.queued).length,
      maxQueuedJobs: limits.clusterQueued,
      ...(Number.isFinite(limits.groupQueued) ? { groupMaxQueuedJobs: limits.groupQueued } : {}),
    });
  }

  /** Gives back the place of a job that has ended, and fills the free slots. */
  async released(job: Pick<Job, 'jobId' | 'clusterId'>): Promise<string[]> {
    const queue = await this.deps.queues.read(job.clusterId);
    const active = queue.active[job.jobId];
    const queued = queue.queued[job.jobId];
    let after: ClusterQueue | undefined;
    if (active) after = await this.deps.queues.remove(job.clusterId, job.jobId, 'active', active.group);
    else if (queued) after = await this.deps.queues.remove(job.clusterId, job.jobId, 'queued', queued.group);
    else return [];
    // The removal's answer is the record as it left it (or, lost to a racing removal, the fill reads it).
    return (await this.fill(job.clusterId, after)).admitted;
  }

  /** Admits queued jobs into the cluster's free slots, in admission order, and launches each; the ids launched. */
  async dispatch(clusterId: string): Promise<string[]> {
    return (await this.fill(clusterId)).admitted;
  }

  /**
   * A queued job just recorded: the free slots are filled (this job may be among those admitted), and if a racing
   * dispatch admitted it before its record existed (so could not launch it), it is launched here. The job as it is now.
   */
  async settle(job: Job): Promise<Job | undefined> {
    const { admitted, last } = await this.fill(job.clusterId);
    if (admitted.includes(job.jobId)) return this.deps.jobs.get(job.jobId);
    // The record as the fill last read it says whether another dispatch admitted this job: no second read.
    return last?.active[job.jobId] ? this.launch(job.jobId) : job;
  }

  /** dispatch's work, with the record as it last read it (when it stopped because nobody more could start). */
  private async fill(clusterId: string, known?: ClusterQueue): Promise<{ admitted: string[]; last?: ClusterQueue }> {
    const admitted: string[] = [];
    for (let round = 0; round < DISPATCH_ROUNDS; round++) {
      // A record a write just answered with is as fresh as a read: each promotion below is conditional either way.
      const queue = round === 0 && known ? known : await this.deps.queues.read(clusterId);
      const next = nextToAdmit(queue, (group) => this.limits(clusterId, group));
      if (next === undefined) return { admitted, last: queue };
      const { group } = queue.queued[next]!;
      // Lost to a racing dispatch or submission: read again and go on with whatever is next then.
      if (!(await this.deps.queues.promote(clusterId, next, group, this.now().toISOString(), this.limits(clusterId, group)))) continue;
      admitted.push(next);
      // Its record may not be written yet (a submission between its place and its record): that submission launches it.
      // A launch that fails is the sweep's to finish: the next job still gets its slot now.
      try {
        await this.launch(next);
      } catch (error) {
        this.deps.onLaunchError?.(next, error);
      }
    }
    return { admitted };
  }

  /** An admitted job still QUEUED: ACCEPTED (ADMITTED on its trail, unless it ended first), then its execution. */
  async launch(jobId: string): Promise<Job | undefined> {
    const job = await this.deps.jobs.get(jobId);
    if (!job || job.status !== 'QUEUED') return job;
    const admittedAt = this.now().toISOString();
    const { job: admitted } = await recordEvent(
      this.deps.jobs,
      this.deps.audit,
      jobId,
      { type: 'ADMITTED', dedupeKey: 'ADMITTED', actor: { ...ADMISSION_ACTOR }, subject: subjectOf(job), detail: { group: job.admission?.group, priority: job.admission?.priority, queuedAt: job.admission?.queuedAt } },
      (j) => (j.status === 'QUEUED' ? { status: 'ACCEPTED', ...(j.admission ? { admission: { ...j.admission, admittedAt } } : {}) } : undefined),
      { onlyBefore: [TERMINAL_EVENT], known: job },
    );
    if (admitted.status === 'ACCEPTED' && !admitted.stepId) await this.deps.workflow.start({ jobId, polling: this.deps.polling }, executionName(admitted));
    return admitted;
  }

  /** Repairs every cluster's record (see the module comment), then fills its free slots. */
  async sweep(): Promise<SweepReport[]> {
    const reports: SweepReport[] = [];
    for (const cluster of this.deps.config.clusters) reports.push(await this.sweepCluster(cluster.id));
    return reports;
  }

  private async sweepCluster(clusterId: string): Promise<SweepReport> {
    const report: SweepReport = { clusterId, freed: [], launched: [], admitted: [], errors: [] };
    const queue = await this.deps.queues.read(clusterId);
    const now = this.now().getTime();
    const places = [
      ...Object.entries(queue.active).map(([jobId, e]) => ({ jobId, where: 'active' as const, ...e })),
      ...Object.entries(queue.queued).map(([jobId, e]) => ({ jobId, where: 'queued' as const, group: e.group, at: e.at })),
    ];
    await eachLimited(places, 16, async (place) => {
      try {
        const job = await this.deps.jobs.get(place.jobId);
        const orphan = !job && now - Date.parse(place.at) > ORPHAN_GRACE_MS;
        // A record of another cluster under this id is no job of this queue (a planted or torn entry).
        const foreign = job !== undefined && job.clusterId !== clusterId;
        if (orphan || foreign || (job && isTerminal(job.status))) {
          if (await this.deps.queues.remove(clusterId, place.jobId, place.where, place.group)) report.freed.push(place.jobId);
        } else if (job && place.where === 'active' && job.status === 'QUEUED') {
          await this.launch(job.jobId);
          report.launched.push(job.jobId);
        }
      } catch (error) {
        report.errors.push({ jobId: place.jobId, error: error instanceof Error ? `${error.name}: ${error.message}`.slice(0, 500) : String(error) });
      }
    });
    try {
      report.admitted.push(...(await this.dispatch(clusterId)));
    } catch (error) {
      report.errors.push({ jobId: '-', error: error instanceof Error ? `${error.name}: ${error.message}`.slice(0, 500) : String(error) });
    }
    return report;
  }

  /** The cluster's capacity and queue as GET /queues shows it; a job's id only of the jobs in `shown` (the caller's own). */
  async view(clusterId: string, shown: ReadonlySet<string>): Promise<QueueView> {
    const queue = await this.deps.queues.read(clusterId);
    const limitsOf = (group: string) => this.limits(clusterId, group);
    const { order } = admissionOrder(queue, limitsOf);
    const active = countByGroup(queue.active);
    const queued = countByGroup(queue.queued);
    const names = [...new Set([...this.deps.config.quotas.map((q) => q.name), ...active.keys(), ...queued.keys()])];
    const entries = order.map((jobId, i) => {
      const entry = queue.queued[jobId]!;
      return { position: i + 1, group: entry.group, priority: entry.priority, queuedAt: entry.at, ...(shown.has(jobId) ? { jobId } : {}) };
    });
    return {
      clusterId,
      maxActiveJobs: limitsOf(DEFAULT_GROUP).clusterActive,
      maxQueuedJobs: limitsOf(DEFAULT_GROUP).clusterQueued,
      active: Object.keys(queue.active).length,
      queued: order.length,
      groups: names.map((name) => {
        const limits = limitsOf(name);
        return {
          name,
          active: active.get(name) ?? 0,
          queued: queued.get(name) ?? 0,
          ...(Number.isFinite(limits.groupActive) ? { maxActiveJobs: limits.groupActive } : {}),
          ...(Number.isFinite(limits.groupQueued) ? { maxQueuedJobs: limits.groupQueued } : {}),
        };
      }),
      entries,
    };
  }

  /** The record as it is. */
  read(clusterId: string): Promise<ClusterQueue> {
    return this.deps.queues.read(clusterId);
  }

  private limits(clusterId: string, group: string): AdmissionLimits {
    const cluster = this.deps.config.clusters.find((c) => c.id === clusterId);
    return this.groups.limits(cluster ?? {}, group);
  }
}
