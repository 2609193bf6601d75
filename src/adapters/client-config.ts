/**
 * What every SDK client of the gateway is built with: the target (real AWS, or the local stack on loopback when an
 * endpoint is given) and the retry bound. No SDK import here: a function's bundle requires only the SDK packages of
 * the clients it builds (src/adapters/sdk-clients/, one module per service).
 */
export interface AwsTarget {
  region: string;
  /** e.g. http://127.0.0.1:4566 for the local stack; absent in AWS. */
  endpoint?: string;
  /** Only for the local stack: AWS uses the Lambda role's credentials from the environment. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

export function clientConfig(target: AwsTarget): { region: string; endpoint?: string; credentials?: AwsTarget['credentials']; maxAttempts: number } {
  return {
    region: target.region,
    ...(target.endpoint ? { endpoint: target.endpoint } : {}),
    ...(target.credentials ? { credentials: target.credentials } : {}),
    // The SDK retries throttling and 5xx itself a few times; the state machine retries further with backoff.
    maxAttempts: 3,
  };
}
