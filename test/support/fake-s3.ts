/**
 * S3 mocked with aws-sdk-client-mock (every S3Client instance), in memory, for tests that run the deployed
 * functions' container against dynalite alone: the digest store's operations with S3's answers (conditional
 * create with If-None-Match: *, NoSuchKey, NotFound on HEAD, keys listed in ascending order).
 */
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';

const error = (name: string, status: number) => new S3ServiceException({ name, message: name, $fault: 'client', $metadata: { httpStatusCode: status } });

export class FakeS3 {
  readonly mock = mockClient(S3Client);
  /** bucket/key → body. */
  readonly objects = new Map<string, string>();

  constructor() {
    this.mock.on(PutObjectCommand).callsFake((input: { Bucket: string; Key: string; Body?: unknown; IfNoneMatch?: string }) => {
      const id = `${input.Bucket}/${input.Key}`;
      if (input.IfNoneMatch === '*' && this.objects.has(id)) throw error('PreconditionFailed', 412);
      this.objects.set(id, typeof input.Body === 'string' ? input.Body : '');
      return { ETag: '"etag"' };
    });
    this.mock.on(GetObjectCommand).callsFake((input: { Bucket: string; Key: string }) => {
      const body = this.objects.get(`${input.Bucket}/${input.Key}`);
      if (body === undefined) throw error('NoSuchKey', 404);
      // The SDK's streaming body, as far as the store reads it.
      return { ContentLength: Buffer.byteLength(body), Body: { transformToString: () => Promise.resolve(body) } as never };
    });
    this.mock.on(HeadObjectCommand).callsFake((input: { Bucket: string; Key: string }) => {
      if (!this.objects.has(`${input.Bucket}/${input.Key}`)) throw error('NotFound', 404);
      return {};
    });
    this.mock.on(ListObjectsV2Command).callsFake((input: { Bucket: string; Prefix?: string; MaxKeys?: number }) => {
      const prefix = `${input.Bucket}/${input.Prefix ?? ''}`;
      const keys = [...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort().slice(0, input.MaxKeys ?? 1000);
      return { Contents: keys.map((k) => ({ Key: k.slice(input.Bucket.length + 1) })), KeyCount: keys.length };
    });
  }

  restore(): void {
    this.mock.restore();
  }
}
