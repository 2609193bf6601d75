/**
 * Retries of a job: `retry: {maxAttempts, intervalSeconds, backoff?, on?}` in a request (or a cluster's
 * `defaultRetry` in the configuration). Each attempt is a new EMR step under the job's one decision; the job ends
 * with the last attempt's outcome. Apart from request.ts so that the configuration's schema (in every function)
 * takes the policy's schema without the request body's.
 *
 * - `maxAttempts` counts every attempt, the first included: 1 is no retry (and overrides a cluster's default).
 * - The pause before attempt n+1 is intervalSeconds × backoff^(n-1), at most MAX_RETRY_INTERVAL_SECONDS.
 * - Only the EMR states in `on` are retried (FAILED by default; INTERRUPTED on request). A step CANCELLED (by a
 *   caller, the deadline, or EMR because another step failed with CANCEL_AND_WAIT), a job REJECTED (by the
 *   gateway or EMR's validation) and the gateway's own failures are never retried; neither is a job with a
 *   cancel requested, nor one whose next attempt would start at or after its deadline.
 */
import * as z from '../util/zod';
import { describeValue } from '../util/validation';

export const RETRY_ON = ['FAILED', 'INTERRUPTED'] as const;
export type RetryOn = (typeof RETRY_ON)[number];

export const RETRY_LIMITS = {
  minAttempts: 1,
  maxAttempts: 10,
  minIntervalSeconds: 1,
  /** Also the cap of an interval grown by backoff. */
  maxIntervalSeconds: 3600,
  minBackoff: 1,
  maxBackoff: 4,
} as const;
export const DEFAULT_RETRY_ON: readonly RetryOn[] = ['FAILED'];
export const DEFAULT_BACKOFF = 1;

export interface RetryPolicy {
  maxAttempts: number;
  intervalSeconds: number;
  backoff: number;
  on: RetryOn[];
}

/** The policy's schema (POST /jobs `retry`, templates, `clusters[].defaultRetry`); strict: an unknown field is an error. */
export function retryPolicySchema() {
  const whole = (min: number, max: number, unit: string) => {
    const message = (iss: { input?: unknown }) => (iss.input === undefined ? undefined : `must be a whole number${unit} from ${min} to ${max} (got ${describeValue(iss.input)})`);
    return z.number({ error: message }).check(z.int({ error: message }), z.gte(min, { error: message }), z.lte(max, { error: message }));
  };
  const backoffMessage = (iss: { input?: unknown }) => `must be a number from ${RETRY_LIMITS.minBackoff} to ${RETRY_LIMITS.maxBackoff} (got ${describeValue(iss.input)})`;
  const fields = {
    maxAttempts: z.described(
      whole(RETRY_LIMITS.minAttempts, RETRY_LIMITS.maxAttempts, ''),
      `Attempts in all, the first included (${RETRY_LIMITS.minAttempts} to ${RETRY_LIMITS.maxAttempts}); 1 is no retry.`,
    ),
    intervalSeconds: z.described(
      whole(RETRY_LIMITS.minIntervalSeconds, RETRY_LIMITS.maxIntervalSeconds, ' of seconds'),
      `Seconds between an attempt's end and the next attempt (${RETRY_LIMITS.minIntervalSeconds} to ${RETRY_LIMITS.maxIntervalSeconds}).`,
    ),
    backoff: z.described(
      z._default(z.number({ error: backoffMessage }).check(z.gte(RETRY_LIMITS.minBackoff, { error: backoffMessage }), z.lte(RETRY_LIMITS.maxBackoff, { error: backoffMessage })), DEFAULT_BACKOFF),
      `The interval's multiplier after each attempt (${RETRY_LIMITS.minBackoff} to ${RETRY_LIMITS.maxBackoff}, default ${DEFAULT_BACKOFF}); an interval never exceeds ${RETRY_LIMITS.maxIntervalSeconds} s.`,
    ),
    on: z.described(
      z._default(
        z
          .array(z.enum(RETRY_ON, { error: (iss) => `must be one of ${RETRY_ON.join(', ')} (got ${describeValue(iss.input)}): a CANCELLED or REJECTED job is never retried` }), {
            error: (iss) => (iss.input === undefined ? undefined : `must be an array of ${RETRY_ON.join(', ')} (got ${describeValue(iss.input)})`),
          })
          .check(
            z.minLength(1, { error: `must name at least one of ${RETRY_ON.join(', ')}` }),
            z.refine((states) => new Set(states).size === states.length, { error: 'must not name a state twice' }),
          ),
        [...DEFAULT_RETRY_ON],
      ),
      `The EMR step states that start another attempt: ${RETRY_ON.join(', ')}; default [${DEFAULT_RETRY_ON.join(', ')}].`,
    ),
  };
  const names = Object.keys(fields).join(', ');
  return z.strictObject(fields, {
    error: (iss) => {
      if (iss.code === 'unrecognized_keys') return `unknown field (a retry policy has: ${names})`;
      if (iss.code === 'invalid_type') return iss.input === undefined ? undefined : `must be a JSON object {maxAttempts, intervalSeconds, backoff?, on?} (got ${describeValue(iss.input)})`;
      return undefined;
    },
  });
}

/** How many attempts a request asks for: 1 without a policy (the condition key emr-gateway:RetryMaxAttempts). */
export const maxAttemptsOf = (policy: Pick<RetryPolicy, 'maxAttempts'> | undefined): number => policy?.maxAttempts ?? 1;

/** Seconds between the end of attempt `attempt` and the start of the next: intervalSeconds × backoff^(attempt-1), capped. */
export function retryIntervalSeconds(policy: Pick<RetryPolicy, 'intervalSeconds' | 'backoff'>, attempt: number): number {
  const seconds = policy.intervalSeconds * Math.pow(policy.backoff, Math.max(0, attempt - 1));
  return Math.min(RETRY_LIMITS.maxIntervalSeconds, Math.ceil(seconds));
}

/** Whether an attempt that ended in `state` starts another, by the policy alone (attempts left, a state it retries). */
export function retriesAfter(policy: RetryPolicy | undefined, attempt: number, state: string): boolean {
  return !!policy && attempt < policy.maxAttempts && (policy.on as readonly string[]).includes(state);
}
