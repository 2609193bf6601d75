import { KMSClient } from '@aws-sdk/client-kms';
import { clientConfig, type AwsTarget } from '../client-config';

/** The KMS client. */
export const kmsClient = (target: AwsTarget): KMSClient => new KMSClient(clientConfig(target));
