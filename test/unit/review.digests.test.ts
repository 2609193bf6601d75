/**
 * Review of the audit digests (issue 10), over the in-memory ports: attacks by someone who can write the jobs
 * table, and what the digester and the verifier make of them.
 * - heads a table writer planted that are not heads (a hash that is not one, a seq that is not a count): the
 *   digester must not sign a digest its own parser refuses (that would stop every later digest and break every
 *   job's check, for the bucket's whole retention);
 * - a job kept out of the digests after its first anchor (its updatedAt rewritten): its newer head, long covered
 *   by the digests, must not read `anchored` on its old anchor;
 * - a digester that was down for long: one run must not need a Query per shard and hour of the whole outage;
 * - a legitimate job whose record came long after its DECISION (a retry with the same Idempotency-Key).
 */
import { parseSignedDigest } from '../../src/audit/digest';
import { AuditDigester, type HeadSource } from '../../src/audit/digester';
import { headChangesKeys } from '../../src/adapters/dynamodb/tables';
import { TransientError } from '../../src/errors';
import type { Job } from '../../src/jobs/model';
import { ALICE, submitBody } from '../support/config';
import { memoryGateway, type MemoryGateway } from '../support/memory-gateway';

let g: MemoryGateway;
beforeEach(() => {
  g = memoryGateway();
});

const trailOf = async (jobId: string) => g.service.auditTrail({ callerArn: ALICE }, jobId);

async function finishedJob(name = 'reviewed'): Promise<string> {
  const { job } = await g.service.submit({ caller: { callerArn: ALICE }, body: submitBody({ name }) });
  await g.run(job.jobId);
  return job.jobId;
}

/** A job item written straight into the table, as someone with write access to it could. */
function plant(jobId: string, head: { seq: unknown; hash: unknown }): void {
  const model = [...g.jobs.items.values()][0]!;
  g.jobs.items.set(jobId, { ...model, jobId, auditSeq: head.seq, auditHash: head.hash, updatedAt: g.clock.now().toISOString() } as unknown as Job);
}

describe('review: a planted head that is not a head does not stop the digests', () => {
  it.each([
    ['a hash that is not a SHA-256', { seq: 0, hash: 'not-a-hash' }],
    ['a seq that is not a count', { seq: 1.5, hash: 'a'.repeat(64) }],
    ['a negative seq', { seq: -1, hash: 'a'.repeat(64) }],
  ])('%s: the digests go on, and an honest job stays anchored', async (_what, head) => {
    const honest = await finishedJob();
    plant('job-planted', head);
    g.clock.advance(10);
    const first = await g.digester.run();
    expect(first).toMatchObject({ written: true });
    g.clock.advance(60);
    // Were the planted head signed into digest 1, digest 1 would be "not a digest" to every later run and read:
    // the digests would stop, and every job would read broken, for as long as the bucket keeps digest 1.
    expect((await trailOf(honest)).anchor).toMatchObject({ status: 'anchored' });
    await expect(g.digester.run()).resolves.toMatchObject({ written: true });
    // Every digest the digester signs is one its own parser accepts.
    for (const text of g.digestStore.digests.values()) expect(parseSignedDigest(JSON.parse(text))).toMatchObject({ ok: true });
  });
});

describe('review: a job kept out of the digests after its first anchor', () => {
  it('reads broken once the digests cover its newer head, not anchored on its old anchor', async () => {
    const { job } = await g.service.submit({ caller: { callerArn: ALICE }, body: submitBody() });
    g.clock.advance(10);
    await g.digester.run();
    expect((await trailOf(job.jobId)).anchor).toMatchObject({ status: 'anchored', seq: 0 });
    await g.run(job.jobId); // SUBMITTED ... COMPLETED: the head moves on
    // The table writer hides the job from the head-changes index (in DynamoDB: updatedAt / updateHour rewritten).
    const item = g.jobs.items.get(job.jobId)!;
    expect(item.auditSeq).toBeGreaterThan(0);
    g.jobs.items.set(job.jobId, { ...item, updatedAt: '2000-01-01T00:00:00.000Z' });
    for (let i = 0; i < 3; i++) {
      g.clock.advance(600);
      await g.digester.run();
    }
    // Twenty minutes of digests have covered the COMPLETED event; none recorded it. Left so, the tail can be cut
    // at leisure back to event 0 and still read "anchored".
    expect((await trailOf(job.jobId)).anchor).toMatchObject({ status: 'broken', seq: item.auditSeq });
  });

  it('a head still in flight to its digest (moved within the lag) is not reported', async () => {
    const { job } = await g.service.submit({ caller: { callerArn: ALICE }, body: submitBody() });
    g.clock.advance(10);
    await g.digester.run();
    await g.run(job.jobId);
    g.clock.advance(10);
    expect((await trailOf(job.jobId)).anchor).toMatchObject({ status: 'anchored', seq: 0 });
    g.clock.advance(60);
    await g.digester.run();
    expect((await trailOf(job.jobId)).anchor).toMatchObject({ status: 'anchored', seq: g.jobs.items.get(job.jobId)!.auditSeq });
  });
});

describe('review: a digester that was down for long', () => {
  it('catches up in bounded runs: no run asks the index for more than a week of hours', async () => {
    await finishedJob();
    g.clock.advance(10);
    await g.digester.run();
    const windows: { from?: Date; to: Date }[] = [];
    const heads: HeadSource = { changedHeads: (w) => (windows.push(w), g.jobs.changedHeads(w)) };
    const digester = new AuditDigester({ heads, store: g.digestStore, signer: g.digestSigner, now: g.clock.now });
    g.clock.advance(365 * 86_400); // a year without digests (a disabled schedule, a broken permission)
    const run = await digester.run();
    expect(run).toMatchObject({ written: true });
    const [window] = windows;
    // 8 shards x 24 hours x 365 days = 70,080 Queries in one Lambda run of at most 300 s: it never finishes.
    expect(headChangesKeys(window!.from!, window!.to).length).toBeLessThanOrEqual(8 * 24 * 8);
    // ... and the runs that follow get there.
    for (let i = 0; i < 60 && windows.at(-1)!.to.getTime() < g.clock.now().getTime() - 60_000; i++) await digester.run();
    expect(windows.at(-1)!.to.getTime()).toBeGreaterThan(g.clock.now().getTime() - 60_000);
  });
});

describe('review: false alarms', () => {
  // Not fixed (a trade-off, see the report): the check trusts the events' sealed times, not the job's updatedAt,
  // which a table writer sets. It clears at the next digest.
  it.failing('a job created by a retry long after its DECISION (same Idempotency-Key) is not reported broken', async () => {
    const create = g.jobs.create.bind(g.jobs);
    let failures = 1;
    g.jobs.create = async (job) => {
      if (failures-- > 0) throw new TransientError('DynamoDB PutItem: throttled');
      return create(job);
    };
    const submit = () => g.service.submit({ caller: { callerArn: ALICE }, body: submitBody(), idempotencyKey: 'retry-me' });
    await expect(submit()).rejects.toThrow(TransientError);
    g.clock.advance(900);
    await g.digester.run(); // covers the DECISION's time; the job does not exist yet
    const { job } = await submit(); // the retry the CLI suggests
    expect((await trailOf(job.jobId)).anchor.status).not.toBe('broken');
  });
});

describe('review: a digester that crashed after writing a digest, before its anchors', () => {
  /** The run dies at its anchors; none of them is written until `revive` (the next run's turn). */
  const crashDuringAnchors = async () => {
    g.digestStore.beforeAnchor = () => {
      throw new Error('killed');
    };
    await expect(g.digester.run()).rejects.toThrow('killed');
  };
  const revive = () => {
    g.digestStore.beforeAnchor = undefined;
  };

  it('a job that digest records for the first time is not reported broken until the next run writes its anchor', async () => {
    await finishedJob('before');
    g.clock.advance(10);
    await g.digester.run();
    const jobId = await finishedJob('after'); // no anchor yet
    g.clock.advance(600);
    await crashDuringAnchors(); // digest 2 records it, its anchor is not written
    expect((await trailOf(jobId)).anchor.status).not.toBe('broken');
    revive();
    g.clock.advance(60);
    await g.digester.run(); // finishes digest 2's anchors first
    expect((await trailOf(jobId)).anchor).toMatchObject({ status: 'anchored', digest: { number: 2 } });
  });

  it('a job whose newer head that digest records is not reported broken either', async () => {
    const { job } = await g.service.submit({ caller: { callerArn: ALICE }, body: submitBody() });
    g.clock.advance(10);
    await g.digester.run(); // anchors event 0
    await g.run(job.jobId);
    g.clock.advance(600);
    await crashDuringAnchors();
    expect((await trailOf(job.jobId)).anchor.status).not.toBe('broken');
    revive();
  });
});
