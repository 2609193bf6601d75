/**
 * The one logger (Powertools, JSON). Lambda handlers go through `injectLambdaContext` with `resetKeys`, so
 * every invocation starts with no temporary keys and carries its own request id; jobId, stepId and
 * executionRoleArn are appended (appendKeys) as a handler learns them.
 */
import { Logger } from '@aws-lambda-powertools/logger';

export const logger = new Logger({ serviceName: 'emr-step-gateway' });
