import { DEFAULT_POLLING } from '../../src/jobs/workflow-input';
import { simulateJob } from '../support/transitions';

jest.setTimeout(60_000);

describe('state transitions a job costs (counted in the execution log, simulated time)', () => {
  it('a 1-hour job costs fewer than 60 transitions with the default backoff, far fewer than a fixed 30 s poll', async () => {
    const backoff = await simulateJob(3600, DEFAULT_POLLING);
    const fixed = await simulateJob(3600, { initialSeconds: 30, factor: 1, maxSeconds: 30 });
    expect(backoff.status).toBe('COMPLETED');
    expect(fixed.status).toBe('COMPLETED');
    expect(backoff.transitions).toBeLessThan(60);
    expect(fixed.transitions).toBeGreaterThan(3 * backoff.transitions);
    // Submit + Choice, then Wait + Poll + Choice per poll, then Done.
    expect(backoff.transitions).toBe(3 + 3 * backoff.polls);
  });
});
