/**
 * SDK clients, built in one place: real AWS, or the local stack on loopback when an endpoint is given. The
 * composition root asks for them once per cold start.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EMRClient } from '@aws-sdk/client-emr';
import { IAMClient } from '@aws-sdk/client-iam';
import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentityProvider } from '@smithy/types';

export interface AwsTarget {
  region: string;
  /** e.g. http://127.0.0.1:4566 for the local stack; absent in AWS. */
  endpoint?: string;
  /** Only for the local stack: AWS uses the Lambda role's credentials from the environment. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

export function clientConfig(target: AwsTarget): { region: string; endpoint?: string; credentials?: AwsTarget['credentials']; maxAttempts: number } {
  return {
    region: target.region,
    ...(target.endpoint ? { endpoint: target.endpoint } : {}),
    ...(target.credentials ? { credentials: target.credentials } : {}),
    // The SDK retries throttling and 5xx itself a few times; the state machine retries further with backoff.
    maxAttempts: 3,
  };
}

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
  const config = clientConfig(target);
  return {
    dynamodb: new DynamoDBClient(config),
    emr: new EMRClient(config),
    kms: new KMSClient(config),
    // The local stack serves S3 path-style on its one port (no bucket subdomains on loopback).
    s3: new S3Client({ ...config, ...(target.endpoint ? { forcePathStyle: true } : {}) }),
    sfn: new SFNClient(config),
    sts: new STSClient(config),
  };
}

/**
 * The clients of `emr-gateway doctor`, a tool that reads an account: EMR, IAM and STS, with the standard credential
 * chain (or `credentials`, e.g. the chain of a --profile). Not part of awsClients: no Lambda function reads IAM.
 */
export function doctorClients(target: Omit<AwsTarget, 'credentials'> & { credentials?: AwsCredentialIdentityProvider }): { emr: EMRClient; iam: IAMClient; sts: STSClient } {
  const config = { ...clientConfig({ region: target.region, ...(target.endpoint ? { endpoint: target.endpoint } : {}) }), ...(target.credentials ? { credentials: target.credentials } : {}) };
  return { emr: new EMRClient(config), iam: new IAMClient(config), sts: new STSClient(config) };
}
