/** GET /usage's domain (src/jobs/usage.ts) over a fake index, and the step-seconds a job's end records (journal.ts). */
import { ValidationError } from '../../src/errors';
import { endedBy } from '../../src/jobs/journal';
import type { AuditEvent } from '../../src/audit/chain';
import type { Job } from '../../src/jobs/model';
import type { UsageEntry, UsageQuery } from '../../src/jobs/ports';
import { MAX_USAGE_JOBS, usageReport } from '../../src/jobs/usage';

const NOW = new Date('2026-12-03T12:00:00Z');
const entry = (n: number, over: Partial<UsageEntry> = {}): UsageEntry => ({
  jobId: `job-${n}`, status: 'COMPLETED', principalArn: 'arn:aws:iam::123456789012:role/A', clusterId: 'j-1', executionRoleArn: 'arn:aws:iam::123456789012:role/R', finishedAt: '2026-12-02T10:00:00.000Z', stepSeconds: 10, ...over,
});

/** An index of `entries`, a page of `pageSize`, recording the days asked for. */
function index(entries: UsageEntry[], pageSize = 2) {
  const days: string[] = [];
  return {
    days,
    usage: (q: UsageQuery) => {
      days.push(q.day);
      const on = entries.filter((e) => e.finishedAt.slice(0, 10) === q.day && e.finishedAt >= q.from && e.finishedAt <= q.to);
      const start = q.cursor === undefined ? 0 : Number(q.cursor);
      const page = on.slice(start, start + pageSize);
      return Promise.resolve({ entries: page, ...(start + pageSize < on.length ? { cursor: String(start + pageSize) } : {}) });
    },
  };
}

it('groups what the caller may list, reads each day of the range in pages, and sorts by step-seconds', async () => {
  const entries = [
    entry(1), entry(2, { status: 'FAILED', stepSeconds: 5 }), entry(3, { principalArn: 'arn:aws:iam::123456789012:role/B', stepSeconds: 100 }),
    entry(4, { finishedAt: '2026-12-03T01:00:00.000Z', tags: { team: 'x' } }), entry(5, { principalArn: 'arn:aws:iam::123456789012:role/Hidden' }),
  ];
  const jobs = index(entries);
  const report = await usageReport({ from: '2026-12-01T00:00:00Z' }, { jobs, visible: (e) => !e.principalArn.endsWith('Hidden'), now: () => NOW });
  expect(jobs.days).toEqual(['2026-12-01', '2026-12-02', '2026-12-02', '2026-12-03']);
  expect(report.groups).toEqual([
    { key: 'arn:aws:iam::123456789012:role/B', jobs: 1, byStatus: { COMPLETED: 1 }, stepSeconds: 100 },
    { key: 'arn:aws:iam::123456789012:role/A', jobs: 3, byStatus: { COMPLETED: 2, FAILED: 1 }, stepSeconds: 25 },
  ]);
  expect(report.total).toEqual({ jobs: 4, byStatus: { COMPLETED: 3, FAILED: 1 }, stepSeconds: 125 });
  const byTag = await usageReport({ from: '2026-12-01T00:00:00Z', groupBy: 'tag:team' }, { jobs, visible: () => true, now: () => NOW });
  expect(byTag.groups.map((g) => [g.key, g.jobs])).toEqual([[null, 4], ['x', 1]]);
  // A tag named like an Object member is a tag, not the prototype's.
  const proto = await usageReport({ from: '2026-12-01T00:00:00Z', groupBy: 'tag:constructor' }, { jobs, visible: () => true, now: () => NOW });
  expect(proto.groups.map((g) => g.key)).toEqual([null]);
});

it('defaults to the last 7 days; refuses bad groupings and ranges, and a range that holds more than it may read', async () => {
  expect(await usageReport({}, { jobs: index([]), visible: () => true, now: () => NOW })).toMatchObject({ from: '2026-11-26T12:00:00.000Z', to: NOW.toISOString(), groupBy: 'principal' });
  const refused = async (query: Record<string, string>) => {
    try {
      await usageReport(query, { jobs: index([]), visible: () => true, now: () => NOW });
    } catch (error) {
      return (error as ValidationError).issues[0]!.field;
    }
    throw new Error('expected a refusal');
  };
  expect(await refused({ groupBy: 'team' })).toBe('groupBy');
  expect(await refused({ groupBy: 'tag:' })).toBe('groupBy');
  expect(await refused({ from: 'soon' })).toBe('from');
  expect(await refused({ from: '2026-12-02', to: '2026-12-01' })).toBe('to');
  expect(await refused({ from: '2026-01-01', to: '2026-12-01' })).toBe('from');
  const busy = { usage: () => Promise.resolve({ entries: Array.from({ length: MAX_USAGE_JOBS + 1 }, (_, i) => entry(i)) }) };
  await expect(usageReport({ from: '2026-12-02', to: '2026-12-02T23:00:00Z' }, { jobs: busy, visible: () => true, now: () => NOW })).rejects.toBeInstanceOf(ValidationError);
});

it("a job's end records its step-seconds: the last step's by EMR's timeline, and every earlier attempt's", () => {
  const job = { status: 'RUNNING', attempts: [{ attempt: 1, stepId: 's-1', state: 'FAILED', endedAt: 'x', stepSeconds: 30 }] } as unknown as Job;
  const end = (emr: Record<string, unknown>) => ({ type: 'COMPLETED', at: '2026-12-03T00:00:00.000Z', emr }) as unknown as AuditEvent;
  expect(endedBy(job, end({ state: 'COMPLETED', timeline: { startedAt: '2026-12-02T23:59:00.000Z', endedAt: '2026-12-02T23:59:12.400Z' } }))).toMatchObject({ stepSeconds: 42 });
  // No timeline (a step cancelled while PENDING, a gateway failure): the earlier attempts' only; none at all without them.
  expect(endedBy(job, end({ state: 'CANCELLED' }))).toMatchObject({ stepSeconds: 30 });
  expect(endedBy({ status: 'RUNNING' } as Job, end({ state: 'CANCELLED' }))).not.toHaveProperty('stepSeconds');
  // A timeline that is not one (an event read back): no seconds from it.
  expect(endedBy({ status: 'RUNNING' } as Job, end({ timeline: { startedAt: 5, endedAt: 'x' } }))).not.toHaveProperty('stepSeconds');
});
