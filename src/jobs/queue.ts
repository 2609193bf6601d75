/**
 * Admission on a shared cluster: how many of the gateway's jobs may be active on it at once (its capacity), how many
 * per principal group (quotas), and in which order queued jobs start. Pure functions of the cluster's admission
 * record (ports.ts ClusterQueue), so that the order, the fairness and the limits are tested apart from any store.
 *
 * The order in which queued jobs start, one free slot at a time:
 * - between groups, fair: the group with the fewest active jobs on the cluster goes first (among those with a job
 *   queued and below their own maxActiveJobs), so every group gets an equal share of the capacity; groups tied on
 *   that take turns (the one whose last admission is oldest first), so none starves even at a capacity of one,
 *   whatever priorities the others ask for; then the group whose best job has the higher priority, then the oldest;
 * - within a group, by priority (9 first), then in submission order.
 */
import { globMatcher } from '../authz/pattern';

/** A configured quota (config `quotas[]`), as far as admission reads it. */
export interface Quota {
  name: string;
  /** ArnLike pattern(s) on the job's owner principal. */
  match: string | readonly string[];
  maxActiveJobs?: number;
  maxQueuedJobs?: number;
}

/** A job's place among the cluster's active jobs. */
export interface ActiveEntry {
  group: string;
  /** When it took the slot. */
  at: string;
}

/** A job waiting for a slot. */
export interface QueuedEntry {
  group: string;
  priority: number;
  /** When it was queued: the order within a priority. */
  at: string;
}

/** A cluster's admission record: its active and queued jobs by id. */
export interface ClusterQueue {
  clusterId: string;
  active: Record<string, ActiveEntry>;
  queued: Record<string, QueuedEntry>;
  /** When each group last had a job admitted (absent: never): groups tied on active jobs take turns by it. */
  lastAdmitted?: Record<string, string>;
}

/** The limits that apply to one group on one cluster. */
export interface AdmissionLimits {
  /** The cluster's capacity: its active jobs of all groups. */
  clusterActive: number;
  clusterQueued: number;
  /** The group's own limits (Infinity: none). */
  groupActive: number;
  groupQueued: number;
}

export const PRIORITY = { min: 0, max: 9, default: 5 } as const;
/** Not in any quota: no limits of its own, only the cluster's. */
export const DEFAULT_GROUP = 'default';
export const DEFAULT_MAX_ACTIVE_JOBS = 200;
export const DEFAULT_MAX_QUEUED_JOBS = 1000;
/** What a caller refused by a full queue is told to wait before trying again. */
export const QUEUE_FULL_RETRY_AFTER_SECONDS = 30;

/** The group a job's owner counts against: the first quota whose `match` (ArnLike) holds for the principal. */
export class QuotaGroups {
  private readonly matchers: { quota: Quota; matches: (arn: string) => boolean }[];

  constructor(private readonly quotas: readonly Quota[]) {
    this.matchers = quotas.map((quota) => {
      const sources: readonly string[] = typeof quota.match === 'string' ? [quota.match] : quota.match;
      const patterns = sources.map((p) => globMatcher(p));
      return { quota, matches: (arn: string) => patterns.some((m) => m(arn)) };
    });
  }

  groupOf(principalArn: string): string {
    return this.matchers.find((m) => m.matches(principalArn))?.quota.name ?? DEFAULT_GROUP;
  }

  limits(cluster: { maxActiveJobs?: number; maxQueuedJobs?: number }, group: string): AdmissionLimits {
    const quota = this.quotas.find((q) => q.name === group);
    const clusterActive = cluster.maxActiveJobs ?? DEFAULT_MAX_ACTIVE_JOBS;
    const clusterQueued = cluster.maxQueuedJobs ?? DEFAULT_MAX_QUEUED_JOBS;
    return { clusterActive, clusterQueued, groupActive: quota?.maxActiveJobs ?? Infinity, groupQueued: quota?.maxQueuedJobs ?? Infinity };
  }
}

/** Jobs per group in a map of entries. */
export function countByGroup(entries: Record<string, { group: string }>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const entry of Object.values(entries)) counts.set(entry.group, (counts.get(entry.group) ?? 0) + 1);
  return counts;
}

/** Priority first (higher), then older, then the job id (ids are time-ordered), so every reader sees one order. */
function before(a: [string, QueuedEntry], b: [string, QueuedEntry]): number {
  return b[1].priority - a[1].priority || (a[1].at < b[1].at ? -1 : a[1].at > b[1].at ? 1 : 0) || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);
}

/**
 * The queued jobs in the order they would start, as far as the limits let them start now (`admitNow` of them), and
 * the rest after them in the order they would follow if every group's slots freed evenly: what GET /queues shows.
 */
export function admissionOrder(queue: ClusterQueue, limitsOf: (group: string) => AdmissionLimits): { order: string[]; admitNow: number } {
  const byGroup = new Map<string, [string, QueuedEntry][]>();
  for (const entry of Object.entries(queue.queued)) {
    const list = byGroup.get(entry[1].group) ?? [];
    list.push(entry);
    byGroup.set(entry[1].group, list);
  }
  for (const list of byGroup.values()) list.sort(before);
  const active = countByGroup(queue.active);
  // Turns: a group's last admission ('' for never), then, in this estimate, the order of the admissions it simulates.
  const turn = new Map<string, string>(Object.entries(queue.lastAdmitted ?? {}));
  let total = Object.keys(queue.active).length;
  const order: string[] = [];
  let admitNow = 0;
  let blocked = false;
  let step = 0;
  while (byGroup.size) {
    // The group to go next: fewest active, then whose turn it is, then its best job first.
    let best: { group: string; head: [string, QueuedEntry]; rank: number; turn: string } | undefined;
    for (const [group, list] of byGroup) {
      const count = active.get(group) ?? 0;
      // A group at its own limit waits (in the estimate, after everyone else) unless nothing else is queued.
      const capped = count >= limitsOf(group).groupActive;
      const rank = capped ? Number.MAX_SAFE_INTEGER - 1 + count : count;
      const last = turn.get(group) ?? '';
      const better = !best || rank < best.rank || (rank === best.rank && (last < best.turn || (last === best.turn && before(list[0]!, best.head) < 0)));
      if (better) best = { group, head: list[0]!, rank, turn: last };
    }
    const { group, head } = best!;
    // Later than any time of the record: '~' sorts after every ISO time.
    turn.set(group, `~${String(step++).padStart(6, '0')}`);
    const limits = limitsOf(group);
    const count = active.get(group) ?? 0;
    if (!blocked && total < limits.clusterActive && count < limits.groupActive) admitNow++;
    else blocked = true;
    order.push(head[0]);
    active.set(group, count + 1);
    total++;
    const list = byGroup.get(group)!;
    list.shift();
    if (!list.length) byGroup.delete(group);
  }
  return { order, admitNow };
}

/** The next queued job that may take a free slot now, or undefined (capacity full, or every queued group at its limit). */
export function nextToAdmit(queue: ClusterQueue, limitsOf: (group: string) => AdmissionLimits): string | undefined {
  const { order, admitNow } = admissionOrder(queue, limitsOf);
  return admitNow > 0 ? order[0] : undefined;
}

/** Why a job cannot be queued (a full cluster or group queue), or undefined. */
export function queueFullProblem(queue: ClusterQueue, group: string, limits: AdmissionLimits): string | undefined {
  const queued = Object.keys(queue.queued).length;
  if (queued >= limits.clusterQueued) return `the queue of ${queue.clusterId} is full (${queued} of ${limits.clusterQueued} jobs waiting)`;
  const ofGroup = countByGroup(queue.queued).get(group) ?? 0;
  if (ofGroup >= limits.groupQueued) return `the queue of group ${group} on ${queue.clusterId} is full (${ofGroup} of ${limits.groupQueued} jobs waiting)`;
  return undefined;
}
