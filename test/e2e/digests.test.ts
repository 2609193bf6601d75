/**
 * The digests of the chain heads on the local stack, through the real adapters (S3DigestStore over the local
 * S3, KmsDigestSigner over the local KMS): a digest at start, on demand (every minute on its own) and at stop;
 * the bucket append-only; a rollback done straight in DynamoDB on the AWS port caught by the newest anchor;
 * a digest's signature verifiable by anyone with the key's public key.
 */
import { createPublicKey, verify } from 'node:crypto';
import { DeleteItemCommand, DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { GetPublicKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { marshall } from '@aws-sdk/util-dynamodb';
import { digestMessage, type SignedDigest } from '../../src/audit/digest';
import type { LocalStack } from '../../src/local/stack';
import { LOCAL_DIGEST_BUCKET } from '../../src/local/stack';
import { clientFor, finished, newDataDir, startStack } from '../support/local-stack';

jest.setTimeout(90_000);

const CLUSTER = 'j-2AXXXXXXGAPLF';
const ETL = 'arn:aws:iam::123456789012:role/CallerTeamRoleETL';
const credentials = { accessKeyId: 'AKIATEST', secretAccessKey: 'test' };

let dataDir: string;
let stack: LocalStack;
beforeAll(async () => {
  dataDir = newDataDir();
  stack = await startStack(dataDir);
});
afterAll(() => stack.stop());

const s3 = () => new S3Client({ region: stack.region, endpoint: stack.awsUrl, forcePathStyle: true, credentials });
const listKeys = async (prefix: string) => ((await s3().send(new ListObjectsV2Command({ Bucket: LOCAL_DIGEST_BUCKET, Prefix: prefix }))).Contents ?? []).map((o) => o.Key!);

async function finishedJob(): Promise<string> {
  const alice = clientFor(stack, 'alice');
  const { jobId } = await alice.submit({ clusterId: CLUSTER, executionRoleArn: ETL, name: 'digested', step: { type: 'command', args: ['true'] } });
  await finished(alice, jobId);
  return jobId;
}

it('writes a digest at start and on each run, signed (verifiable with the public key alone) and chained', async () => {
  await stack.startup; // the start's digest is written in the background
  const before = await listKeys('digests/');
  expect(before.length).toBeGreaterThanOrEqual(1); // the start's
  await new Promise((r) => setTimeout(r, 2_100)); // past the settle time of the previous digest
  expect(await stack.digests.run()).toMatchObject({ written: true });
  const keys = await listKeys('digests/');
  expect(keys.length).toBe(before.length + 1);
  const newest = JSON.parse(await (await s3().send(new GetObjectCommand({ Bucket: LOCAL_DIGEST_BUCKET, Key: keys[0]! }))).Body!.transformToString()) as SignedDigest;
  expect(newest.digest.number).toBe(keys.length);
  const { PublicKey } = await new KMSClient({ region: stack.region, endpoint: stack.awsUrl, credentials }).send(new GetPublicKeyCommand({ KeyId: 'alias/emr-gateway-audit-digests' }));
  const publicKey = createPublicKey({ key: Buffer.from(PublicKey!), format: 'der', type: 'spki' });
  expect(verify('sha256', digestMessage(newest.digest), publicKey, Buffer.from(newest.signature.value, 'base64'))).toBe(true);
  expect(newest.digest.previous?.number).toBe(newest.digest.number - 1);
});

it('the bucket is append-only: a digest cannot be overwritten or deleted', async () => {
  const [key] = await listKeys('digests/');
  await expect(s3().send(new PutObjectCommand({ Bucket: LOCAL_DIGEST_BUCKET, Key: key, Body: '{}' }))).rejects.toMatchObject({ name: 'AccessDenied' });
  await expect(s3().send(new DeleteObjectCommand({ Bucket: LOCAL_DIGEST_BUCKET, Key: key }))).rejects.toMatchObject({ name: 'AccessDenied' });
});

it('a rollback in DynamoDB (tail cut, head moved back) is caught by the anchor; before any digest, the trail reads pending', async () => {
  const alice = clientFor(stack, 'alice');
  const jobId = await finishedJob();
  expect((await alice.audit(jobId)).anchor).toMatchObject({ status: 'pending' });
  await new Promise((r) => setTimeout(r, 2_100));
  await stack.digests.run();
  const trail = await alice.audit(jobId);
  expect(trail.anchor).toMatchObject({ status: 'anchored', seq: trail.head.seq });
  expect(await listKeys(`anchors/${jobId}/`)).toHaveLength(1);

  const db = new DynamoDBClient({ region: stack.region, endpoint: stack.awsUrl, credentials });
  for (const e of trail.events.slice(2)) await db.send(new DeleteItemCommand({ TableName: 'emr-gateway-audit', Key: marshall({ jobId, seq: e.seq }) }));
  await db.send(new UpdateItemCommand({ TableName: 'emr-gateway-jobs', Key: marshall({ jobId }), UpdateExpression: 'SET auditSeq = :s, auditHash = :h', ExpressionAttributeValues: marshall({ ':s': 1, ':h': trail.events[1]!.hash }) }));
  const after = await alice.audit(jobId);
  expect(after.verification).toMatchObject({ ok: true });
  expect(after.anchor).toMatchObject({ status: 'broken', problem: expect.stringMatching(/rolled back/) as unknown });
});

it('a restart keeps the chain of digests going: the stop writes one, the start another, each after the last', async () => {
  const jobId = await finishedJob();
  const count = (await listKeys('digests/')).length;
  await stack.stop();
  stack = await startStack(dataDir);
  const keys = await listKeys('digests/');
  expect(keys.length).toBeGreaterThanOrEqual(count + 1);
  const newest = JSON.parse(await (await s3().send(new GetObjectCommand({ Bucket: LOCAL_DIGEST_BUCKET, Key: keys[0]! }))).Body!.transformToString()) as SignedDigest;
  expect(newest.digest.number).toBe(keys.length);
  // The job finished just before the stop: the stop's digest (or the start's) recorded it.
  expect((await clientFor(stack, 'alice').audit(jobId)).anchor).toMatchObject({ status: 'anchored' });
});
