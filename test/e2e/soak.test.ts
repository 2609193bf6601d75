/**
 * The soak's short version (issue 11; the long one is `npx tsx bench/soak.ts`): `emr-gateway local` as a child
 * process with EMR throttling and latency, DynamoDB errors and throttling, jobs submitted concurrently with
 * Idempotency-Keys while the stack's process group is killed with SIGKILL and started again on the same data.
 * Every job a client got a 202 for ends, exactly one EMR step each, every trail verifies, and no valid request
 * was answered a 5xx other than 503 (or a 4xx other than 429). Each ends COMPLETED, or INTERRUPTED where a kill ended
 * its step's process while it ran (as EMR records a step its cluster lost; local-lifecycle.test.ts), never otherwise.
 */
import { DEFAULT_FAULTS, formatSoak, runSoak, type SoakOptions } from '../../bench/soak';

jest.setTimeout(240_000);

it('under faults and two kill -9s: nothing lost, stuck or doubled, every chain verifies, no 5xx', async () => {
  // Paced over 6 s, so that both kills (1-3 s apart) land while submissions are in flight, however fast the stack is.
  const options: SoakOptions = { jobs: 60, concurrency: 10, kills: 2, faults: DEFAULT_FAULTS, killGapMs: [1_000, 3_000], settleMs: 120_000, perSecond: 10, seed: 7 };
  const report = await runSoak(options);
  const counts = { accepted: report.accepted, terminal: report.terminal, stuck: report.stuck, lost: report.lost, duplicateJobs: report.duplicateJobs, duplicateSteps: report.duplicateSteps, orphanSteps: report.orphanSteps, brokenChains: report.brokenChains, contractBreaches: report.contractBreaches, interruptedOtherwise: report.interruptedOtherwise, kills: report.kills };
  expect({ counts, examples: report.examples }).toEqual({
    counts: { accepted: 60, terminal: 60, stuck: 0, lost: 0, duplicateJobs: 0, duplicateSteps: 0, orphanSteps: 0, brokenChains: 0, contractBreaches: 0, interruptedOtherwise: 0, kills: 2 },
    examples: [],
  });
  // Each kill can end at most the steps running then: the example cluster runs 4 at a time (its stepConcurrencyLevel).
  const { COMPLETED = 0, INTERRUPTED = 0, ...others } = report.byStatus;
  expect({ others, ended: COMPLETED + INTERRUPTED }).toEqual({ others: {}, ended: 60 });
  expect(INTERRUPTED).toBeLessThanOrEqual(options.kills * 4);
  // The kills were felt: some request found no stack answering, and was retried.
  expect(report.answers['no answer'] ?? 0).toBeGreaterThan(0);
  console.log(formatSoak(options, report));
});
