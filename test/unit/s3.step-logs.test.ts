/**
 * The S3 step-log store (src/adapters/s3/step-logs.ts) over a mocked S3 client: a log's bytes gunzipped as they
 * stream, the download stopped when the reader stops, a missing log told apart from a forbidden one.
 */
import { GetObjectCommand, ListObjectsV2Command, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { ClusterClients } from '../../src/adapters/emr/cluster-access';
import { S3StepLogStore } from '../../src/adapters/s3/step-logs';
import { IntegrityError } from '../../src/errors';

const s3 = mockClient(S3Client);
afterEach(() => s3.reset());
afterAll(() => s3.restore());

const error = (name: string, status: number) => new S3ServiceException({ name, message: name, $fault: 'client', $metadata: { httpStatusCode: status } });
const LOCATION = { bucket: 'logs', key: 'emr/j-1/steps/s-1/stdout.gz', clusterId: 'j-1' };

/** A body streamed in chunks of `size`, recording whether it was destroyed before its end. */
function body(bytes: Buffer, size = 1024) {
  const state = { destroyed: false, served: 0 };
  const stream = new Readable({
    read() {
      if (state.served >= bytes.length) return void this.push(null);
      this.push(bytes.subarray(state.served, state.served + size));
      state.served += size;
    },
    destroy(err, callback) {
      state.destroyed = true;
      callback(err);
    },
  });
  return { stream, state };
}

async function text(store: S3StepLogStore): Promise<string> {
  const opened = await store.open(LOCATION);
  const parts: Buffer[] = [];
  for await (const chunk of opened!.chunks) parts.push(Buffer.from(chunk));
  return Buffer.concat(parts).toString('utf8');
}

describe('S3StepLogStore', () => {
  const store = new S3StepLogStore(new ClusterClients(new S3Client({ region: 'us-east-1' }), () => new S3Client({ region: 'us-east-1' })));

  it('gunzips the object as it streams (EMR gzips its uploads), and passes anything else through', async () => {
    const log = Array.from({ length: 5000 }, (_, i) => `line ${i}\n`).join('');
    s3.on(GetObjectCommand, { Bucket: 'logs', Key: LOCATION.key }).resolves({ Body: body(gzipSync(log), 777).stream as never, LastModified: new Date('2026-12-01T00:00:00Z') });
    expect(await text(store)).toBe(log);
    expect((await store.open(LOCATION))?.lastModified).toEqual(new Date('2026-12-01T00:00:00Z'));
    s3.on(GetObjectCommand).resolves({ Body: body(Buffer.from('plain\n')).stream as never });
    expect(await text(store)).toBe('plain\n');
  });

  it('stops the download when the reader stops', async () => {
    const big = gzipSync(randomBytes(4 * 1024 * 1024).toString('hex'));
    const { stream, state } = body(big, 4096);
    s3.on(GetObjectCommand).resolves({ Body: stream as never });
    const opened = await store.open(LOCATION);
    for await (const _chunk of opened!.chunks) break;
    expect(state.destroyed).toBe(true);
    expect(state.served).toBeLessThan(big.length);
  });

  it('a missing log is undefined: NoSuchKey, or AccessDenied where a listing of the key finds nothing; a forbidden one is an error', async () => {
    s3.on(GetObjectCommand).rejects(error('NoSuchKey', 404));
    await expect(store.open(LOCATION)).resolves.toBeUndefined();
    s3.on(GetObjectCommand).rejects(error('AccessDenied', 403));
    s3.on(ListObjectsV2Command, { Bucket: 'logs', Prefix: LOCATION.key, MaxKeys: 1 }).resolves({ Contents: [] });
    await expect(store.open(LOCATION)).resolves.toBeUndefined();
    s3.on(ListObjectsV2Command).resolves({ Contents: [{ Key: LOCATION.key }] });
    await expect(store.open(LOCATION)).rejects.toMatchObject({ name: 'AccessDenied' });
    s3.on(ListObjectsV2Command).rejects(error('AccessDenied', 403));
    await expect(store.open(LOCATION)).rejects.toMatchObject({ name: 'AccessDenied' });
  });

  it('a corrupt gzip object is an IntegrityError naming it', async () => {
    const broken = gzipSync('some log\n'.repeat(100));
    broken.writeUInt8(broken.readUInt8(broken.length - 12) ^ 0xff, broken.length - 12);
    s3.on(GetObjectCommand).callsFake(() => ({ Body: body(broken.subarray(0, broken.length - 4)).stream as never }));
    await expect(text(store)).rejects.toThrow(IntegrityError);
    await expect(text(store)).rejects.toThrow(/s3:\/\/logs\/emr\/j-1\/steps\/s-1\/stdout\.gz is not a readable gzip file/);
  });
});
