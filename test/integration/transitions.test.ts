/**
 * What a job costs in state transitions and history events, counted in the execution log on simulated time
 * (issue 13): with the wait for EMR's event, the same few whatever the job's length; the previous poll loop
 * (executions started before the upgrade) grows with it. The figures side by side: `npm run bench`.
 */
import { DEFAULT_POLLING } from '../../src/jobs/workflow-input';
import { simulateJob } from '../support/transitions';

jest.setTimeout(120_000);

describe('state transitions a job costs (counted in the execution log, simulated time)', () => {
  it('waiting for the step event: the same 5 transitions for a 1-minute, a 1-hour and a 7-day job, every EMR state recorded', async () => {
    const counts = [];
    for (const seconds of [60, 3600, 7 * 86_400]) counts.push(await simulateJob(seconds, 'events'));
    for (const c of counts) {
      expect(c).toMatchObject({ status: 'COMPLETED', transitions: 5 });
      expect(c.trail).toEqual(['DECISION', 'SUBMITTED', 'STATE_CHANGED:PENDING', 'STATE_CHANGED:RUNNING', 'COMPLETED']);
    }
    // History: the same handful of events, far below the 25,000 of a standard execution.
    expect(new Set(counts.map((c) => c.historyEvents)).size).toBe(1);
    expect(counts[0]!.historyEvents).toBeLessThan(40);
  });

  it('the previous poll loop: Submit + Choice, then Wait + Poll + Choice per poll; a 1-hour job fewer than 60, a fixed 30 s poll many more', async () => {
    const backoff = await simulateJob(3600, DEFAULT_POLLING);
    const fixed = await simulateJob(3600, { initialSeconds: 30, factor: 1, maxSeconds: 30 });
    expect(backoff.status).toBe('COMPLETED');
    expect(fixed.status).toBe('COMPLETED');
    expect(backoff.transitions).toBeLessThan(60);
    expect(fixed.transitions).toBeGreaterThan(3 * backoff.transitions);
    expect(backoff.transitions).toBe(3 + 3 * backoff.polls);
  });
});
