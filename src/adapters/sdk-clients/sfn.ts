import { SFNClient } from '@aws-sdk/client-sfn';
import { clientConfig, type AwsTarget } from '../client-config';

/** The SFN client. */
export const sfnClient = (target: AwsTarget): SFNClient => new SFNClient(clientConfig(target));
