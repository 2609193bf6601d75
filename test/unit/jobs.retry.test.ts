/** Retry policies (src/jobs/retry.ts) and the attempt markers in step names (src/jobs/step-name.ts). */
import { parseJobRequest } from '../../src/jobs/request';
import { retriesAfter, retryIntervalSeconds, type RetryPolicy } from '../../src/jobs/retry';
import { JOB_ID_IN_STEP_NAME, stepMarker, stepNameFor } from '../../src/jobs/step-name';
import { submitBody } from '../support/config';

const JOB = 'job-0123456789abcdefghjkmnpqrs';
const policy = (overrides: Partial<RetryPolicy> = {}): RetryPolicy => ({ maxAttempts: 5, intervalSeconds: 60, backoff: 1, on: ['FAILED'], ...overrides });

describe('the retry policy', () => {
  it('fills in backoff 1 and on [FAILED]', () => {
    expect(parseJobRequest(submitBody({ retry: { maxAttempts: 3, intervalSeconds: 10 } })).retry).toEqual({ maxAttempts: 3, intervalSeconds: 10, backoff: 1, on: ['FAILED'] });
    expect(parseJobRequest(submitBody()).retry).toBeUndefined();
  });

  it('grows the interval by backoff after each attempt, capped at an hour', () => {
    expect([1, 2, 3, 4].map((n) => retryIntervalSeconds(policy({ intervalSeconds: 30, backoff: 2 }), n))).toEqual([30, 60, 120, 240]);
    expect(retryIntervalSeconds(policy({ intervalSeconds: 3000, backoff: 4 }), 2)).toBe(3600);
    expect(retryIntervalSeconds(policy({ intervalSeconds: 10, backoff: 1.5 }), 2)).toBe(15);
    expect(retryIntervalSeconds(policy({ intervalSeconds: 7 }), 9)).toBe(7);
  });

  it('retries only the states `on` names, while attempts are left; never CANCELLED or COMPLETED', () => {
    expect(retriesAfter(policy(), 1, 'FAILED')).toBe(true);
    expect(retriesAfter(policy(), 4, 'FAILED')).toBe(true);
    expect(retriesAfter(policy(), 5, 'FAILED')).toBe(false);
    expect(retriesAfter(policy(), 1, 'INTERRUPTED')).toBe(false);
    expect(retriesAfter(policy({ on: ['FAILED', 'INTERRUPTED'] }), 1, 'INTERRUPTED')).toBe(true);
    expect(retriesAfter(policy({ on: ['FAILED', 'INTERRUPTED'] }), 1, 'CANCELLED')).toBe(false);
    expect(retriesAfter(policy(), 1, 'COMPLETED')).toBe(false);
    expect(retriesAfter(undefined, 1, 'FAILED')).toBe(false);
    expect(retriesAfter(policy({ maxAttempts: 1 }), 1, 'FAILED')).toBe(false);
  });
});

describe("an attempt's marker", () => {
  const request = parseJobRequest(submitBody({ name: 'x'.repeat(256) }));

  it('is the job id alone for the first attempt (as for jobs without retries), with #N from the second', () => {
    expect(stepMarker(JOB)).toBe(`[${JOB}]`);
    expect(stepMarker(JOB, 1)).toBe(`[${JOB}]`);
    expect(stepMarker(JOB, 2)).toBe(`[${JOB}#2]`);
    expect(stepNameFor({ jobId: JOB, request, attempt: 10 })).toMatch(new RegExp(` \\[${JOB}#10\\]$`));
    expect(stepNameFor({ jobId: JOB, request, attempt: 10 })).toHaveLength(256);
  });

  it("is no suffix of another attempt's step name: a retried submission finds only its own attempt's step", () => {
    const names = [1, 2, 3, 10].map((attempt) => stepNameFor({ jobId: JOB, request, attempt }));
    for (const [i, attempt] of [1, 2, 3, 10].entries()) {
      expect(names.filter((name) => name.endsWith(stepMarker(JOB, attempt)))).toEqual([names[i]]);
    }
    expect(`a [${JOB}#12]`.endsWith(stepMarker(JOB, 2))).toBe(false);
  });

  it('gives the job id back from a step name of any attempt (EMR step events)', () => {
    for (const attempt of [1, 2, 9, 10]) expect(JOB_ID_IN_STEP_NAME.exec(stepNameFor({ jobId: JOB, request, attempt }))?.[1]).toBe(JOB);
    expect(JOB_ID_IN_STEP_NAME.exec(`x [${JOB}#1]`)).toBeNull();
    expect(JOB_ID_IN_STEP_NAME.exec(`x [${JOB}#11]`)).toBeNull();
  });
});
