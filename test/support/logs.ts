/** Captures what Powertools loggers write (info to stdout, warn and error to stderr) as parsed JSON lines. */
import type { Context } from 'aws-lambda';

export interface CapturedOutput {
  /** Everything written to stdout and stderr so far, in order. */
  text(): string;
  restore(): void;
}

/** Captures what the process writes to stdout and stderr (Powertools: info to stdout, warn and error to stderr). */
export function captureOutput(): CapturedOutput {
  const written: string[] = [];
  const record = (chunk: string | Uint8Array): boolean => {
    written.push(String(chunk));
    return true;
  };
  const spies = [jest.spyOn(process.stdout, 'write').mockImplementation(record), jest.spyOn(process.stderr, 'write').mockImplementation(record)];
  return { text: () => written.join(''), restore: () => spies.forEach((spy) => spy.mockRestore()) };
}

export interface CapturedLogs {
  lines(): Record<string, unknown>[];
  restore(): void;
}

/** The captured output as the JSON lines a Powertools logger writes. */
export function captureLogs(): CapturedLogs {
  const output = captureOutput();
  return {
    lines: () =>
      output
        .text()
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    restore: () => output.restore(),
  };
}

/** A Lambda context as the runtime passes it, with the request id the logs must carry. */
export function lambdaContext(requestId: string, functionName = 'emr-gateway-test'): Context {
  return {
    awsRequestId: requestId,
    functionName,
    functionVersion: '$LATEST',
    memoryLimitInMB: '256',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'stream',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => 1000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
