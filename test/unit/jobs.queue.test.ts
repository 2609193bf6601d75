/** Admission's rules (src/jobs/queue.ts): groups, limits, and the order in which queued jobs start. */
import fc from 'fast-check';
import { admissionOrder, DEFAULT_GROUP, nextToAdmit, queueFullProblem, QuotaGroups, type AdmissionLimits, type ClusterQueue } from '../../src/jobs/queue';

const ACCOUNT = '123456789012';
const roleArn = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;
const at = (s: number) => new Date(Date.UTC(2026, 11, 3, 12, 0, s)).toISOString();
const unlimited = (clusterActive: number, groupActive = Infinity): AdmissionLimits => ({ clusterActive, clusterQueued: 1000, groupActive, groupQueued: Infinity });

function queue(active: [string, string][], queued: [string, string, number, number][]): ClusterQueue {
  return {
    clusterId: 'j-1',
    active: Object.fromEntries(active.map(([id, group], i) => [id, { group, at: at(i) }])),
    queued: Object.fromEntries(queued.map(([id, group, priority, s]) => [id, { group, priority, at: at(s) }])),
  };
}

describe('QuotaGroups', () => {
  const groups = new QuotaGroups([
    { name: 'etl', match: roleArn('Etl*') },
    { name: 'science', match: [roleArn('Science'), roleArn('Research')], maxActiveJobs: 3, maxQueuedJobs: 7 },
    { name: 'catch-etl', match: roleArn('EtlNightly') },
  ]);

  it('puts a principal in the first quota that matches it, and anyone else in the default group', () => {
    expect(groups.groupOf(roleArn('EtlNightly'))).toBe('etl');
    expect(groups.groupOf(roleArn('Research'))).toBe('science');
    expect(groups.groupOf(roleArn('Marketing'))).toBe(DEFAULT_GROUP);
    // ArnLike, not a prefix: another account's role of the same name is no member.
    expect(groups.groupOf('arn:aws:iam::999999999999:role/Science')).toBe(DEFAULT_GROUP);
  });

  it("gives a group its quota's limits within the cluster's, and the default group the cluster's alone", () => {
    expect(groups.limits({ maxActiveJobs: 10, maxQueuedJobs: 50 }, 'science')).toEqual({ clusterActive: 10, clusterQueued: 50, groupActive: 3, groupQueued: 7 });
    expect(groups.limits({}, DEFAULT_GROUP)).toEqual({ clusterActive: 200, clusterQueued: 1000, groupActive: Infinity, groupQueued: Infinity });
  });
});

describe('admission order', () => {
  it('starts the group with the fewest active jobs first, then by priority, then the oldest', () => {
    const q = queue(
      [['a1', 'a'], ['a2', 'a'], ['b1', 'b']],
      [['a3', 'a', 9, 1], ['b2', 'b', 1, 2], ['c1', 'c', 1, 5], ['c2', 'c', 5, 6], ['b3', 'b', 9, 3]],
    );
    // c has none active: its best (priority 5) first; then b and c have one each, b's best is priority 9; ...
    expect(admissionOrder(q, () => unlimited(100)).order).toEqual(['c2', 'b3', 'c1', 'a3', 'b2']);
  });

  it('admits nobody while the cluster is at capacity, and skips a group at its own limit', () => {
    const q = queue([['a1', 'a'], ['b1', 'b']], [['a2', 'a', 9, 1], ['b2', 'b', 0, 2]]);
    expect(nextToAdmit(q, () => unlimited(2))).toBeUndefined();
    const limits = (group: string) => unlimited(3, group === 'a' ? 1 : Infinity);
    expect(nextToAdmit(q, limits)).toBe('b2');
    expect(admissionOrder(q, limits)).toEqual({ order: ['b2', 'a2'], admitNow: 1 });
  });

  it('says which queue is full', () => {
    const q = queue([], [['a1', 'a', 5, 1], ['a2', 'a', 5, 2]]);
    expect(queueFullProblem(q, 'a', { clusterActive: 1, clusterQueued: 2, groupActive: 1, groupQueued: 5 })).toMatch(/queue of j-1 is full \(2 of 2/);
    expect(queueFullProblem(q, 'a', { clusterActive: 1, clusterQueued: 9, groupActive: 1, groupQueued: 2 })).toMatch(/queue of group a on j-1 is full/);
    expect(queueFullProblem(q, 'b', { clusterActive: 1, clusterQueued: 9, groupActive: 1, groupQueued: 2 })).toBeUndefined();
  });

  const groupName = fc.constantFrom('a', 'b', 'c', 'default');
  const arbitraryQueue = fc
    .record({
      active: fc.array(groupName, { maxLength: 12 }),
      queued: fc.array(fc.record({ group: groupName, priority: fc.integer({ min: 0, max: 9 }), s: fc.integer({ min: 0, max: 59 }) }), { maxLength: 30 }),
    })
    .map(({ active, queued }) => queue(active.map((g, i) => [`x${i}`, g]), queued.map((e, i) => [`q${String(i).padStart(2, '0')}`, e.group, e.priority, e.s])));
  const arbitraryLimits = fc.record({ capacity: fc.integer({ min: 1, max: 20 }), groupCap: fc.record({ a: fc.integer({ min: 1, max: 10 }), b: fc.constant(Infinity), c: fc.integer({ min: 1, max: 10 }), default: fc.constant(Infinity) }) });

  it('orders every queued job once, admits within both limits, and keeps each group by priority then age (property)', () => {
    fc.assert(
      fc.property(arbitraryQueue, arbitraryLimits, (q, { capacity, groupCap }) => {
        const limitsOf = (group: string) => unlimited(capacity, groupCap[group as keyof typeof groupCap]);
        const { order, admitNow } = admissionOrder(q, limitsOf);
        expect([...order].sort()).toEqual(Object.keys(q.queued).sort());
        // Admitting the first admitNow jobs keeps the cluster and each group within their limits.
        const active = Object.keys(q.active).length;
        expect(active + admitNow <= capacity || admitNow === 0).toBe(true);
        const counts = new Map<string, number>();
        for (const entry of Object.values(q.active)) counts.set(entry.group, (counts.get(entry.group) ?? 0) + 1);
        for (const id of order.slice(0, admitNow)) {
          const { group } = q.queued[id]!;
          counts.set(group, (counts.get(group) ?? 0) + 1);
          expect(counts.get(group)!).toBeLessThanOrEqual(limitsOf(group).groupActive);
        }
        // Within a group: priority never rises along the order, and equal priorities go oldest first.
        for (const group of ['a', 'b', 'c', 'default']) {
          const mine = order.map((id) => q.queued[id]!).filter((e) => e.group === group);
          mine.forEach((e, i) => {
            const previous = mine[i - 1];
            if (previous) expect(previous.priority > e.priority || (previous.priority === e.priority && previous.at <= e.at)).toBe(true);
          });
        }
        // admitNow is as many as fit: the next one would break a limit (the cluster's, or its group's: groups at their
        // limit come last, so then every group still waiting is at its limit).
        if (admitNow < order.length) {
          const { group } = q.queued[order[admitNow]!]!;
          expect(active + admitNow >= capacity || (counts.get(group) ?? 0) >= limitsOf(group).groupActive).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('shares slots equally between groups that all wait (no group starves, none gets more than one slot ahead)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 3, max: 30 }), fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 60, maxLength: 60 }), (capacity, priorities) => {
        // Three groups, 20 queued each with random priorities, nothing active: the first `capacity` admitted.
        const q = queue([], priorities.map((p, i) => [`q${String(i).padStart(2, '0')}`, ['a', 'b', 'c'][i % 3]!, p, i]));
        const { order, admitNow } = admissionOrder(q, () => unlimited(capacity));
        expect(admitNow).toBe(Math.min(capacity, 60));
        const shares = ['a', 'b', 'c'].map((g) => order.slice(0, admitNow).filter((id) => q.queued[id]!.group === g).length);
        expect(Math.max(...shares) - Math.min(...shares)).toBeLessThanOrEqual(1);
      }),
    );
  });
});
