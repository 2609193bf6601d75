/**
 * GET /usage: the jobs that ended in [from, to], counted by final state with their step-seconds (EMR's step timeline,
 * every attempt's), grouped by principal, runtime role, cluster or a tag. Read from the usage index, a day's partition
 * at a time (no table scan), and only the jobs the caller may list (the decision GET /jobs makes of each). Bounded: a
 * range of at most MAX_USAGE_DAYS days, and at most MAX_USAGE_JOBS ended jobs read for one answer (a busier range is
 * a 400 asking for a shorter one, never a partial sum).
 */
import { ValidationError } from '../errors';
import type { JobRepository, UsageEntry } from './ports';

export const USAGE_GROUPINGS = ['principal', 'role', 'cluster'] as const;
export const MAX_USAGE_DAYS = 92;
export const MAX_USAGE_JOBS = 200_000;
const DEFAULT_DAYS = 7;
const DAY_MS = 86_400_000;
const TAG_KEY = /^tag:(.{1,128})$/su;

export interface UsageQuery {
  from?: string;
  to?: string;
  groupBy?: string;
}

export interface UsageCounts {
  jobs: number;
  byStatus: Record<string, number>;
  stepSeconds: number;
}

export interface UsageReport {
  from: string;
  to: string;
  groupBy: string;
  /** Each group: its key (null: the jobs without the tag), largest step-seconds first. */
  groups: (UsageCounts & { key: string | null })[];
  total: UsageCounts;
}

export interface UsageDeps {
  jobs: Pick<JobRepository, 'usage'>;
  /** Whether the caller may list this job (GET /jobs's decision). */
  visible: (entry: UsageEntry) => boolean;
  now: () => Date;
}

export async function usageReport(query: UsageQuery, deps: UsageDeps): Promise<UsageReport> {
  const groupBy = query.groupBy ?? 'principal';
  const tag = TAG_KEY.exec(groupBy)?.[1];
  if (!tag && !(USAGE_GROUPINGS as readonly string[]).includes(groupBy)) {
    throw ValidationError.single('groupBy', `must be one of ${USAGE_GROUPINGS.join(', ')} or tag:KEY (got ${JSON.stringify(groupBy.slice(0, 100))})`);
  }
  const to = query.to !== undefined ? time('to', query.to) : deps.now();
  const from = query.from !== undefined ? time('from', query.from) : new Date(to.getTime() - DEFAULT_DAYS * DAY_MS);
  if (to.getTime() < from.getTime()) throw ValidationError.single('to', `must not be before from (${from.toISOString()})`);
  if (to.getTime() - from.getTime() > MAX_USAGE_DAYS * DAY_MS) throw ValidationError.single('from', `the range is at most ${MAX_USAGE_DAYS} days: ask for a shorter one`);

  const keyOf = (e: UsageEntry): string | null =>
    tag !== undefined ? (e.tags && Object.hasOwn(e.tags, tag) ? e.tags[tag]! : null) : groupBy === 'role' ? e.executionRoleArn : groupBy === 'cluster' ? e.clusterId : e.principalArn;
  const groups = new Map<string | null, UsageCounts>();
  const total: UsageCounts = { jobs: 0, byStatus: {}, stepSeconds: 0 };
  let read = 0;
  const [fromIso, toIso] = [from.toISOString(), to.toISOString()];
  for (let day = new Date(fromIso.slice(0, 10)); day.getTime() <= to.getTime(); day = new Date(day.getTime() + DAY_MS)) {
    let cursor: string | undefined;
    do {
      const page = await deps.jobs.usage({ day: day.toISOString().slice(0, 10), from: fromIso, to: toIso, ...(cursor !== undefined ? { cursor } : {}) });
      read += page.entries.length;
      if (read > MAX_USAGE_JOBS) throw ValidationError.single('from', `more than ${MAX_USAGE_JOBS} jobs ended in this range: ask for a shorter one`);
      for (const entry of page.entries) {
        if (!deps.visible(entry)) continue;
        const key = keyOf(entry);
        const counts = groups.get(key) ?? { jobs: 0, byStatus: {}, stepSeconds: 0 };
        for (const c of [counts, total]) {
          c.jobs += 1;
          c.byStatus[entry.status] = (c.byStatus[entry.status] ?? 0) + 1;
          c.stepSeconds += entry.stepSeconds ?? 0;
        }
        groups.set(key, counts);
      }
      cursor = page.cursor;
    } while (cursor !== undefined);
  }
  const sorted = [...groups].map(([key, counts]) => ({ key, ...counts })).sort((a, b) => b.stepSeconds - a.stepSeconds || b.jobs - a.jobs || String(a.key).localeCompare(String(b.key)));
  return { from: fromIso, to: toIso, groupBy, groups: sorted, total };
}

function time(field: string, text: string): Date {
  const date = new Date(text);
  if (Number.isNaN(date.getTime())) throw ValidationError.single(field, `must be an ISO 8601 time or day (got ${JSON.stringify(text.slice(0, 100))})`);
  return date;
}
