/** Which AWS errors a retry can cure (throttling, 5xx, timeouts, dropped connections), whatever the service. */

const THROTTLING = new Set([
  'ThrottlingException', 'Throttling', 'ThrottledException', 'RequestLimitExceeded', 'TooManyRequestsException',
  'ProvisionedThroughputExceededException', 'RequestThrottled', 'RequestThrottledException', 'SlowDown',
  'TransactionInProgressException', 'BandwidthLimitExceeded', 'LimitExceededException', 'PriorRequestNotComplete',
]);
const TRANSIENT = new Set([
  'InternalServerError', 'InternalServerException', 'InternalFailure', 'InternalError', 'ServiceUnavailable',
  'ServiceUnavailableException', 'RequestTimeout', 'RequestTimeoutException', 'TimeoutError', 'ECONNRESET',
  'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN',
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
