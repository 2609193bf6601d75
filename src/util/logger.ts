/** The one logger (Powertools, JSON): handlers append jobId, stepId and executionRoleArn as they learn them. */
import { Logger } from '@aws-lambda-powertools/logger';

export const logger = new Logger({ serviceName: 'emr-step-gateway' });
