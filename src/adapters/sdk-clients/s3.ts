import { S3Client } from '@aws-sdk/client-s3';
import { clientConfig, type AwsTarget } from '../client-config';
import type { TemporaryCredentials } from '../emr/cluster-access';

/** The S3 client (with `credentials`, another role's). The local stack serves S3 path-style on its one port (no bucket subdomains on loopback). */
export const s3Client = (target: AwsTarget, credentials?: TemporaryCredentials): S3Client =>
  new S3Client({ ...clientConfig(target), ...(target.endpoint ? { forcePathStyle: true } : {}), ...(credentials ? { credentials } : {}) });
