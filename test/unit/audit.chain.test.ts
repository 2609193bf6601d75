/** The audit hash chain, pure: chains sealed in memory, then edited, cut, reordered and re-sealed. (The store's side is in integration/audit.test.ts.) */
import { genesisHash, hashEvent, seal, verifyChain, type AuditEvent } from '../../src/audit/chain';

const JOB = 'job-0123456789abcdefghjkmnpqrs';
const draft = (type: string, dedupeKey = type) => ({ type, dedupeKey, actor: { principalArn: 'arn:aws:iam::123456789012:role/A' } });

/** n events sealed one after the other, as the audit store appends them. */
function chainOf(n: number, jobId = JOB): AuditEvent[] {
  const events: AuditEvent[] = [];
  for (let i = 0; i < n; i++) events.push(seal(draft(`E${i}`), jobId, i, events.at(-1)?.hash ?? genesisHash(jobId), `2026-11-28T12:00:0${i}.000Z`));
  return events;
}

describe('verifyChain', () => {
  it('accepts a chain sealed from the genesis of its job, and names its head', () => {
    const events = chainOf(3);
    expect(events[0]!.prevHash).toBe(genesisHash(JOB));
    expect(verifyChain(JOB, events)).toEqual({ ok: true, events: 3, head: events[2]!.hash });
    expect(verifyChain(JOB, [])).toEqual({ ok: true, events: 0, head: genesisHash(JOB) });
  });

  it('detects an edited event, a removed event, a reordered chain, another job\'s event and a cut tail', () => {
    const events = chainOf(4);
    const edited = events.map((e, i) => (i === 1 ? { ...e, actor: { principalArn: 'arn:aws:iam::123456789012:role/Mallory' } } : e));
    expect(verifyChain(JOB, edited)).toMatchObject({ ok: false, seq: 1, problem: expect.stringMatching(/modified after it was written/) });

    const resealed = edited.map((e, i) => (i === 1 ? { ...e, hash: 'f'.repeat(64) } : e));
    expect(verifyChain(JOB, resealed)).toMatchObject({ ok: false, seq: 1 });

    expect(verifyChain(JOB, [events[0]!, events[2]!, events[3]!])).toMatchObject({ ok: false, seq: 2, problem: 'events 1..1 are missing' });
    expect(verifyChain(JOB, [events[1]!, events[0]!])).toMatchObject({ ok: false });
    expect(verifyChain('job-zzzzzzzzzzzzzzzzzzzzzzzzzz', events)).toMatchObject({ ok: false, problem: expect.stringMatching(/belongs to/) });
    const head = { seq: 3, hash: events[3]!.hash };
    expect(verifyChain(JOB, events.slice(0, 3), head)).toMatchObject({ ok: false, problem: expect.stringMatching(/events were removed/) });
    expect(verifyChain(JOB, events, head)).toMatchObject({ ok: true });
  });

  it('an edited event whose own hash is recomputed still breaks the link to the next one', () => {
    const events = chainOf(3);
    const { hash: _old, ...forged } = { ...events[1]!, type: 'FORGED' };
    const resealed = [events[0]!, { ...forged, hash: hashEvent(forged) }, events[2]!];
    expect(verifyChain(JOB, resealed)).toMatchObject({ ok: false, seq: 2, problem: expect.stringMatching(/does not link to event 1/) });
  });

  it('a whole chain re-sealed from the edit on verifies alone, but not against the head the job recorded', () => {
    const events = chainOf(3);
    const rewritten = [events[0]!, seal(draft('FORGED'), JOB, 1, events[0]!.hash, events[1]!.at)];
    rewritten.push(seal(draft('E2'), JOB, 2, rewritten[1]!.hash, events[2]!.at));
    expect(verifyChain(JOB, rewritten)).toMatchObject({ ok: true });
    expect(verifyChain(JOB, rewritten, { seq: 2, hash: events[2]!.hash })).toMatchObject({ ok: false, seq: 2, problem: "event 2's hash differs from the one recorded on the job" });
  });

  it('a chain of another job does not verify under this one, even from seq 0', () => {
    expect(verifyChain(JOB, chainOf(1, 'job-zzzzzzzzzzzzzzzzzzzzzzzzzz').map((e) => ({ ...e, jobId: JOB })))).toMatchObject({ ok: false, seq: 0, problem: expect.stringMatching(/does not link/) });
  });
});
