/**
 * The digests of the chain heads (src/audit/digest.ts, digester.ts) over the in-memory ports: what a table
 * writer can do to a trail, even one holding the audit key's MAC permission, and how the newest anchor shows
 * it; how the digests chain, race, recover from a crash half-way, and refuse what is not theirs.
 */
import { digestMessage, parseSignedDigest, type SignedDigest } from '../../src/audit/digest';
import { hashEvent, macMessage, type AuditEvent } from '../../src/audit/chain';
import { AuditDigester, DigestVerifier } from '../../src/audit/digester';
import { sha256 } from '../../src/util/canonical';
import { ALICE, submitBody } from '../support/config';
import { TestDigestSigner } from '../support/digests';
import { memoryGateway, type MemoryGateway } from '../support/memory-gateway';

let g: MemoryGateway;
beforeEach(() => {
  g = memoryGateway();
});

/** A job run to its end: DECISION, SUBMITTED, ..., COMPLETED. */
async function finishedJob(): Promise<string> {
  const { job } = await g.service.submit({ caller: { callerArn: ALICE }, body: submitBody() });
  await g.run(job.jobId);
  return job.jobId;
}

/** What someone with write access to the tables can do: cut the tail and move the job's head back to event `seq`. */
function rollBack(jobId: string, seq: number): void {
  const chain = g.audit.chains.get(jobId)!;
  g.audit.chains.set(jobId, chain.slice(0, seq + 1));
  const job = g.jobs.items.get(jobId)!;
  g.jobs.items.set(jobId, { ...job, auditSeq: seq, auditHash: chain[seq]!.hash });
}

const trailOf = async (jobId: string) => g.service.auditTrail({ callerArn: ALICE }, jobId);

describe('rollback: cut the tail and move the head back to an older, validly sealed state', () => {
  it('passes every check of the trail itself, and is caught by the newest anchor', async () => {
    const jobId = await finishedJob();
    const before = await trailOf(jobId);
    expect(before.events.length).toBeGreaterThanOrEqual(3);
    g.clock.advance(10);
    expect(await g.digester.run()).toMatchObject({ written: true, number: 1 });
    expect((await trailOf(jobId)).anchor).toMatchObject({ status: 'anchored', seq: before.head.seq, digest: { number: 1 } });

    rollBack(jobId, 1);
    const after = await trailOf(jobId);
    // The MACs, the links and the head all agree: without the digests this is a valid, shorter trail.
    expect(after.verification).toMatchObject({ ok: true, macs: 'verified' });
    expect(after.anchor).toMatchObject({ status: 'broken', seq: before.head.seq, problem: expect.stringMatching(/digest 1 .* recorded event \d+ as this chain's head, but the trail now ends at event 1: the chain was rolled back/) });
  });

  it('re-sealing the cut tail with the audit key (a thief of the MAC permission) shows as a rewrite', async () => {
    const jobId = await finishedJob();
    g.clock.advance(10);
    await g.digester.run();
    const chain = g.audit.chains.get(jobId)!;
    const last = chain.at(-1)!;
    const forged: AuditEvent = { ...last, detail: { ...(last.detail ?? {}), note: 'nothing happened here' } };
    forged.hash = hashEvent(forged);
    forged.mac = g.sealer.macOf(macMessage(forged.hash));
    g.audit.chains.set(jobId, [...chain.slice(0, -1), forged]);
    g.jobs.items.set(jobId, { ...g.jobs.items.get(jobId)!, auditHash: forged.hash });
    const after = await trailOf(jobId);
    expect(after.verification.ok).toBe(true);
    expect(after.anchor).toMatchObject({ status: 'broken', problem: expect.stringMatching(/with another hash: the chain was rewritten and sealed again/) });
  });

  it('moving only the head back, events kept, is caught too (by the head check, and by the anchor)', async () => {
    const jobId = await finishedJob();
    g.clock.advance(10);
    await g.digester.run();
    const chain = g.audit.chains.get(jobId)!;
    g.jobs.items.set(jobId, { ...g.jobs.items.get(jobId)!, auditSeq: 0, auditHash: chain[0]!.hash });
    const after = await trailOf(jobId);
    expect(after.verification.ok).toBe(false);
    expect(after.anchor).toMatchObject({ status: 'broken', problem: expect.stringMatching(/the job's head is at event 0: the head was moved back/) });
  });

  it('a chain no digest has had to record yet is pending; one a digest covers but does not anchor is reported', async () => {
    const { job } = await g.service.submit({ caller: { callerArn: ALICE }, body: submitBody() });
    expect((await trailOf(job.jobId)).anchor).toMatchObject({ status: 'pending', reason: 'no digest has been written yet' });
    g.clock.advance(10);
    await g.digester.run();
    // A job planted in the tables after the digests began (its events sealed by a thief of the MAC permission):
    const { job: planted } = await g.service.submit({ caller: { callerArn: ALICE }, body: submitBody({ name: 'planted' }) });
    expect((await trailOf(planted.jobId)).anchor).toMatchObject({ status: 'pending' });
    g.clock.advance(600);
    g.digestStore.anchors.delete(planted.jobId);
    await g.digester.run();
    g.digestStore.anchors.delete(planted.jobId); // as if the digester never saw it
    g.clock.advance(600);
    await g.digester.run();
    expect((await trailOf(planted.jobId)).anchor).toMatchObject({ status: 'broken', problem: expect.stringMatching(/no digest anchors this chain, though digest 3 covers changes up to/) });
  });
});

describe('the digests themselves', () => {
  const stored = (n: number): SignedDigest => JSON.parse(g.digestStore.digests.get(n)!) as SignedDigest;

  it('the first digest records every job; each next one the jobs changed since, chained by the previous signature, signed', async () => {
    const first = await finishedJob();
    g.clock.advance(120); // beyond the next window's overlap with this one
    expect(await g.digester.run()).toMatchObject({ written: true, number: 1, entries: 1, from: new Date(0).toISOString() });
    g.clock.advance(120);
    const second = await finishedJob();
    g.clock.advance(120);
    const run = await g.digester.run();
    expect(run).toMatchObject({ written: true, number: 2, entries: 1 });
    const [d1, d2] = [stored(1), stored(2)];
    expect(d2.digest.entries.map((e) => e.chainId)).toEqual([second]);
    expect(d1.digest.entries.map((e) => e.chainId)).toEqual([first]);
    expect(d2.digest.previous).toEqual({ number: 1, signatureSha256: sha256(d1.signature.value) });
    expect(Date.parse(d2.digest.from)).toBe(Date.parse(d1.digest.to) - 60_000); // the overlap
    expect(await g.digestSigner.verify(digestMessage(d2.digest), d2.signature)).toBe(true);
    expect(parseSignedDigest(d2)).toMatchObject({ ok: true });
    // Nothing changed: the next digest still comes (it shows the digester alive), with no entries.
    g.clock.advance(60);
    expect(await g.digester.run()).toMatchObject({ written: true, number: 3, entries: 0 });
  });

  it('two runs racing for the same number: one writes it, the other writes nothing', async () => {
    await finishedJob();
    g.clock.advance(10);
    const runs = await Promise.all([g.digester.run(), g.digester.run()]);
    expect(runs.filter((r) => r.written)).toHaveLength(1);
    expect(runs.find((r) => !r.written)).toMatchObject({ reason: 'another run wrote digest 1 first' });
    expect([...g.digestStore.digests.keys()]).toEqual([1]);
  });

  it('a run that crashed after its digest, before all anchors: the next run writes them first', async () => {
    const jobId = await finishedJob();
    g.clock.advance(10);
    g.digestStore.beforeAnchor = () => {
      throw new Error('killed');
    };
    await expect(g.digester.run()).rejects.toThrow('killed');
    expect(g.digestStore.digests.has(1)).toBe(true);
    expect(g.digestStore.complete.has(1)).toBe(false);
    g.digestStore.beforeAnchor = undefined;
    g.clock.advance(60);
    await g.digester.run();
    expect(g.digestStore.complete.has(1)).toBe(true);
    expect(await g.digestStore.latestAnchor(jobId)).toMatchObject({ number: 1 });
  });

  it('a planted "newest digest" (unsigned, or signed with another key) is never chained to, and reads as broken', async () => {
    const jobId = await finishedJob();
    g.clock.advance(10);
    await g.digester.run();
    const d1 = stored(1);
    const planted = { digest: { ...d1.digest, number: 2, previous: { number: 1, signatureSha256: sha256(d1.signature.value) }, entries: [] }, signature: new TestDigestSigner().signatureOf(digestMessage(d1.digest)) };
    g.digestStore.digests.set(2, JSON.stringify(planted));
    g.clock.advance(60);
    await expect(g.digester.run()).rejects.toThrow(/the newest digest \(number 2\) does not carry the digest key's signature/);
    expect((await trailOf(jobId)).anchor).toMatchObject({ status: 'broken', problem: expect.stringMatching(/does not carry the digest key's signature/) });
    g.digestStore.digests.set(2, '{"not": "a digest"}');
    expect((await trailOf(jobId)).anchor).toMatchObject({ status: 'broken', problem: expect.stringMatching(/the newest digest is not a digest/) });
  });

  it('an anchor planted with a higher seq than any digest recorded is reported as forged', async () => {
    const jobId = await finishedJob();
    g.clock.advance(10);
    await g.digester.run();
    await g.digestStore.putAnchor(jobId, { number: 1, seq: 99 });
    expect((await trailOf(jobId)).anchor).toMatchObject({ status: 'broken', problem: expect.stringMatching(/names digest 1, which does not record it: the anchor was forged/) });
  });

  it('verified digests are kept: reading a trail again costs no signature check (the newest digest and the anchor\'s are kept)', async () => {
    const jobId = await finishedJob();
    g.clock.advance(10);
    await g.digester.run();
    const verifier = new DigestVerifier(g.digestStore, g.digestSigner);
    await verifier.check({ chainId: jobId, events: g.audit.chains.get(jobId)!, head: { seq: g.jobs.items.get(jobId)!.auditSeq, hash: g.jobs.items.get(jobId)!.auditHash } });
    const calls = g.digestSigner.calls.verify;
    await verifier.check({ chainId: jobId, events: g.audit.chains.get(jobId)!, head: { seq: g.jobs.items.get(jobId)!.auditSeq, hash: g.jobs.items.get(jobId)!.auditHash } });
    expect(g.digestSigner.calls.verify - calls).toBe(0);
  });

  it('stored digests that are not digests are refused by shape, naming the problem', () => {
    expect(parseSignedDigest('text')).toMatchObject({ ok: false, problem: 'it is not a signed digest ({digest, signature})' });
    const good = { digest: { version: 1, number: 2, from: '2026-01-01T00:00:00.000Z', to: '2026-01-01T00:01:00.000Z', previous: { number: 1, signatureSha256: 'a'.repeat(64) }, entries: [] }, signature: { keyId: 'k', algorithm: 'ECDSA_SHA_256', value: 'c2ln' } };
    expect(parseSignedDigest(good)).toMatchObject({ ok: true });
    expect(parseSignedDigest({ ...good, digest: { ...good.digest, previous: null } })).toMatchObject({ ok: false, problem: 'digest 2 has no previous digest' });
    expect(parseSignedDigest({ ...good, digest: { ...good.digest, previous: { number: 5, signatureSha256: 'a'.repeat(64) } } })).toMatchObject({ ok: false });
    expect(parseSignedDigest({ ...good, digest: { ...good.digest, entries: [{ chainId: 'j', seq: -1, hash: 'x' }] } })).toMatchObject({ ok: false, problem: 'an entry is not {chainId, seq, hash}' });
    expect(parseSignedDigest({ ...good, digest: { ...good.digest, from: '2026-02-01T00:00:00.000Z' } })).toMatchObject({ ok: false });
  });
});

it('AuditDigester skips a run that comes before the previous digest is a settle time old', async () => {
  const digester = new AuditDigester({ heads: g.jobs, store: g.digestStore, signer: g.digestSigner, now: g.clock.now });
  await digester.run();
  expect(await digester.run()).toMatchObject({ written: false, reason: expect.stringMatching(/digest 1 already covers changes up to/) });
});

describe('the heads a digest records are stored records, untrusted', () => {
  it('a job planted with a malformed head or id is left out (and counted), and digests go on', async () => {
    const jobId = await finishedJob();
    const real = g.jobs.items.get(jobId)!;
    g.jobs.items.set('job-planted/../x', { ...real, jobId: 'job-planted/../x' });
    g.jobs.items.set('job-0000000000000000000000000a', { ...real, jobId: 'job-0000000000000000000000000a', auditHash: 'h'.repeat(64) });
    g.jobs.items.set('job-0000000000000000000000000b', { ...real, jobId: 'job-0000000000000000000000000b', auditSeq: -1 });
    g.clock.advance(10);
    expect(await g.digester.run()).toMatchObject({ written: true, number: 1, entries: 1, skipped: { count: 3 } });
    expect(await g.digestStore.latestAnchor(jobId)).toMatchObject({ number: 1 });
    g.clock.advance(60);
    expect(await g.digester.run()).toMatchObject({ written: true, number: 2 });
  });
});
