/**
 * State transitions per job (`npx tsx bench/transitions.ts`): simulated jobs of 1 minute, 1 hour and 12 hours
 * through the real state machine (simulated time, EMR mocked), with the default capped exponential backoff
 * next to a fixed 30-second poll. Transitions are what Step Functions bills; the target is < 60 for 1 hour.
 */
import { DEFAULT_POLLING } from '../src/jobs/workflow-input';
import { simulateJob } from '../test/support/transitions';

const JOBS: [string, number][] = [
  ['1 minute', 60],
  ['1 hour', 3600],
  ['12 hours', 12 * 3600],
];
const FIXED_30S = { initialSeconds: 30, factor: 1, maxSeconds: 30 };

export async function main(): Promise<void> {
  const p = DEFAULT_POLLING;
  console.log(`transitions per job: backoff ${p.initialSeconds}s ×${p.factor} capped at ${p.maxSeconds}s vs a fixed 30 s poll`);
  console.log('job      | backoff polls | backoff transitions | fixed-30s polls | fixed-30s transitions | saved');
  console.log('---------|---------------|---------------------|-----------------|-----------------------|------');
  for (const [label, seconds] of JOBS) {
    const backoff = await simulateJob(seconds, DEFAULT_POLLING);
    const fixed = await simulateJob(seconds, FIXED_30S);
    const saved = `${Math.round((1 - backoff.transitions / fixed.transitions) * 100)}%`;
    console.log(
      `${label.padEnd(8)} | ${String(backoff.polls).padStart(13)} | ${String(backoff.transitions).padStart(19)} | ${String(fixed.polls).padStart(15)} | ${String(fixed.transitions).padStart(21)} | ${saved.padStart(5)}`,
    );
  }
  console.log('worst-case detection delay with backoff: the cap, ' + `${p.maxSeconds}s`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
