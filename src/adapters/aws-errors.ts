/**
 * The one place SDK errors are classified: which a retry can cure (throttling, 5xx, timeouts, dropped
 * connections), whatever the service. Adapters turn those into the domain's TransientError, so nothing above
 * this folder ever reads an SDK error name.
 */
import { TransientError } from '../errors';

const THROTTLING = new Set([
  'ThrottlingException', 'Throttling', 'ThrottledException', 'RequestLimitExceeded', 'TooManyRequestsException',
  'ProvisionedThroughputExceededException', 'RequestThrottled', 'RequestThrottledException', 'SlowDown',
  'TransactionInProgressException', 'BandwidthLimitExceeded', 'LimitExceededException', 'PriorRequestNotComplete',
]);
const TRANSIENT = new Set([
  'InternalServerError', 'InternalServerException', 'InternalFailure', 'InternalError', 'ServiceUnavailable',
  'ServiceUnavailableException', 'RequestTimeout', 'RequestTimeoutException', 'TimeoutError', 'ECONNRESET',
  'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN',
  // KMS: its own names for a 5xx, and a key whose backing store is briefly out of reach.
  'KMSInternalException', 'DependencyTimeoutException', 'KeyUnavailableException',
]);

interface AwsErrorShape {
  name?: unknown;
  code?: unknown;
  $metadata?: { httpStatusCode?: number };
  $retryable?: unknown;
}

export function errorName(error: unknown): string {
  const e = error as AwsErrorShape | null;
  return typeof e?.name === 'string' ? e.name : typeof e?.code === 'string' ? e.code : 'Error';
}

export function isThrottling(error: unknown): boolean {
  return THROTTLING.has(errorName(error)) || (error as AwsErrorShape | null)?.$metadata?.httpStatusCode === 429;
}

export function isRetryable(error: unknown): boolean {
  const e = error as AwsErrorShape | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  const status = e?.$metadata?.httpStatusCode ?? 0;
  return isThrottling(error) || TRANSIENT.has(errorName(error)) || TRANSIENT.has(code) || status >= 500 || Boolean(e?.$retryable);
}

export const isConditionalCheckFailed = (error: unknown): boolean => errorName(error) === 'ConditionalCheckFailedException';

/** `error` as the domain sees it: a TransientError when a retry may cure it, otherwise unchanged. */
export function translateAwsError(operation: string, error: unknown): unknown {
  if (error instanceof TransientError || !isRetryable(error)) return error;
  const dependency = `${operation}: ${errorName(error)}`;
  const detail = error instanceof Error && error.message ? `: ${error.message.slice(0, 500)}` : '';
  return new TransientError(`${dependency}${detail}`, { cause: error, throttled: isThrottling(error), dependency });
}

/** Runs one SDK call, translating a retryable failure into TransientError. */
export async function awsCall<T>(operation: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw translateAwsError(operation, error);
  }
}
