/**
 * The audit chain, pure (verifyChain) and with its MACs (verifyTrail): chains sealed in memory with a test
 * audit key, then tampered with as someone who can write the table but not use the key would (edit, delete,
 * append, re-seal with plain SHA-256, move the head), and as a crashed writer leaves them (one event beyond
 * the head). The store's side: integration/audit.test.ts; the attacks through the API and the CLI:
 * cli/audit-tamper.test.ts.
 */
import { genesisHash, hashEvent, IN_FLIGHT_SECONDS, macMessage, sealEvent, verifyChain, type AuditEvent, type ChainHead } from '../../src/audit/chain';
import { verifyTrail } from '../../src/audit/verify';
import { TestSealer } from '../support/sealer';

const JOB = 'job-0123456789abcdefghjkmnpqrs';
const T0 = Date.parse('2026-11-28T12:00:00.000Z');
const draft = (type: string, dedupeKey = type) => ({ type, dedupeKey, actor: { principalArn: 'arn:aws:iam::123456789012:role/A' } });

let key: TestSealer;
beforeEach(() => {
  key = new TestSealer();
});

/** n events sealed one after the other, as the audit store appends them, one second apart from T0; event 0 a DECISION. */
async function chainOf(n: number, jobId = JOB, sealer = key): Promise<AuditEvent[]> {
  const events: AuditEvent[] = [];
  for (let i = 0; i < n; i++) {
    events.push(await sealEvent(sealer, draft(i === 0 ? 'DECISION' : `E${i}`), jobId, i, events.at(-1)?.hash ?? genesisHash(jobId), new Date(T0 + i * 1000).toISOString()));
  }
  return events;
}
const headOf = (e: AuditEvent): ChainHead => ({ seq: e.seq, hash: e.hash });
/** The options a job's verification uses: its head, a DECISION first, now. */
const asJob = (head: ChainHead, now = new Date(T0 + 60_000)) => ({ head, firstType: 'DECISION', now });

/** Events from `from` on rewritten with plain SHA-256 (the public recipe, no key), each linked to the one before. */
function reseal(events: AuditEvent[], from: number, edit: (e: AuditEvent) => AuditEvent = (e) => e): AuditEvent[] {
  const out = events.slice(0, from);
  for (const original of events.slice(from)) {
    const { hash: _old, ...rest } = { ...edit(original), prevHash: out.at(-1)?.hash ?? genesisHash(JOB) };
    out.push({ ...rest, hash: hashEvent(rest) });
  }
  return out;
}
const unsealed = ({ mac: _m, keyId: _k, ...e }: AuditEvent): AuditEvent => e;

describe('sealEvent', () => {
  it("hashes the event without its seal, then MACs the hash with the audit key; the hash covers every other field", async () => {
    const [e] = await chainOf(1);
    expect(e).toMatchObject({ jobId: JOB, seq: 0, prevHash: genesisHash(JOB), keyId: key.keyId, mac: key.macOf(macMessage(e!.hash)) });
    expect(e!.hash).toBe(hashEvent(unsealed(e!)));
    expect(hashEvent({ ...e!, mac: 'x', keyId: 'y' })).toBe(e!.hash);
    expect(hashEvent({ ...e!, at: '2026-11-28T12:00:01.000Z' })).not.toBe(e!.hash);
    // KMS MACs at most 4096 bytes: the MAC covers the hash, whatever the event's size.
    expect(macMessage(e!.hash).length).toBeLessThan(100);
  });
});

describe('verifyChain and verifyTrail', () => {
  it('accept a sealed chain from the genesis of its job, head at its end; the MACs verified only with the key', async () => {
    const events = await chainOf(3);
    expect(verifyChain(JOB, events, asJob(headOf(events[2]!)))).toEqual({ ok: true, events: 3, head: events[2]!.hash, macs: 'unchecked' });
    expect(await verifyTrail(key, JOB, events, asJob(headOf(events[2]!)))).toEqual({ ok: true, events: 3, head: events[2]!.hash, macs: 'verified' });
    expect(key.calls.verify).toBe(3);
    // A chain without a head (a schedule's or trigger's) and without a first type may be empty.
    expect(verifyChain(JOB, [])).toEqual({ ok: true, events: 0, head: genesisHash(JOB), macs: 'unchecked' });
  });

  it('an edited event', async () => {
    const events = await chainOf(4);
    const edited = events.map((e, i) => (i === 1 ? { ...e, actor: { principalArn: 'arn:aws:iam::123456789012:role/Mallory' } } : e));
    expect(verifyChain(JOB, edited, asJob(headOf(events[3]!)))).toMatchObject({ ok: false, seq: 1, problem: expect.stringMatching(/event 1 was modified after it was written/) });
  });

  it('a deleted middle event, a reordered chain, another job\'s event', async () => {
    const events = await chainOf(4);
    expect(verifyChain(JOB, [events[0]!, events[2]!, events[3]!])).toMatchObject({ ok: false, seq: 2, problem: 'events 1..1 are missing' });
    expect(verifyChain(JOB, [events[1]!, events[0]!])).toMatchObject({ ok: false });
    expect(verifyChain('job-zzzzzzzzzzzzzzzzzzzzzzzzzz', events)).toMatchObject({ ok: false, problem: expect.stringMatching(/belongs to/) });
    const other = await chainOf(1, 'job-zzzzzzzzzzzzzzzzzzzzzzzzzz');
    expect(verifyChain(JOB, other.map((e) => ({ ...e, jobId: JOB })))).toMatchObject({ ok: false, seq: 0, problem: expect.stringMatching(/does not link/) });
  });

  it('a deleted tail, and every event deleted: seen against the head the job records', async () => {
    const events = await chainOf(4);
    const head = headOf(events[3]!);
    expect(verifyChain(JOB, events.slice(0, 3))).toMatchObject({ ok: true }); // without the head, nothing shows
    expect(verifyChain(JOB, events.slice(0, 3), asJob(head))).toMatchObject({ ok: false, seq: 3, problem: expect.stringMatching(/head, but the trail ends at event 2: events were removed/) });
    expect(verifyChain(JOB, [], asJob(head))).toMatchObject({ ok: false, problem: expect.stringMatching(/the trail is empty: events were removed/) });
    expect(verifyChain(JOB, [], { firstType: 'DECISION' })).toMatchObject({ ok: false, seq: 0, problem: expect.stringMatching(/the trail is empty/) });
  });

  it('event 0 must be the DECISION', async () => {
    const events = await chainOf(2);
    const wrongFirst = [await sealEvent(key, draft('SUBMITTED'), JOB, 0, genesisHash(JOB), events[0]!.at)];
    expect(await verifyTrail(key, JOB, wrongFirst, asJob(headOf(wrongFirst[0]!)))).toMatchObject({ ok: false, seq: 0, problem: expect.stringMatching(/event 0 is SUBMITTED, not a DECISION/) });
    expect(verifyChain(JOB, wrongFirst)).toMatchObject({ ok: true }); // other chains begin as they like
  });

  describe('one event beyond the head: tolerated only while its write is in flight', () => {
    it('a sealed event beyond the head, younger than IN_FLIGHT_SECONDS (a writer between its two writes): verified, and said', async () => {
      const events = await chainOf(4);
      const head = headOf(events[2]!);
      const justAfter = new Date(Date.parse(events[3]!.at) + (IN_FLIGHT_SECONDS - 1) * 1000);
      expect(await verifyTrail(key, JOB, events, asJob(head, justAfter))).toEqual({
        ok: true, events: 4, head: events[3]!.hash, macs: 'verified', inFlight: { seq: 3, at: events[3]!.at },
      });
    });

    it('older than that: an append after the head', async () => {
      const events = await chainOf(4);
      const later = new Date(Date.parse(events[3]!.at) + (IN_FLIGHT_SECONDS + 1) * 1000);
      expect(await verifyTrail(key, JOB, events, asJob(headOf(events[2]!), later))).toMatchObject({
        ok: false, seq: 3, problem: expect.stringMatching(/event 3 was appended after the job's recorded head \(event 2\) and is not a write in flight/),
      });
      // Without a clock, no event beyond the head is tolerated.
      expect(verifyChain(JOB, events, { head: headOf(events[2]!) })).toMatchObject({ ok: false, seq: 3 });
    });

    it('two events beyond the head: never', async () => {
      const events = await chainOf(4);
      expect(await verifyTrail(key, JOB, events, asJob(headOf(events[1]!), new Date(Date.parse(events[3]!.at))))).toMatchObject({
        ok: false, seq: 2, problem: 'events 2..3 were appended after the job\'s recorded head (event 1)',
      });
    });

    it('appended by a table writer (hashed and linked, with a copied MAC): its MAC does not verify', async () => {
      const events = await chainOf(3);
      const last = events[2]!;
      const { hash: _h, ...appended } = { ...last, seq: 3, type: 'COMPLETED', dedupeKey: 'X', prevHash: last.hash };
      const tampered = [...events, { ...appended, hash: hashEvent(appended) }];
      const now = new Date(Date.parse(last.at) + 1000);
      // The structure alone passes (a write in flight, as far as hashes can tell) ...
      expect(verifyChain(JOB, tampered, asJob(headOf(last), now))).toMatchObject({ ok: true, inFlight: { seq: 3 } });
      // ... the audit key does not.
      expect(await verifyTrail(key, JOB, tampered, asJob(headOf(last), now))).toMatchObject({ ok: false, seq: 3, problem: expect.stringMatching(/event 3's MAC does not verify/) });
    });
  });

  describe('re-sealed without the audit key', () => {
    it('with plain SHA-256 and no MAC: not sealed (seen without the key)', async () => {
      const events = await chainOf(3);
      const forged = reseal(events, 1, (e) => unsealed(e.seq === 1 ? { ...e, type: 'FORGED' } : e));
      expect(verifyChain(JOB, forged, asJob(headOf(forged[2]!)))).toMatchObject({ ok: false, seq: 1, problem: expect.stringMatching(/event 1 is not sealed/) });
    });

    it('with plain SHA-256, the old MACs kept, the head left alone: the head shows it', async () => {
      const events = await chainOf(3);
      const forged = reseal(events, 1, (e) => (e.seq === 1 ? { ...e, type: 'FORGED' } : e));
      expect(verifyChain(JOB, forged, asJob(headOf(events[2]!)))).toMatchObject({ ok: false, seq: 2, problem: expect.stringMatching(/event 2's hash differs from the head recorded on the job/) });
    });

    it('with plain SHA-256, the old MACs kept, and the head moved: only the key shows it', async () => {
      const events = await chainOf(3);
      const forged = reseal(events, 1, (e) => (e.seq === 1 ? { ...e, type: 'FORGED' } : e));
      const movedHead = headOf(forged[2]!);
      // Hashes, links and head all agree: what a verifier without the key (the CLI) can check passes.
      expect(verifyChain(JOB, forged, asJob(movedHead))).toMatchObject({ ok: true, macs: 'unchecked' });
      expect(await verifyTrail(key, JOB, forged, asJob(movedHead))).toMatchObject({ ok: false, seq: 1, problem: expect.stringMatching(/event 1's MAC does not verify with the gateway's audit key/) });
    });

    it('sealed with another key, under the audit key\'s id or its own: not the gateway\'s', async () => {
      const events = await chainOf(2);
      const impostor = new TestSealer(); // same key id, other key material
      const elsewhere = new TestSealer('arn:aws:kms:us-east-1:210987654321:key/11111111-2222-4333-8444-555555555555');
      for (const other of [impostor, elsewhere]) {
        const forged = await chainOf(2, JOB, other);
        expect(await verifyTrail(key, JOB, forged, asJob(headOf(forged[1]!)))).toMatchObject({ ok: false, seq: 0, problem: expect.stringMatching(/MAC does not verify/) });
      }
      expect(await verifyTrail(key, JOB, events, asJob(headOf(events[1]!)))).toMatchObject({ ok: true });
    });
  });
});
