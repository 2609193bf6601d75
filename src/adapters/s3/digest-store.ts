/**
 * The digests in S3, in a bucket with Object Lock (serverless.yml: COMPLIANCE mode, default retention), so
 * nothing written here is ever overwritten or deleted, by the gateway or by anyone who can write its tables.
 * Every write is a conditional create (If-None-Match: *): two digesters racing for the same number cannot both
 * win, and a retried anchor is a no-op. Keys sort so that the newest is listed first (S3 lists keys in
 * ascending order): one ListObjectsV2 with MaxKeys 1 finds the newest digest, or a chain's newest anchor.
 *   digests/<inverted number>.json             a signed digest
 *   anchors/<chainId>/<inverted seq>-<number>  digest <number> recorded event <seq> as the chain's head (empty)
 *   complete/<number>                          every anchor of digest <number> is written (empty)
 */
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Anchor, SignedDigest } from '../../audit/digest';
import type { DigestStore } from '../../audit/ports';
import { IntegrityError } from '../../errors';
import { awsCall, errorName, translateAwsError } from '../aws-errors';

const WIDTH = 12;
const MAX = 10 ** WIDTH - 1;
const padded = (n: number): string => String(n).padStart(WIDTH, '0');
const inverted = (n: number): string => padded(MAX - n);
/** Chain ids are job ids (and schedule/trigger chain ids): a key segment must not contain a slash. */
const CHAIN_ID = /^[A-Za-z0-9._:@=+-]{1,512}$/;
const ANCHOR_KEY = /\/(\d{12})-(\d{12})$/;
const DIGEST_KEY = /^digests\/(\d{12})\.json$/;
/** A digest of a busy quarter hour is tens of kilobytes; far beyond that, the object is not one of ours. */
const MAX_DIGEST_BYTES = 64 * 1024 * 1024;

export class S3DigestStore implements DigestStore {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  async latest(): Promise<{ number: number | undefined; read(): Promise<unknown> } | undefined> {
    const key = await this.firstKey('digests/');
    if (key === undefined) return undefined;
    const m = DIGEST_KEY.exec(key);
    return { number: m ? MAX - Number(m[1]) : undefined, read: () => this.read(key) };
  }

  async get(number: number): Promise<unknown> {
    return this.read(`digests/${inverted(number)}.json`);
  }

  async create(digest: SignedDigest): Promise<boolean> {
    return this.createObject(`digests/${inverted(digest.digest.number)}.json`, JSON.stringify(digest), 'application/json');
  }

  async putAnchor(chainId: string, anchor: Anchor): Promise<void> {
    await this.createObject(`anchors/${checkedChainId(chainId)}/${inverted(anchor.seq)}-${padded(anchor.number)}`, '', 'application/octet-stream');
  }

  async latestAnchor(chainId: string): Promise<Anchor | undefined> {
    const key = await this.firstKey(`anchors/${checkedChainId(chainId)}/`);
    if (key === undefined) return undefined;
    const m = ANCHOR_KEY.exec(key);
    if (!m) throw new IntegrityError(`the digest bucket holds an anchor that is not one: ${key.slice(0, 200)}`);
    return { seq: MAX - Number(m[1]), number: Number(m[2]) };
  }

  async isComplete(number: number): Promise<boolean> {
    try {
      await this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: `complete/${padded(number)}` }));
      return true;
    } catch (error) {
      if (errorName(error) === 'NotFound' || errorName(error) === 'NoSuchKey') return false;
      throw translateAwsError('S3 HeadObject', error);
    }
  }

  async markComplete(number: number): Promise<void> {
    await this.createObject(`complete/${padded(number)}`, '', 'application/octet-stream');
  }

  private async firstKey(prefix: string): Promise<string | undefined> {
    const out = await awsCall('S3 ListObjectsV2', () => this.s3.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, MaxKeys: 1 })));
    return out.Contents?.[0]?.Key;
  }

  /** The object's JSON, or its text when it is not JSON (the caller's parse then names the problem); undefined if absent. */
  private async read(key: string): Promise<unknown> {
    try {
      const out = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      if ((out.ContentLength ?? 0) > MAX_DIGEST_BYTES) return `an object of ${out.ContentLength} bytes`;
      const text = (await out.Body?.transformToString('utf8')) ?? '';
      try {
        return JSON.parse(text) as unknown;
      } catch {
        return text;
      }
    } catch (error) {
      if (errorName(error) === 'NoSuchKey') return undefined;
      throw translateAwsError('S3 GetObject', error);
    }
  }

  /** A conditional create: false when the key exists (or a concurrent create of it is in flight). */
  private async createObject(key: string, body: string, contentType: string): Promise<boolean> {
    try {
      await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentLength: Buffer.byteLength(body), ContentType: contentType, IfNoneMatch: '*' }));
      return true;
    } catch (error) {
      if (errorName(error) === 'PreconditionFailed' || errorName(error) === 'ConditionalRequestConflict') return false;
      throw translateAwsError('S3 PutObject', error);
    }
  }
}

function checkedChainId(chainId: string): string {
  if (!CHAIN_ID.test(chainId)) throw new IntegrityError(`${JSON.stringify(chainId.slice(0, 100))} is not a chain id`);
  return chainId;
}
