import { S3Client } from '@aws-sdk/client-s3';
import { clientConfig, type AwsTarget } from '../client-config';

/** The S3 client. The local stack serves S3 path-style on its one port (no bucket subdomains on loopback). */
export const s3Client = (target: AwsTarget): S3Client => new S3Client({ ...clientConfig(target), ...(target.endpoint ? { forcePathStyle: true } : {}) });
