/**
 * SDK clients, built in one place (sdk-clients/, one module per service): real AWS, or the local stack on loopback
 * when an endpoint is given. The composition root asks for them once per cold start: in Lambda, only those of the
 * function's parts, so its bundle requires no other SDK package (requiring the SDK is most of a cold start).
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EMRClient } from '@aws-sdk/client-emr';
import { IAMClient } from '@aws-sdk/client-iam';
import type { KMSClient } from '@aws-sdk/client-kms';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SFNClient } from '@aws-sdk/client-sfn';
import { STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { clientConfig, type AwsTarget } from './client-config';
import { dynamodbClient } from './sdk-clients/dynamodb';
import { emrClient } from './sdk-clients/emr';
import { kmsClient } from './sdk-clients/kms';
import { s3Client } from './sdk-clients/s3';
import { sfnClient } from './sdk-clients/sfn';
import { stsClient } from './sdk-clients/sts';

export { clientConfig, type AwsTarget } from './client-config';

export interface AwsClients {
  dynamodb: DynamoDBClient;
  emr: EMRClient;
  kms: KMSClient;
  s3: S3Client;
  sfn: SFNClient;
  sts: STSClient;
}

/** One client per service. Clients connect lazily, so building one a function never uses costs nothing. */
export function awsClients(target: AwsTarget): AwsClients {
  return { dynamodb: dynamodbClient(target), emr: emrClient(target), kms: kmsClient(target), s3: s3Client(target), sfn: sfnClient(target), sts: stsClient(target) };
}

/** Closes every client's connections (a stack that stops leaves no socket to the port another may take next). */
export function destroyClients(clients: AwsClients): void {
  for (const client of Object.values(clients) as { destroy(): void }[]) client.destroy();
}

/**
 * The clients of `emr-gateway doctor`, a tool that reads an account: EMR, IAM and STS, with the standard credential
 * chain (or `credentials`, e.g. the chain of a --profile). Not part of awsClients: no Lambda function reads IAM.
 */
export function doctorClients(target: Omit<AwsTarget, 'credentials'> & { credentials?: AwsCredentialIdentityProvider }): { emr: EMRClient; iam: IAMClient; sts: STSClient } {
  const config = { ...clientConfig({ region: target.region, ...(target.endpoint ? { endpoint: target.endpoint } : {}) }), ...(target.credentials ? { credentials: target.credentials } : {}) };
  return { emr: new EMRClient(config), iam: new IAMClient(config), sts: new STSClient(config) };
}
