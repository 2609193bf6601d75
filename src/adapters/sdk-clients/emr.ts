import { EMRClient } from '@aws-sdk/client-emr';
import { clientConfig, type AwsTarget } from '../client-config';

/** The EMR client. */
export const emrClient = (target: AwsTarget): EMRClient => new EMRClient(clientConfig(target));
