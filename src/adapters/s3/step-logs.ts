/**
 * The step logs EMR archives under a cluster's LogUri, read with the gateway's own role (serverless.yml grants
 * s3:GetObject under the configured clusters' steps/ of their LogUri, and s3:ListBucket of those prefixes, so that a
 * missing log is told from a forbidden one), or for a cluster of another account, whose bucket is that account's,
 * with the cluster's access role there (cluster-access.ts; its policy grants the same reads). One GetObject per read, its body gunzipped as it streams: the domain stops
 * reading (step-logs.ts) once its window is full, and the download stops with it.
 */
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { pipeline, Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { IntegrityError } from '../../errors';
import type { ClusterClients } from '../emr/cluster-access';
import type { OpenedStepLog, StepLogLocation, StepLogStore } from '../../jobs/step-logs';
import { errorName, translateAwsError } from '../aws-errors';

/** gzip's magic bytes: EMR gzips every log it uploads; anything else is read as it is. */
const GZIP = [0x1f, 0x8b];

export class S3StepLogStore implements StepLogStore {
  constructor(private readonly clients: ClusterClients<S3Client>) {}

  async open({ bucket, key, clusterId }: Pick<StepLogLocation, 'bucket' | 'key'> & { clusterId: string }): Promise<OpenedStepLog | undefined> {
    const s3 = await this.clients.on(clusterId);
    let out;
    try {
      out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    } catch (error) {
      if (errorName(error) === 'NoSuchKey') return undefined;
      // S3 answers a missing key with AccessDenied where the ListBucket grant does not cover the request (its
      // s3:prefix condition has no prefix to see on a GetObject): a listing of exactly that key tells the two apart.
      if (errorName(error) === 'AccessDenied' && !(await listed(s3, bucket, key))) return undefined;
      throw translateAwsError('S3 GetObject', error);
    }
    const body = out.Body as Readable | undefined;
    if (!body) throw new IntegrityError(`S3 GetObject of s3://${bucket}/${key} returned no body`);
    return { ...(out.LastModified ? { lastModified: out.LastModified } : {}), chunks: decompressed(body, `s3://${bucket}/${key}`) };
  }

}

/** Whether the key exists, by a ListObjectsV2 of it as the prefix (the grant's s3:prefix covers it). */
async function listed(s3: S3Client, bucket: string, key: string): Promise<boolean> {
  try {
    const out = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: key, MaxKeys: 1 }));
    return (out.Contents ?? []).some((o) => o.Key === key);
  } catch (error) {
    throw translateAwsError('S3 ListObjectsV2', error);
  }
}

/** The body's bytes, gunzipped where they are gzip; leaving the iteration early ends the download. */
async function* decompressed(body: Readable, uri: string): AsyncGenerator<Uint8Array> {
  const iterator = (body as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  const rest = { [Symbol.asyncIterator]: () => iterator };
  try {
    const first = await iterator.next();
    if (first.done) return;
    const head = first.value;
    if (head[0] !== GZIP[0] || head[1] !== GZIP[1]) {
      yield head;
      yield* rest;
      return;
    }
    const gunzip = createGunzip();
    const source = Readable.from((async function* () {
      yield head;
      yield* rest;
    })());
    pipeline(source, gunzip, () => undefined); // an error destroys gunzip with it, and the loop below throws it
    try {
      for await (const chunk of gunzip as AsyncIterable<Buffer>) yield chunk;
    } catch (error) {
      // zlib's errors (Z_DATA_ERROR, Z_BUF_ERROR: a corrupt or cut object) by their code: not an error of the download.
      const code = (error as { code?: unknown }).code;
      if (typeof code === 'string' && code.startsWith('Z_')) throw new IntegrityError(`${uri} is not a readable gzip file: ${(error as Error).message}`, { cause: error });
      throw error;
    } finally {
      source.destroy();
      gunzip.destroy();
    }
  } finally {
    body.destroy();
  }
}
