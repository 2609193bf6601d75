/**
 * The dashboard's own check of a job's trail (issue 17), as the browser runs it (the shared chain code): intact for
 * the gateway's trail; broken, saying where, for an edited event, a cut tail, a head that moved, a trail that no
 * longer holds what its digest recorded, and when the gateway or the digests say so.
 */
import { sealEvent, type AuditEvent } from '../../src/audit/chain';
import { genesisHash } from '../../src/audit/chain';
import type { AuditResponse } from '../../src/client';
import { checkTrail } from '../../src/dashboard/trail';
import { timeline } from '../../src/dashboard/timeline';
import { TestSealer } from '../support/sealer';

const JOB = 'job-01JDQ0000000000000000000AB';
const T0 = Date.parse('2026-12-04T10:00:00Z');
const at = (s: number) => new Date(T0 + s * 1000).toISOString();

async function trail(): Promise<AuditEvent[]> {
  const sealer = new TestSealer();
  const drafts = [
    { type: 'DECISION', dedupeKey: 'DECISION:x', decision: { result: 'Allowed', reason: 'allowed by team-a statement 0 (Sid SubmitAsTeamRoles)' } },
    { type: 'QUEUED', dedupeKey: 'QUEUED', detail: { group: 'default', priority: 5 } },
    { type: 'ADMITTED', dedupeKey: 'ADMITTED' },
    { type: 'SUBMITTED', dedupeKey: 'SUBMITTED', emr: { stepId: 's-1' } },
    { type: 'STATE_CHANGED', dedupeKey: 'STATE:PENDING', emr: { stepId: 's-1', state: 'PENDING' } },
    { type: 'STATE_CHANGED', dedupeKey: 'STATE:RUNNING', emr: { stepId: 's-1', state: 'RUNNING' } },
    { type: 'FAILED', dedupeKey: 'END', emr: { state: 'FAILED' }, detail: { reason: 'exit code 1' } },
  ];
  const events: AuditEvent[] = [];
  let prev = genesisHash(JOB);
  for (const [i, draft] of drafts.entries()) {
    const event = await sealEvent(sealer, draft, JOB, i, prev, at([0, 1, 5, 6, 8, 10, 70][i]!));
    events.push(event);
    prev = event.hash;
  }
  return events;
}

function response(events: AuditEvent[], extra: Partial<AuditResponse> = {}): AuditResponse {
  const last = events[events.length - 1]!;
  return {
    jobId: JOB,
    events: events.map(({ jobId: _jobId, ...e }) => e),
    head: { seq: last.seq, hash: last.hash },
    verification: { ok: true, events: events.length, head: last.hash, macs: 'verified' },
    anchor: { status: 'anchored', digest: { number: 3, to: at(80) }, seq: 3, hash: events[3]!.hash },
    ...extra,
  };
}

const now = new Date(T0 + 100_000);

it('intact: every link, hash, the head and the anchor hold', async () => {
  const check = checkTrail(response(await trail()), now);
  expect(check).toMatchObject({ verdict: 'intact', problems: [], events: 7, here: 'ok', gateway: { ok: true, macs: 'verified' } });
  expect(check.brokenAt).toBeUndefined();
});

it.each([
  ['an edited event', (e: AuditEvent[]) => { e[4] = { ...e[4]!, emr: { stepId: 's-1', state: 'COMPLETED' } }; return response(e, { head: { seq: 6, hash: e[6]!.hash } }); }, /this browser: event 4 was modified after it was written/, 4],
  ['a cut tail', (e: AuditEvent[]) => response(e.slice(0, 5), { head: { seq: 6, hash: e[6]!.hash } }), /this browser: the job records event 6 as its head, but the trail ends at event 4/, 6],
  ['a moved head', (e: AuditEvent[]) => response(e, { head: { seq: 6, hash: 'f'.repeat(64) } }), /this browser: event 6's hash differs from the head/, 6],
  ['a rewrite below the anchor', (e: AuditEvent[]) => response(e, { anchor: { status: 'anchored', digest: { number: 3, to: at(80) }, seq: 3, hash: 'a'.repeat(64) } }), /event 3's hash differs from the one digest 3 recorded/, undefined],
  ['the gateway says so (a forged MAC)', (e: AuditEvent[]) => response(e, { verification: { ok: false, events: 7, seq: 2, problem: "event 2's MAC does not verify" } }), /the gateway: event 2's MAC/, 2],
  ['the digests say so (a rollback)', (e: AuditEvent[]) => response(e, { anchor: { status: 'broken', problem: 'rolled back to event 3' } }), /the digests: rolled back/, undefined],
])('broken, saying where: %s', async (_what, tamper, problem, at) => {
  const check = checkTrail(tamper(await trail()), now);
  expect(check.verdict).toBe('broken');
  expect(check.brokenAt).toBe(at); // the row the page marks
  expect(check.problems.join('\n')).toMatch(problem);
});

it("the timeline: the job's story from its trail, each phase with how long it lasted", async () => {
  const events = response(await trail()).events;
  expect(timeline({ status: 'FAILED' }, events, now).map((e) => [e.label, e.durationMs, e.end])).toEqual([
    ['Accepted', 1000, undefined],
    ['Queued', 4000, undefined],
    ['Admitted', 1000, undefined],
    ['Submitted', 2000, undefined],
    ['Pending', 2000, undefined],
    ['Running', 60_000, undefined],
    ['Failed', undefined, 'bad'],
  ]);
  // Still running: the last phase counts until now.
  expect(timeline({ status: 'RUNNING' }, events.slice(0, 6), now).pop()).toMatchObject({ label: 'Running', durationMs: 90_000, ongoing: true });
});
