/**
 * Review of the audit digests (issue 10) on the local stack, through the real adapters (S3DigestStore over the
 * local S3, dynalite on the AWS port): what someone who can write the jobs table, or the digest bucket, can do to
 * the digests. Each case poisons its stack for good (Object Lock keeps what was planted), so each has its own.
 */
import { DeleteItemCommand, DynamoDBClient, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { marshall } from '@aws-sdk/util-dynamodb';
import { headChangesKey } from '../../src/adapters/dynamodb/tables';
import type { LocalStack } from '../../src/local/stack';
import { LOCAL_DIGEST_BUCKET } from '../../src/local/stack';
import { clientFor, finished, newDataDir, startStack } from '../support/local-stack';

jest.setTimeout(90_000);

const CLUSTER = 'j-2AXXXXXXGAPLF';
const ETL = 'arn:aws:iam::123456789012:role/CallerTeamRoleETL';
const credentials = { accessKeyId: 'AKIATEST', secretAccessKey: 'test' };

let stack: LocalStack;
beforeEach(async () => {
  stack = await startStack(newDataDir());
});
afterEach(() => stack.stop());

const s3 = () => new S3Client({ region: stack.region, endpoint: stack.awsUrl, forcePathStyle: true, credentials });
const db = () => new DynamoDBClient({ region: stack.region, endpoint: stack.awsUrl, credentials });
const settle = () => new Promise((r) => setTimeout(r, 2_100)); // past the settle time of the previous digest
const listKeys = async (prefix: string) => ((await s3().send(new ListObjectsV2Command({ Bucket: LOCAL_DIGEST_BUCKET, Prefix: prefix }))).Contents ?? []).map((o) => o.Key!);

async function finishedJob(): Promise<string> {
  const alice = clientFor(stack, 'alice');
  const { jobId } = await alice.submit({ clusterId: CLUSTER, executionRoleArn: ETL, name: 'reviewed', step: { type: 'command', args: ['true'] } });
  await finished(alice, jobId);
  return jobId;
}

/** Cut the tail after `seq` and move the head back there: a rollback done in DynamoDB. */
async function rollBack(jobId: string, seq: number): Promise<void> {
  const trail = await clientFor(stack, 'alice').audit(jobId);
  for (const e of trail.events.slice(seq + 1)) await db().send(new DeleteItemCommand({ TableName: 'emr-gateway-audit', Key: marshall({ jobId, seq: e.seq }) }));
  await db().send(new UpdateItemCommand({ TableName: 'emr-gateway-jobs', Key: marshall({ jobId }), UpdateExpression: 'SET auditSeq = :s, auditHash = :h', ExpressionAttributeValues: marshall({ ':s': seq, ':h': trail.events[seq]!.hash }) }));
}

it('review: a job item planted with an id that cannot be an anchor key (a "/") does not stop the digests', async () => {
  const updatedAt = new Date().toISOString();
  const jobId = 'job-planted/../x';
  await db().send(new PutItemCommand({ TableName: 'emr-gateway-jobs', Item: marshall({ jobId, auditSeq: 0, auditHash: 'a'.repeat(64), updatedAt, updateHour: headChangesKey(jobId, updatedAt) }) }));
  await settle();
  expect(await stack.digests.run()).toMatchObject({ written: true });
  // Were the digest's anchors to stop at the planted id, every later run would try them again first, and fail:
  // no digest after this one, and every job created from now on would read "pending" for ever.
  const honest = await finishedJob();
  await settle();
  expect(await stack.digests.run()).toMatchObject({ written: true });
  expect((await clientFor(stack, 'alice').audit(honest)).anchor).toMatchObject({ status: 'anchored' });
});

it('review: a genuine old digest replayed as the newest (under a higher number) is not taken for the newest', async () => {
  await settle();
  await stack.digests.run();
  const [newestKey] = await listKeys('digests/');
  const old = await (await s3().send(new GetObjectCommand({ Bucket: LOCAL_DIGEST_BUCKET, Key: newestKey! }))).Body!.transformToString();
  // Anyone who may put objects in the bucket: the key of digest 999999999999 sorts first, its body is digest 1 or 2.
  await s3().send(new PutObjectCommand({ Bucket: LOCAL_DIGEST_BUCKET, Key: 'digests/000000000000.json', Body: old, ContentType: 'application/json' }));
  await settle();
  await stack.digests.run(); // chains to the replayed digest N: writes N+1, which the replayed key still hides
  const jobId = await finishedJob();
  await settle();
  // From here on each run answers "another run wrote digest N+1 first": nothing is written, nothing is an error.
  const run = await stack.digests.run();
  expect(run).not.toEqual(expect.objectContaining({ reason: expect.stringMatching(/another run wrote/) as unknown }));
  await rollBack(jobId, 1);
  const trail = await clientFor(stack, 'alice').audit(jobId);
  expect(trail.verification).toMatchObject({ ok: true });
  // The replayed digest's window ended before the job existed, so every new job reads "pending" for ever.
  expect(trail.anchor).toMatchObject({ status: 'broken' });
});

it('review: an anchor planted under a key that is not an anchor\'s is reported on the trail, not a 500', async () => {
  const jobId = await finishedJob();
  await settle();
  await stack.digests.run();
  await s3().send(new PutObjectCommand({ Bucket: LOCAL_DIGEST_BUCKET, Key: `anchors/${jobId}/!`, Body: '', ContentLength: 0 }));
  const trail = await clientFor(stack, 'alice').audit(jobId);
  expect(trail.anchor).toMatchObject({ status: 'broken', problem: expect.stringMatching(/not one/) as unknown });
});
