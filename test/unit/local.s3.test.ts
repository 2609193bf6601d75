/**
 * The local S3 (src/local/s3.ts, s3-http.ts) on the local stack's AWS port, driven by the real
 * `@aws-sdk/client-s3` (path style, as the gateway's clients use it) and, for what the SDK cannot send, by
 * signed raw requests: buckets and their name rules, Object Lock (nothing in a bucket with a default
 * retention rule is overwritten or deleted), PutObject with its flexible checksums (aws-chunked bodies
 * decoded), conditional creates (exactly one of concurrent `If-None-Match: *` PUTs wins), GetObject/HeadObject
 * with ranges and preconditions, ListObjectsV2 in S3's order and pages, hostile keys kept inside the store,
 * the browser guard, and a restart. The AWS CLI against the same service: e2e/aws-cli.test.ts.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { join, relative } from 'node:path';
import { Readable } from 'node:stream';
import { Sha256 } from '@aws-crypto/sha256-js';
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketLocationCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  GetObjectLockConfigurationCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  PutObjectLockConfigurationCommand,
  S3Client,
  type ListObjectsV2CommandOutput,
} from '@aws-sdk/client-s3';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { LocalStack } from '../../src/local/stack';
import { newDataDir, startStack } from '../support/local-stack';

jest.setTimeout(120_000);

const CREDENTIALS = { accessKeyId: 'AKIALOCALS3TEST00000', secretAccessKey: 'local-s3-secret' };
const md5 = (data: string | Buffer): string => createHash('md5').update(data).digest('hex');

let stack: LocalStack;
let dataDir: string;
let s3: S3Client;

function client(region = 'us-east-1'): S3Client {
  return new S3Client({ region, endpoint: stack.awsUrl, forcePathStyle: true, credentials: CREDENTIALS });
}

beforeAll(async () => {
  dataDir = newDataDir();
  stack = await startStack(dataDir);
  s3 = client();
});
afterAll(async () => {
  s3.destroy();
  await stack.stop();
});

interface SdkError {
  name: string;
  message: string;
  $fault?: string;
  $metadata: { httpStatusCode?: number; requestId?: string };
}

/** The error a call rejects with (the test fails if it succeeds). */
async function failure(promise: Promise<unknown>): Promise<SdkError> {
  try {
    await promise;
  } catch (error) {
    return error as SdkError;
  }
  throw new Error('expected the call to fail');
}

/** `name` and HTTP status of the error an S3 call rejects with. */
async function rejection(command: unknown, on = s3): Promise<{ name: string; status: number | undefined }> {
  const error = await failure(on.send(command as never));
  return { name: error.name, status: error.$metadata.httpStatusCode };
}

const text = async (bucket: string, key: string, on = s3): Promise<string> => (await (await on.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToString());

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One request exactly as given, SigV4-signed for S3 unless `sign` is false (the AWS port checks no signature, only the scope). */
async function raw(init: { method: string; path: string; headers?: Record<string, string>; body?: string | Buffer; sign?: boolean; region?: string }): Promise<Reply> {
  const { port, host } = new URL(stack.awsUrl);
  let headers: Record<string, string> = { host, ...init.headers };
  if (init.sign !== false) {
    const signer = new SignatureV4({ service: 's3', region: init.region ?? 'us-east-1', credentials: CREDENTIALS, sha256: Sha256, uriEscapePath: false, applyChecksum: false });
    const [path = '', search = ''] = init.path.split('?');
    const query = Object.fromEntries(new URLSearchParams(search));
    const signed = await signer.sign(new HttpRequest({ method: init.method, protocol: 'http:', hostname: '127.0.0.1', port: Number(port), path, query, headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', ...headers } }));
    headers = signed.headers;
  }
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: init.method, path: init.path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

/** Every file under DATA_DIR/s3, relative to it. */
function storeFiles(dir = join(dataDir, 's3')): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? storeFiles(path) : [relative(join(dataDir, 's3'), path)];
  });
}

describe('routing: S3 is the requests signed for s3', () => {
  it('a request with an s3 credential scope reaches S3 (ListBuckets, as XML); an unsigned one stays unrouted, as before', async () => {
    const listed = await raw({ method: 'GET', path: '/' });
    expect(listed.status).toBe(200);
    expect(listed.headers['content-type']).toBe('application/xml');
    expect(listed.body).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\s*<ListAllMyBucketsResult xmlns="http:\/\/s3.amazonaws.com\/doc\/2006-03-01\/">/);
    const unsigned = await raw({ method: 'GET', path: '/some-bucket/key', sign: false });
    expect(unsigned.status).toBe(400);
    expect(JSON.parse(unsigned.body)).toMatchObject({ __type: 'UnknownOperationException' });
  });

  it('errors are S3\'s XML: Code, Message, Resource, RequestId (the x-amz-request-id header), with the right status', async () => {
    const reply = await raw({ method: 'GET', path: '/no-such-bucket-here/some/key' });
    expect(reply.status).toBe(404);
    expect(reply.headers['content-type']).toBe('application/xml');
    const requestId = reply.headers['x-amz-request-id'];
    expect(requestId).toMatch(/^[0-9A-F]{16}$/);
    expect(reply.headers['x-amz-id-2']).toBeTruthy();
    expect(reply.body).toContain('<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message>');
    expect(reply.body).toContain('<BucketName>no-such-bucket-here</BucketName>');
    expect(reply.body).toContain('<Resource>/no-such-bucket-here/some/key</Resource>');
    expect(reply.body).toContain(`<RequestId>${String(requestId)}</RequestId>`);
    // A HEAD error has no body; the SDK names it by its status.
    const head = await raw({ method: 'HEAD', path: '/no-such-bucket-here' });
    expect(head).toMatchObject({ status: 404, body: '' });
  });

  it('the browser guard covers S3: a signed request with Origin, or a foreign Host, is refused before S3 sees it', async () => {
    const withOrigin = await raw({ method: 'PUT', path: '/planted-by-a-page', headers: { origin: 'https://evil.example' } });
    expect(withOrigin.status).toBe(403);
    expect(Object.keys(withOrigin.headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);
    const rebound = await raw({ method: 'PUT', path: '/planted-by-rebinding', headers: { host: 'evil.example' } });
    expect(rebound.status).toBe(403);
    const { Buckets = [] } = await s3.send(new ListBucketsCommand({}));
    expect(Buckets.map((b) => b.Name)).not.toEqual(expect.arrayContaining(['planted-by-a-page']));
    expect(Buckets.map((b) => b.Name)).not.toEqual(expect.arrayContaining(['planted-by-rebinding']));
  });
});

describe('buckets', () => {
  it('CreateBucket, HeadBucket (its region), ListBuckets (name, date, region, owner), GetBucketLocation', async () => {
    const created = await s3.send(new CreateBucketCommand({ Bucket: 'plain-bucket' }));
    expect(created.Location).toBe('/plain-bucket');
    const head = await s3.send(new HeadBucketCommand({ Bucket: 'plain-bucket' }));
    expect(head.BucketRegion).toBe('us-east-1');
    const listed = await s3.send(new ListBucketsCommand({}));
    const bucket = listed.Buckets?.find((b) => b.Name === 'plain-bucket');
    expect(bucket).toMatchObject({ Name: 'plain-bucket', BucketRegion: 'us-east-1' });
    expect(Math.abs(bucket!.CreationDate!.getTime() - Date.now())).toBeLessThan(60_000);
    expect(listed.Owner?.ID).toMatch(/^[0-9a-f]{64}$/);
    // us-east-1 reports its location as the empty constraint
    expect((await s3.send(new GetBucketLocationCommand({ Bucket: 'plain-bucket' }))).LocationConstraint).toBeUndefined();
  });

  it('a bucket in another region: its LocationConstraint must be the region the request is signed for', async () => {
    const eu = client('eu-west-1');
    await eu.send(new CreateBucketCommand({ Bucket: 'eu-bucket', CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } }));
    expect((await eu.send(new HeadBucketCommand({ Bucket: 'eu-bucket' }))).BucketRegion).toBe('eu-west-1');
    expect((await eu.send(new GetBucketLocationCommand({ Bucket: 'eu-bucket' }))).LocationConstraint).toBe('eu-west-1');
    // outside us-east-1, creating a bucket you own again is BucketAlreadyOwnedByYou
    expect(await rejection(new CreateBucketCommand({ Bucket: 'eu-bucket', CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } }), eu)).toEqual({ name: 'BucketAlreadyOwnedByYou', status: 409 });
    // the SDK supplies its region as the constraint; a request without one, signed for eu-west-1, is refused
    await eu.send(new CreateBucketCommand({ Bucket: 'eu-bucket-2' }));
    expect((await eu.send(new HeadBucketCommand({ Bucket: 'eu-bucket-2' }))).BucketRegion).toBe('eu-west-1');
    const unconstrained = await raw({ method: 'PUT', path: '/eu-bucket-4', region: 'eu-west-1' });
    expect(unconstrained.status).toBe(400);
    expect(unconstrained.body).toContain('<Code>IllegalLocationConstraintException</Code><Message>The unspecified location constraint is incompatible for the region specific endpoint this request was sent to.</Message>');
    expect(await rejection(new CreateBucketCommand({ Bucket: 'eu-bucket-3', CreateBucketConfiguration: { LocationConstraint: 'us-west-2' } }), eu)).toEqual({ name: 'IllegalLocationConstraintException', status: 400 });
    expect(await rejection(new CreateBucketCommand({ Bucket: 'us-bucket', CreateBucketConfiguration: { LocationConstraint: 'us-east-1' as never } }))).toEqual({ name: 'InvalidLocationConstraint', status: 400 });
    eu.destroy();
  });

  it('in us-east-1, creating a bucket you own again answers 200 and changes nothing (S3\'s legacy behaviour there)', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'twice-created' }));
    await expect(s3.send(new CreateBucketCommand({ Bucket: 'twice-created', ObjectLockEnabledForBucket: true }))).resolves.toBeDefined();
    expect(await rejection(new GetObjectLockConfigurationCommand({ Bucket: 'twice-created' }))).toEqual({ name: 'ObjectLockConfigurationNotFoundError', status: 404 });
  });

  it('bucket names follow S3\'s rules: InvalidBucketName otherwise', async () => {
    const invalid = ['ab', 'a'.repeat(64), 'Upper-Case', 'under_score', '-leading', 'trailing-', 'two..dots', '192.168.5.4', 'xn--punycode', 'sthree-x', 'ends-s3alias', 'ends--ol-s3', 'dot.', 'amzn-s3-demo-bucket'];
    for (const name of invalid) expect([name, await rejection(new CreateBucketCommand({ Bucket: name }))]).toEqual([name, { name: 'InvalidBucketName', status: 400 }]);
    for (const name of ['abc', 'a'.repeat(63), 'with.dots.1', 'digits-0-9']) await s3.send(new CreateBucketCommand({ Bucket: name }));
  });

  it('NoSuchBucket where the bucket does not exist (NotFound for HEAD, which has no body)', async () => {
    expect(await rejection(new ListObjectsV2Command({ Bucket: 'missing-bucket' }))).toEqual({ name: 'NoSuchBucket', status: 404 });
    expect(await rejection(new PutObjectCommand({ Bucket: 'missing-bucket', Key: 'k', Body: 'x' }))).toEqual({ name: 'NoSuchBucket', status: 404 });
    expect(await rejection(new GetObjectCommand({ Bucket: 'missing-bucket', Key: 'k' }))).toEqual({ name: 'NoSuchBucket', status: 404 });
    expect(await rejection(new HeadBucketCommand({ Bucket: 'missing-bucket' }))).toEqual({ name: 'NotFound', status: 404 });
    expect(await rejection(new DeleteBucketCommand({ Bucket: 'missing-bucket' }))).toEqual({ name: 'NoSuchBucket', status: 404 });
  });

  it('DeleteBucket: only an empty bucket (BucketNotEmpty otherwise); then it is gone', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'to-delete' }));
    await s3.send(new PutObjectCommand({ Bucket: 'to-delete', Key: 'k', Body: 'x' }));
    expect(await rejection(new DeleteBucketCommand({ Bucket: 'to-delete' }))).toEqual({ name: 'BucketNotEmpty', status: 409 });
    await s3.send(new DeleteObjectCommand({ Bucket: 'to-delete', Key: 'k' }));
    const deleted = await s3.send(new DeleteBucketCommand({ Bucket: 'to-delete' }));
    expect(deleted.$metadata.httpStatusCode).toBe(204);
    expect(await rejection(new HeadBucketCommand({ Bucket: 'to-delete' }))).toEqual({ name: 'NotFound', status: 404 });
    expect(existsSync(join(dataDir, 's3', 'to-delete'))).toBe(false);
  });
});

describe('objects', () => {
  beforeAll(() => s3.send(new CreateBucketCommand({ Bucket: 'objects' })));

  it('PutObject then GetObject and HeadObject: the body, Content-Type, user metadata, ETag (MD5), Content-Length, Last-Modified', async () => {
    const before = Math.floor(Date.now() / 1000) * 1000;
    const put = await s3.send(new PutObjectCommand({ Bucket: 'objects', Key: 'dir/hello.txt', Body: 'hello, world', ContentType: 'text/plain', Metadata: { owner: 'alice', 'job-id': 'job-1' } }));
    expect(put.ETag).toBe(`"${md5('hello, world')}"`);
    expect(put.ChecksumCRC32).toBeTruthy(); // the SDK sent CRC32 by default; S3 answers with it
    const got = await s3.send(new GetObjectCommand({ Bucket: 'objects', Key: 'dir/hello.txt' }));
    expect(await got.Body!.transformToString()).toBe('hello, world');
    expect(got).toMatchObject({ ContentType: 'text/plain', ContentLength: 12, ETag: put.ETag, Metadata: { owner: 'alice', 'job-id': 'job-1' }, AcceptRanges: 'bytes', ChecksumCRC32: put.ChecksumCRC32 });
    expect(got.LastModified!.getTime()).toBeGreaterThanOrEqual(before);
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'objects', Key: 'dir/hello.txt' }));
    expect(head).toMatchObject({ ContentType: 'text/plain', ContentLength: 12, ETag: put.ETag, Metadata: { owner: 'alice', 'job-id': 'job-1' }, LastModified: got.LastModified });
    const rawHead = await raw({ method: 'HEAD', path: '/objects/dir/hello.txt' });
    expect(rawHead.headers['last-modified']).toBe(got.LastModified!.toUTCString()); // RFC 7231 IMF-fixdate
    // a form-encoded object is S3's, not a Query-protocol (STS) call
    await s3.send(new PutObjectCommand({ Bucket: 'objects', Key: 'form', Body: 'Action=AssumeRole&Version=2011-06-15', ContentType: 'application/x-www-form-urlencoded' }));
    expect(await text('objects', 'form')).toBe('Action=AssumeRole&Version=2011-06-15');
    // no Content-Type given (the SDK always sends one; the AWS CLI's put-object does not): S3's binary/octet-stream
    expect((await raw({ method: 'PUT', path: '/objects/untyped', body: Buffer.from([0, 1, 2, 255]) })).status).toBe(200);
    const untyped = await s3.send(new GetObjectCommand({ Bucket: 'objects', Key: 'untyped' }));
    expect(untyped.ContentType).toBe('binary/octet-stream');
    expect(Buffer.from(await untyped.Body!.transformToByteArray())).toEqual(Buffer.from([0, 1, 2, 255]));
  });

  it('GetObject with Range: 206 and Content-Range; an unsatisfiable range: InvalidRange (416)', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'objects', Key: 'digits', Body: '0123456789' }));
    const part = await s3.send(new GetObjectCommand({ Bucket: 'objects', Key: 'digits', Range: 'bytes=2-5' }));
    expect(part.$metadata.httpStatusCode).toBe(206);
    expect(part).toMatchObject({ ContentRange: 'bytes 2-5/10', ContentLength: 4 });
    expect(await part.Body!.transformToString()).toBe('2345');
    expect(await (await s3.send(new GetObjectCommand({ Bucket: 'objects', Key: 'digits', Range: 'bytes=7-' }))).Body!.transformToString()).toBe('789');
    expect(await (await s3.send(new GetObjectCommand({ Bucket: 'objects', Key: 'digits', Range: 'bytes=-3' }))).Body!.transformToString()).toBe('789');
    expect(await (await s3.send(new GetObjectCommand({ Bucket: 'objects', Key: 'digits', Range: 'bytes=8-100' }))).Body!.transformToString()).toBe('89');
    expect(await rejection(new GetObjectCommand({ Bucket: 'objects', Key: 'digits', Range: 'bytes=10-12' }))).toEqual({ name: 'InvalidRange', status: 416 });
  });

  it('GetObject preconditions: If-Match (412 PreconditionFailed), If-None-Match (304), as HTTP orders them', async () => {
    const { ETag } = await s3.send(new PutObjectCommand({ Bucket: 'objects', Key: 'conditional-read', Body: 'v1' }));
    expect(await text('objects', 'conditional-read')).toBe('v1');
    await expect(s3.send(new GetObjectCommand({ Bucket: 'objects', Key: 'conditional-read', IfMatch: ETag }))).resolves.toMatchObject({ ETag });
    expect(await rejection(new GetObjectCommand({ Bucket: 'objects', Key: 'conditional-read', IfMatch: '"0123"' }))).toEqual({ name: 'PreconditionFailed', status: 412 });
    expect((await rejection(new GetObjectCommand({ Bucket: 'objects', Key: 'conditional-read', IfNoneMatch: ETag }))).status).toBe(304);
    await expect(s3.send(new GetObjectCommand({ Bucket: 'objects', Key: 'conditional-read', IfNoneMatch: '"other"' }))).resolves.toMatchObject({ ETag });
    expect((await rejection(new HeadObjectCommand({ Bucket: 'objects', Key: 'conditional-read', IfMatch: '"0123"' }))).status).toBe(412);
  });

  it('a missing key: NoSuchKey (404) for GET, NotFound for HEAD', async () => {
    expect(await rejection(new GetObjectCommand({ Bucket: 'objects', Key: 'missing' }))).toEqual({ name: 'NoSuchKey', status: 404 });
    expect(await rejection(new HeadObjectCommand({ Bucket: 'objects', Key: 'missing' }))).toEqual({ name: 'NotFound', status: 404 });
    const reply = await raw({ method: 'GET', path: '/objects/missing' });
    expect(reply.body).toContain('<Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Key>missing</Key>');
  });

  it('in a plain bucket an object can be overwritten and deleted (DeleteObject, DeleteObjects)', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'objects', Key: 'mutable', Body: 'one' }));
    await s3.send(new PutObjectCommand({ Bucket: 'objects', Key: 'mutable', Body: 'two' }));
    expect(await text('objects', 'mutable')).toBe('two');
    expect((await s3.send(new DeleteObjectCommand({ Bucket: 'objects', Key: 'mutable' }))).$metadata.httpStatusCode).toBe(204);
    expect(await rejection(new GetObjectCommand({ Bucket: 'objects', Key: 'mutable' }))).toEqual({ name: 'NoSuchKey', status: 404 });
    // deleting what is not there succeeds, as in S3
    await s3.send(new DeleteObjectCommand({ Bucket: 'objects', Key: 'mutable' }));
    await s3.send(new PutObjectCommand({ Bucket: 'objects', Key: 'many/1', Body: '1' }));
    await s3.send(new PutObjectCommand({ Bucket: 'objects', Key: 'many/2', Body: '2' }));
    const deleted = await s3.send(new DeleteObjectsCommand({ Bucket: 'objects', Delete: { Objects: [{ Key: 'many/1' }, { Key: 'many/2' }, { Key: 'many/never' }] } }));
    expect(deleted.Deleted?.map((d) => d.Key).sort()).toEqual(['many/1', 'many/2', 'many/never']);
    expect(deleted.Errors).toBeUndefined();
    expect((await s3.send(new ListObjectsV2Command({ Bucket: 'objects', Prefix: 'many/' }))).KeyCount).toBe(0);
    const quiet = await s3.send(new DeleteObjectsCommand({ Bucket: 'objects', Delete: { Quiet: true, Objects: [{ Key: 'many/1' }] } }));
    expect(quiet.Deleted).toBeUndefined();
  });

  it('conditional create: If-None-Match: * writes once, then PreconditionFailed (412); the first body stays', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'objects', Key: 'once', Body: 'first', IfNoneMatch: '*' }));
    expect(await rejection(new PutObjectCommand({ Bucket: 'objects', Key: 'once', Body: 'second', IfNoneMatch: '*' }))).toEqual({ name: 'PreconditionFailed', status: 412 });
    expect(await text('objects', 'once')).toBe('first');
    const reply = await raw({ method: 'PUT', path: '/objects/once', headers: { 'if-none-match': '*' }, body: 'third' });
    expect(reply.status).toBe(412);
    expect(reply.body).toContain('<Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold</Message><Condition>If-None-Match</Condition>');
  });

  it('concurrent conditional creates of one key: exactly one 200, every other one 412, and the winner\'s body is stored', async () => {
    const bodies = Array.from({ length: 24 }, (_, i) => `writer ${i} `.repeat(2000));
    const clients = Array.from({ length: 4 }, () => client());
    const results = await Promise.allSettled(bodies.map((Body, i) => clients[i % clients.length]!.send(new PutObjectCommand({ Bucket: 'objects', Key: 'race', Body, IfNoneMatch: '*' }))));
    const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
    expect(won).toHaveLength(1);
    const losers = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => (r.reason as SdkError).$metadata.httpStatusCode);
    expect(losers).toEqual(Array.from({ length: bodies.length - 1 }, () => 412));
    expect(await text('objects', 'race')).toBe(bodies[won[0]!]);
    for (const c of clients) c.destroy();
  });

  it('PutObject If-Match: only over the ETag given (412 otherwise, NoSuchKey where there is nothing)', async () => {
    const { ETag } = await s3.send(new PutObjectCommand({ Bucket: 'objects', Key: 'cas', Body: 'v1' }));
    await s3.send(new PutObjectCommand({ Bucket: 'objects', Key: 'cas', Body: 'v2', IfMatch: ETag }));
    expect(await rejection(new PutObjectCommand({ Bucket: 'objects', Key: 'cas', Body: 'v3', IfMatch: ETag }))).toEqual({ name: 'PreconditionFailed', status: 412 });
    expect(await text('objects', 'cas')).toBe('v2');
    expect(await rejection(new PutObjectCommand({ Bucket: 'objects', Key: 'cas-missing', Body: 'v1', IfMatch: ETag }))).toEqual({ name: 'NoSuchKey', status: 404 });
  });

  it('multipart upload is not implemented: NotImplemented (501)', async () => {
    expect(await rejection(new CreateMultipartUploadCommand({ Bucket: 'objects', Key: 'big' }))).toEqual({ name: 'NotImplemented', status: 501 });
  });

  it('a body over 16 MB: EntityTooLarge, nothing stored', async () => {
    const reply = await raw({ method: 'PUT', path: '/objects/too-large', body: Buffer.alloc(16 * 1024 * 1024 + 1) });
    expect(reply.status).toBe(400);
    expect(reply.body).toContain('<Code>EntityTooLarge</Code>');
    expect(await rejection(new PutObjectCommand({ Bucket: 'objects', Key: 'too-large', Body: Buffer.alloc(16 * 1024 * 1024 + 1) }))).toEqual({ name: 'EntityTooLarge', status: 400 });
    expect(await rejection(new HeadObjectCommand({ Bucket: 'objects', Key: 'too-large' }))).toEqual({ name: 'NotFound', status: 404 });
    const exactly = Buffer.alloc(16 * 1024 * 1024, 7);
    const { ETag } = await s3.send(new PutObjectCommand({ Bucket: 'objects', Key: 'sixteen-mb', Body: exactly }));
    expect(ETag).toBe(`"${md5(exactly)}"`);
  });
});

describe('checksums and aws-chunked bodies', () => {
  beforeAll(() => s3.send(new CreateBucketCommand({ Bucket: 'checksums' })));

  it('a streamed body (aws-chunked, STREAMING-UNSIGNED-PAYLOAD-TRAILER, the checksum in a trailer) is stored as its payload', async () => {
    const parts = [Buffer.from('first part, '), Buffer.from('second part, '), Buffer.alloc(70_000, 'x'), Buffer.from('end')];
    const payload = Buffer.concat(parts);
    const put = await s3.send(new PutObjectCommand({ Bucket: 'checksums', Key: 'streamed', Body: Readable.from(parts), ContentLength: payload.length }));
    expect(put.ETag).toBe(`"${md5(payload)}"`);
    const got = await s3.send(new GetObjectCommand({ Bucket: 'checksums', Key: 'streamed' }));
    expect(Buffer.from(await got.Body!.transformToByteArray())).toEqual(payload);
    expect(got.ContentLength).toBe(payload.length);
    expect(got.ContentEncoding).toBeUndefined(); // aws-chunked is the transfer's, not the object's
    expect(got.ChecksumCRC32).toBe(put.ChecksumCRC32);
  });

  it.each(['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'] as const)('%s: the SDK\'s checksum is checked, kept, and answered on GET (which the SDK validates)', async (algorithm) => {
    const body = `a body checked with ${algorithm}`;
    const put = await s3.send(new PutObjectCommand({ Bucket: 'checksums', Key: algorithm, Body: body, ChecksumAlgorithm: algorithm }));
    const member = `Checksum${algorithm}` as const;
    expect(put[member]).toBeTruthy();
    const got = await s3.send(new GetObjectCommand({ Bucket: 'checksums', Key: algorithm }));
    expect(got[member]).toBe(put[member]);
    expect(got.ChecksumType).toBe('FULL_OBJECT');
    expect(await got.Body!.transformToString()).toBe(body);
    // streamed too
    await s3.send(new PutObjectCommand({ Bucket: 'checksums', Key: `${algorithm}-streamed`, Body: Readable.from([Buffer.from(body)]), ContentLength: body.length, ChecksumAlgorithm: algorithm }));
    expect((await s3.send(new HeadObjectCommand({ Bucket: 'checksums', Key: `${algorithm}-streamed`, ChecksumMode: 'ENABLED' })))[member]).toBe(put[member]);
  });

  it('a checksum, Content-MD5 or x-amz-content-sha256 that does not match the body: BadDigest / XAmzContentSHA256Mismatch, nothing stored', async () => {
    const crc = await raw({ method: 'PUT', path: '/checksums/bad-crc', headers: { 'x-amz-checksum-crc32': 'AAAAAA==' }, body: 'payload' });
    expect(crc.status).toBe(400);
    expect(crc.body).toContain('<Code>BadDigest</Code><Message>The CRC32 you specified did not match the calculated checksum.</Message>');
    const contentMd5 = await raw({ method: 'PUT', path: '/checksums/bad-md5', headers: { 'content-md5': createHash('md5').update('other').digest('base64') }, body: 'payload' });
    expect(contentMd5.status).toBe(400);
    expect(contentMd5.body).toContain('<Code>BadDigest</Code>');
    const invalidMd5 = await raw({ method: 'PUT', path: '/checksums/bad-md5', headers: { 'content-md5': 'not-md5' }, body: 'payload' });
    expect(invalidMd5.body).toContain('<Code>InvalidDigest</Code>');
    const signedSha = await raw({ method: 'PUT', path: '/checksums/bad-sha', headers: { 'x-amz-content-sha256': createHash('sha256').update('other').digest('hex') }, body: 'payload' });
    expect(signedSha.body).toContain('<Code>XAmzContentSHA256Mismatch</Code>');
    const good = await raw({ method: 'PUT', path: '/checksums/good-md5', headers: { 'content-md5': createHash('md5').update('payload').digest('base64') }, body: 'payload' });
    expect(good.status).toBe(200);
    const keys = (await s3.send(new ListObjectsV2Command({ Bucket: 'checksums', Prefix: 'bad-' }))).KeyCount;
    expect(keys).toBe(0);
  });

  it('signed aws-chunked (chunk-signature lines) and a trailer checksum that does not match', async () => {
    const chunked = '5;chunk-signature=0f1e\r\nhello\r\n6;chunk-signature=2d3c\r\n world\r\n0;chunk-signature=4b5a\r\n\r\n';
    const ok = await raw({ method: 'PUT', path: '/checksums/signed-chunks', headers: { 'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD', 'content-encoding': 'aws-chunked', 'x-amz-decoded-content-length': '11' }, body: chunked });
    expect(ok.status).toBe(200);
    expect(await text('checksums', 'signed-chunks')).toBe('hello world');
    const trailer = '5\r\nhello\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n';
    const bad = await raw({ method: 'PUT', path: '/checksums/bad-trailer', headers: { 'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER', 'content-encoding': 'aws-chunked', 'x-amz-decoded-content-length': '5', 'x-amz-trailer': 'x-amz-checksum-crc32' }, body: trailer });
    expect(bad.status).toBe(400);
    expect(bad.body).toContain('<Code>BadDigest</Code>');
    const short = await raw({ method: 'PUT', path: '/checksums/short', headers: { 'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER', 'content-encoding': 'aws-chunked', 'x-amz-decoded-content-length': '9' }, body: '5\r\nhello\r\n0\r\n\r\n' });
    expect(short.status).toBe(400);
    expect(short.body).toContain('<Code>IncompleteBody</Code>');
  });
});

describe('Object Lock: the audit digests\' bucket is append-only', () => {
  const RULE = { ObjectLockEnabled: 'Enabled' as const, Rule: { DefaultRetention: { Mode: 'COMPLIANCE' as const, Days: 1 } } };

  beforeAll(async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'audit-digests', ObjectLockEnabledForBucket: true }));
  });

  it('a bucket created with Object Lock: enabled without a rule at first, versioning Enabled; a plain one has neither', async () => {
    expect((await s3.send(new GetObjectLockConfigurationCommand({ Bucket: 'audit-digests' }))).ObjectLockConfiguration).toEqual({ ObjectLockEnabled: 'Enabled' });
    expect((await s3.send(new GetBucketVersioningCommand({ Bucket: 'audit-digests' }))).Status).toBe('Enabled');
    await s3.send(new CreateBucketCommand({ Bucket: 'not-locked' }));
    expect(await rejection(new GetObjectLockConfigurationCommand({ Bucket: 'not-locked' }))).toEqual({ name: 'ObjectLockConfigurationNotFoundError', status: 404 });
    expect((await s3.send(new GetBucketVersioningCommand({ Bucket: 'not-locked' }))).Status).toBeUndefined();
    // Object Lock needs versioning, which the local S3 has only in lock-enabled buckets
    expect(await rejection(new PutObjectLockConfigurationCommand({ Bucket: 'not-locked', ObjectLockConfiguration: RULE }))).toEqual({ name: 'InvalidBucketState', status: 409 });
  });

  it('PutObjectLockConfiguration sets the default rule (COMPLIANCE or GOVERNANCE, Days or Years); a malformed one is refused', async () => {
    await s3.send(new PutObjectLockConfigurationCommand({ Bucket: 'audit-digests', ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Years: 2 } } } }));
    expect((await s3.send(new GetObjectLockConfigurationCommand({ Bucket: 'audit-digests' }))).ObjectLockConfiguration).toEqual({ ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Years: 2 } } });
    const put = (DefaultRetention: Record<string, unknown>) => new PutObjectLockConfigurationCommand({ Bucket: 'audit-digests', ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention } } });
    expect(await rejection(put({ Mode: 'COMPLIANCE', Days: 1, Years: 1 }))).toEqual({ name: 'MalformedXML', status: 400 });
    expect(await rejection(put({ Mode: 'COMPLIANCE' }))).toEqual({ name: 'MalformedXML', status: 400 });
    expect(await rejection(put({ Mode: 'FOREVER', Days: 1 }))).toEqual({ name: 'MalformedXML', status: 400 });
    expect(await rejection(put({ Mode: 'COMPLIANCE', Days: 0 }))).toEqual({ name: 'InvalidArgument', status: 400 });
    await s3.send(new PutObjectLockConfigurationCommand({ Bucket: 'audit-digests', ObjectLockConfiguration: RULE }));
    expect((await s3.send(new GetObjectLockConfigurationCommand({ Bucket: 'audit-digests' }))).ObjectLockConfiguration).toEqual(RULE);
  });

  it('an object takes the default retention; it cannot be overwritten or deleted (AccessDenied), with or without If-None-Match', async () => {
    const put = await s3.send(new PutObjectCommand({ Bucket: 'audit-digests', Key: 'digests/2026/0001.json', Body: '{"head":"abc"}', ContentType: 'application/json', IfNoneMatch: '*' }));
    expect(put.VersionId).toBeTruthy();
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'audit-digests', Key: 'digests/2026/0001.json' }));
    expect(head).toMatchObject({ ObjectLockMode: 'COMPLIANCE', VersionId: put.VersionId });
    expect(Math.abs(head.ObjectLockRetainUntilDate!.getTime() - (Date.now() + 86_400_000))).toBeLessThan(60_000);
    expect(await rejection(new PutObjectCommand({ Bucket: 'audit-digests', Key: 'digests/2026/0001.json', Body: '{"head":"forged"}' }))).toEqual({ name: 'AccessDenied', status: 403 });
    expect(await rejection(new PutObjectCommand({ Bucket: 'audit-digests', Key: 'digests/2026/0001.json', Body: '{"head":"forged"}', IfNoneMatch: '*' }))).toEqual({ name: 'PreconditionFailed', status: 412 });
    expect(await rejection(new DeleteObjectCommand({ Bucket: 'audit-digests', Key: 'digests/2026/0001.json' }))).toEqual({ name: 'AccessDenied', status: 403 });
    expect(await rejection(new DeleteObjectCommand({ Bucket: 'audit-digests', Key: 'digests/2026/0001.json', VersionId: put.VersionId, BypassGovernanceRetention: true }))).toEqual({ name: 'AccessDenied', status: 403 });
    const many = await s3.send(new DeleteObjectsCommand({ Bucket: 'audit-digests', Delete: { Objects: [{ Key: 'digests/2026/0001.json' }] } }));
    expect(many.Deleted).toBeUndefined();
    expect(many.Errors).toEqual([{ Key: 'digests/2026/0001.json', Code: 'AccessDenied', Message: 'Access Denied because object protected by object lock.' }]);
    expect(await text('audit-digests', 'digests/2026/0001.json')).toBe('{"head":"abc"}');
    // a key not written before is written once
    await s3.send(new PutObjectCommand({ Bucket: 'audit-digests', Key: 'digests/2026/0002.json', Body: '{"head":"def"}' }));
    expect(await rejection(new DeleteBucketCommand({ Bucket: 'audit-digests' }))).toEqual({ name: 'BucketNotEmpty', status: 409 });
  });
});

describe('ListObjectsV2', () => {
  beforeAll(() => s3.send(new CreateBucketCommand({ Bucket: 'listing' })));

  it('keys in UTF-8 binary order, as S3 lists them (not JavaScript\'s UTF-16 order)', async () => {
    const keys = ['order/a', 'order/Z', 'order/~', 'order/\u{FFFD}', 'order/\u{1F600}', 'order/é', 'order/a/b', 'order/a b'];
    for (const Key of keys) await s3.send(new PutObjectCommand({ Bucket: 'listing', Key, Body: Key }));
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'listing', Prefix: 'order/' }));
    const utf8Order = [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    expect(utf8Order).not.toEqual([...keys].sort());
    expect(listed.Contents?.map((c) => c.Key)).toEqual(utf8Order);
    expect(listed).toMatchObject({ Name: 'listing', Prefix: 'order/', KeyCount: keys.length, MaxKeys: 1000, IsTruncated: false });
    expect(listed.Contents?.[0]).toMatchObject({ Size: expect.any(Number), ETag: expect.stringMatching(/^"[0-9a-f]{32}"$/), StorageClass: 'STANDARD', LastModified: expect.any(Date) });
  });

  it('prefix and delimiter: CommonPrefixes, counted in KeyCount and in max-keys pages', async () => {
    for (const Key of ['tree/2024/a', 'tree/2024/b', 'tree/2025/c', 'tree/x', 'tree-not/y']) await s3.send(new PutObjectCommand({ Bucket: 'listing', Key, Body: '.' }));
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'listing', Prefix: 'tree/', Delimiter: '/' }));
    expect(listed.Contents?.map((c) => c.Key)).toEqual(['tree/x']);
    expect(listed.CommonPrefixes).toEqual([{ Prefix: 'tree/2024/' }, { Prefix: 'tree/2025/' }]);
    expect(listed).toMatchObject({ KeyCount: 3, Delimiter: '/', IsTruncated: false });
    const pages: string[][] = [];
    let token: string | undefined;
    do {
      const page: ListObjectsV2CommandOutput = await s3.send(new ListObjectsV2Command({ Bucket: 'listing', Prefix: 'tree/', Delimiter: '/', MaxKeys: 1, ContinuationToken: token }));
      pages.push([...(page.CommonPrefixes ?? []).map((p) => p.Prefix!), ...(page.Contents ?? []).map((c) => c.Key!)]);
      expect(page.KeyCount).toBe(1);
      token = page.NextContinuationToken;
      expect(page.IsTruncated).toBe(token !== undefined);
    } while (token);
    expect(pages).toEqual([['tree/2024/'], ['tree/2025/'], ['tree/x']]);
    const after = await s3.send(new ListObjectsV2Command({ Bucket: 'listing', Prefix: 'tree', StartAfter: 'tree/2024/a' }));
    // '-' sorts before '/': tree-not/y comes before the start
    expect(after.Contents?.map((c) => c.Key)).toEqual(['tree/2024/b', 'tree/2025/c', 'tree/x']);
    expect(after.StartAfter).toBe('tree/2024/a');
  });

  it('encoding-type=url encodes keys and prefixes; a bad continuation token or max-keys: InvalidArgument', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'listing', Key: 'enc/a b+c&d/e', Body: '.' }));
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'listing', Prefix: 'enc/', Delimiter: '/', EncodingType: 'url' }));
    expect(listed.EncodingType).toBe('url');
    expect(listed.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['enc/a+b%2Bc%26d/']);
    expect(decodeURIComponent(listed.CommonPrefixes![0]!.Prefix!.replace(/\+/g, ' '))).toBe('enc/a b+c&d/');
    expect(await rejection(new ListObjectsV2Command({ Bucket: 'listing', ContinuationToken: 'not-a-token' }))).toEqual({ name: 'InvalidArgument', status: 400 });
    expect(await rejection(new ListObjectsV2Command({ Bucket: 'listing', MaxKeys: -1 }))).toEqual({ name: 'InvalidArgument', status: 400 });
    expect(await rejection(new ListObjectsV2Command({ Bucket: 'listing', EncodingType: 'base64' as never }))).toEqual({ name: 'InvalidArgument', status: 400 });
  });

  it('over 1000 keys: pages of at most 1000 with an opaque continuation token, every key once, in order', async () => {
    const keys = Array.from({ length: 1234 }, (_, i) => `many/${String(i).padStart(5, '0')}`);
    for (let i = 0; i < keys.length; i += 50) await Promise.all(keys.slice(i, i + 50).map((Key) => s3.send(new PutObjectCommand({ Bucket: 'listing', Key, Body: Key }))));
    const first = await s3.send(new ListObjectsV2Command({ Bucket: 'listing', Prefix: 'many/', MaxKeys: 5000 }));
    expect(first).toMatchObject({ KeyCount: 1000, IsTruncated: true });
    expect(first.Contents).toHaveLength(1000);
    expect(first.NextContinuationToken).toBeTruthy();
    expect(first.NextContinuationToken).not.toContain('many/');
    const second = await s3.send(new ListObjectsV2Command({ Bucket: 'listing', Prefix: 'many/', ContinuationToken: first.NextContinuationToken }));
    expect(second).toMatchObject({ KeyCount: 234, IsTruncated: false, ContinuationToken: first.NextContinuationToken });
    expect(second.NextContinuationToken).toBeUndefined();
    expect([...first.Contents!, ...second.Contents!].map((c) => c.Key)).toEqual(keys);
  });
});

describe('hostile keys stay inside the store', () => {
  const hostile = ['../../x', '../../../../etc/passwd-copy', '/absolute/path', 'nul\u0000in/key', 'dot/./dot/../x', '..', '.', 'é'.repeat(512)];

  beforeAll(() => s3.send(new CreateBucketCommand({ Bucket: 'hostile' })));

  it('each key round-trips exactly; the files are named by a hash, inside the bucket\'s objects directory', async () => {
    for (const Key of hostile) await s3.send(new PutObjectCommand({ Bucket: 'hostile', Key, Body: `body of ${Key}` }));
    for (const Key of hostile) expect(await text('hostile', Key)).toBe(`body of ${Key}`);
    // listed url-encoded (XML 1.0 cannot carry a NUL), decoded as the SDKs decode it
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'hostile', EncodingType: 'url' }));
    expect(listed.Contents?.map((c) => decodeURIComponent(c.Key!.replace(/\+/g, ' '))).sort()).toEqual([...hostile].sort());
    expect(existsSync(join(dataDir, 'x'))).toBe(false);
    expect(existsSync(join(dataDir, 's3', 'x'))).toBe(false);
    expect(existsSync(join(dataDir, 'absolute'))).toBe(false);
    const files = storeFiles().filter((f) => f.startsWith('hostile/'));
    expect(files.sort()).toEqual(['hostile/bucket.json', ...hostile.map((k) => `hostile/objects/${createHash('sha256').update(k).digest('hex')}`)].sort());
  });

  it('a key over 1024 bytes of UTF-8: KeyTooLongError; a path that is not valid percent-encoded UTF-8: InvalidURI', async () => {
    expect(await rejection(new PutObjectCommand({ Bucket: 'hostile', Key: `${'é'.repeat(512)}x`, Body: '.' }))).toEqual({ name: 'KeyTooLongError', status: 400 });
    const reply = await raw({ method: 'PUT', path: '/hostile/bad%FFutf8', body: '.' });
    expect(reply.status).toBe(400);
    expect(reply.body).toContain('<Code>InvalidURI</Code>');
  });
});

describe('persistence', () => {
  it('a restart keeps buckets, objects, metadata and the lock; the store is private (0700 directories, 0600 files)', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'kept' }));
    const put = await s3.send(new PutObjectCommand({ Bucket: 'kept', Key: 'a/key', Body: 'kept body', ContentType: 'text/plain', Metadata: { who: 'alice' } }));
    await stack.stop();
    s3.destroy();
    stack = await startStack(dataDir);
    s3 = client();
    const got = await s3.send(new GetObjectCommand({ Bucket: 'kept', Key: 'a/key' }));
    expect(await got.Body!.transformToString()).toBe('kept body');
    expect(got).toMatchObject({ ETag: put.ETag, ContentType: 'text/plain', Metadata: { who: 'alice' }, ChecksumCRC32: put.ChecksumCRC32 });
    expect((await s3.send(new GetObjectLockConfigurationCommand({ Bucket: 'audit-digests' }))).ObjectLockConfiguration?.Rule?.DefaultRetention).toEqual({ Mode: 'COMPLIANCE', Days: 1 });
    expect(await rejection(new PutObjectCommand({ Bucket: 'audit-digests', Key: 'digests/2026/0001.json', Body: 'forged after a restart' }))).toEqual({ name: 'AccessDenied', status: 403 });
    expect(await rejection(new DeleteObjectCommand({ Bucket: 'audit-digests', Key: 'digests/2026/0001.json' }))).toEqual({ name: 'AccessDenied', status: 403 });
    expect(await rejection(new PutObjectCommand({ Bucket: 'objects', Key: 'once', Body: 'again', IfNoneMatch: '*' }))).toEqual({ name: 'PreconditionFailed', status: 412 });
    expect(await text('hostile', '../../x')).toBe('body of ../../x');
    expect((await s3.send(new ListObjectsV2Command({ Bucket: 'listing', Prefix: 'many/' }))).KeyCount).toBe(1000);
    const root = join(dataDir, 's3');
    expect(statSync(root).mode & 0o777).toBe(0o700);
    for (const file of storeFiles()) {
      expect({ file, mode: statSync(join(root, file)).mode & 0o777 }).toEqual({ file, mode: 0o600 });
      expect({ file, dir: statSync(join(root, file, '..')).mode & 0o777 }).toEqual({ file, dir: 0o700 });
    }
    expect(storeFiles().filter((f) => !/^[a-z0-9.-]+\/(bucket\.json|objects\/[0-9a-f]{64})$/.test(f))).toEqual([]);
  });
});
