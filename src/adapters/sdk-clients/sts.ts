import { STSClient } from '@aws-sdk/client-sts';
import { clientConfig, type AwsTarget } from '../client-config';

/** The STS client. */
export const stsClient = (target: AwsTarget): STSClient => new STSClient(clientConfig(target));
