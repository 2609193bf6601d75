import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { clientConfig, type AwsTarget } from '../client-config';

/** SNS for notifications: one attempt per Publish (the notifier retries with its own backoff, each attempt audited). */
export const snsClient = (target: AwsTarget): SNSClient => new SNSClient({ ...clientConfig(target), maxAttempts: 1 });
/** Secrets Manager and SSM Parameter Store: the webhooks' signing secrets. */
export const secretsManagerClient = (target: AwsTarget): SecretsManagerClient => new SecretsManagerClient(clientConfig(target));
export const ssmClient = (target: AwsTarget): SSMClient => new SSMClient(clientConfig(target));
