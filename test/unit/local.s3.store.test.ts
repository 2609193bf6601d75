/**
 * The local S3's store (src/local/s3.ts) as a class, for what HTTP cannot show in a test's time: retention that
 * runs out (a clock of the test's own), what an interrupted write leaves behind, a store that is not one; and
 * its helpers: the UTF-8 key order, S3's checksums, the XML reader. Over HTTP with the SDK: local.s3.test.ts.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { compareUtf8, LocalS3, S3Error, type PutObjectInput } from '../../src/local/s3';
import { checksumOf } from '../../src/local/s3-checksums';
import { parseXml, XmlSyntaxError } from '../../src/local/xml';

const DAY = 86_400_000;

let dataDir: string;
let now: number;
const open = () => new LocalS3({ dataDir, now: () => now });
const input = (body: string, extra: Partial<PutObjectInput> = {}): PutObjectInput => ({
  contentType: 'text/plain',
  headers: {},
  metadata: {},
  checksum: { algorithm: 'CRC32', value: checksumOf('CRC32', Buffer.from(body)) },
  ...extra,
});

/** The S3Error `call` throws. */
function s3Error(call: () => unknown): S3Error {
  try {
    call();
  } catch (error) {
    if (error instanceof S3Error) return error;
    throw error;
  }
  throw new Error('expected an S3Error');
}

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'local-s3-store-'));
  now = Date.UTC(2026, 0, 15, 12, 0, 0);
});

describe('Object Lock retention', () => {
  it('a retained object is refused overwrite and delete until its retain-until date, then both work', () => {
    const s3 = open();
    s3.createBucket('digests', { region: 'us-east-1', objectLock: true });
    s3.putObjectLockConfiguration('digests', { mode: 'COMPLIANCE', days: 2 });
    const first = s3.putObject('digests', 'd1', Buffer.from('one'), input('one'));
    expect(first.retention).toEqual({ mode: 'COMPLIANCE', until: now + 2 * DAY });
    expect(s3Error(() => s3.putObject('digests', 'd1', Buffer.from('two'), input('two')))).toMatchObject({ type: 'AccessDenied', status: 403 });
    expect(s3Error(() => s3.deleteObject('digests', 'd1'))).toMatchObject({ type: 'AccessDenied' });
    expect(s3Error(() => s3.deleteObject('digests', 'd1', first.versionId))).toMatchObject({ type: 'AccessDenied' });
    now += 2 * DAY + 1000;
    expect(s3.putObject('digests', 'd1', Buffer.from('two'), input('two')).retention?.until).toBe(now + 2 * DAY);
    now += 3 * DAY;
    s3.deleteObject('digests', 'd1');
    expect(s3Error(() => s3.headObject('digests', 'd1'))).toMatchObject({ type: 'NoSuchKey' });
  });

  it('Years count calendar years; an object written before the rule, or after it is removed, is not retained', () => {
    const s3 = open();
    s3.createBucket('digests', { region: 'us-east-1', objectLock: true });
    s3.putObject('digests', 'early', Buffer.from('x'), input('x'));
    s3.putObjectLockConfiguration('digests', { mode: 'GOVERNANCE', years: 1 });
    expect(s3.putObject('digests', 'yearly', Buffer.from('x'), input('x')).retention).toEqual({ mode: 'GOVERNANCE', until: Date.UTC(2027, 0, 15, 12, 0, 0) });
    s3.putObjectLockConfiguration('digests', undefined);
    expect(s3.objectLockConfiguration('digests')).toEqual({});
    expect(s3.putObject('digests', 'late', Buffer.from('x'), input('x')).retention).toBeUndefined();
    s3.deleteObject('digests', 'early');
    s3.deleteObject('digests', 'late');
    expect(s3Error(() => s3.deleteObject('digests', 'yearly'))).toMatchObject({ type: 'AccessDenied' });
    expect(s3Error(() => s3.putObjectLockConfiguration('digests', { mode: 'COMPLIANCE', days: 36_501 }))).toMatchObject({ type: 'InvalidArgument', message: 'Default retention period is too large.' });
  });

  it('a retention asked for with the object: only in a lock-enabled bucket, only in the future', () => {
    const s3 = open();
    s3.createBucket('plain', { region: 'us-east-1', objectLock: false });
    s3.createBucket('locked', { region: 'us-east-1', objectLock: true });
    expect(s3Error(() => s3.putObject('plain', 'k', Buffer.from('x'), input('x', { retention: { mode: 'COMPLIANCE', until: now + DAY } })))).toMatchObject({ type: 'InvalidRequest' });
    expect(s3Error(() => s3.putObject('locked', 'k', Buffer.from('x'), input('x', { retention: { mode: 'COMPLIANCE', until: now - 1 } })))).toMatchObject({ type: 'InvalidArgument' });
    s3.putObject('locked', 'k', Buffer.from('x'), input('x', { retention: { mode: 'COMPLIANCE', until: now + DAY } }));
    expect(s3Error(() => s3.deleteObject('locked', 'k'))).toMatchObject({ type: 'AccessDenied' });
  });
});

describe('the store on disk', () => {
  it('what an interrupted write or delete leaves (temporary files, a half-deleted bucket) is removed at the next start', () => {
    const s3 = open();
    s3.createBucket('kept', { region: 'us-east-1', objectLock: false });
    s3.putObject('kept', 'k', Buffer.from('body'), input('body'));
    const objects = join(dataDir, 's3', 'kept', 'objects');
    writeFileSync(join(objects, '.tmp-0123456789abcdef'), 'half an object');
    mkdirSync(join(dataDir, 's3', '.deleted-0123456789abcdef', 'objects'), { recursive: true });
    mkdirSync(join(dataDir, 's3', '.tmp-fedcba9876543210'));
    const again = open();
    expect(again.readObject('kept', 'k', 0, 10).toString()).toBe('body');
    expect(readdirSync(objects)).toEqual([createHash('sha256').update('k').digest('hex')]);
    expect(readdirSync(join(dataDir, 's3'))).toEqual(['kept']);
  });

  it('a file that is not one of its objects, or a bucket record that is not one, stops the start with its name', () => {
    const s3 = open();
    s3.createBucket('kept', { region: 'us-east-1', objectLock: false });
    writeFileSync(join(dataDir, 's3', 'kept', 'objects', 'a'.repeat(64)), '{"key":"not the hash of this"}\nbody');
    expect(() => open()).toThrow(/objects\/a{64} is not a local S3 object/);
    const other = mkdtempSync(join(tmpdir(), 'local-s3-store-'));
    mkdirSync(join(other, 's3', 'broken'), { recursive: true });
    writeFileSync(join(other, 's3', 'broken', 'bucket.json'), '{"name":"another"}');
    expect(() => new LocalS3({ dataDir: other })).toThrow(/broken\/bucket\.json is not a local S3 bucket record/);
  });

  it('a durable store fsyncs each write (file and directory); one that is not (an in-memory stack\'s, removed at the stop) writes the same files without', () => {
    const fsync = jest.spyOn(fs, 'fsyncSync');
    try {
      const write = (s3: LocalS3) => {
        s3.createBucket('logs', { region: 'us-east-1', objectLock: false });
        s3.putObject('logs', 'k', Buffer.from('body'), input('body'));
        s3.deleteObject('logs', 'k');
        s3.putObject('logs', 'k', Buffer.from('again'), input('again'));
      };
      write(open());
      expect(fsync.mock.calls.length).toBeGreaterThanOrEqual(6);
      fsync.mockClear();
      const other = mkdtempSync(join(tmpdir(), 'local-s3-store-'));
      const quick = new LocalS3({ dataDir: other, durable: false });
      write(quick);
      expect(fsync).not.toHaveBeenCalled();
      expect(new LocalS3({ dataDir: other }).readObject('logs', 'k', 0, 10).toString()).toBe('again');
    } finally {
      fsync.mockRestore();
    }
  });

  it('a deleted bucket leaves nothing behind; a bucket name can be used again', () => {
    const s3 = open();
    s3.createBucket('gone', { region: 'us-east-1', objectLock: true });
    s3.deleteBucket('gone');
    expect(existsSync(join(dataDir, 's3', 'gone'))).toBe(false);
    expect(s3.createBucket('gone', { region: 'us-east-1', objectLock: false }).objectLock).toBe(false);
  });
});

describe('helpers', () => {
  it('compareUtf8 is the order of the UTF-8 bytes, for any strings', () => {
    // any code points, and strings made of those where UTF-8 and UTF-16 orders part
    const edges = fc.constantFrom('a', '/', '\u07FF', '\u0800', '\uD7FF', '\uE000', '\uFFFD', '\uFFFF', '\u{10000}', '\u{1F600}', '\u{10FFFF}');
    const key = () => fc.oneof(fc.string({ unit: 'binary' }), fc.string({ unit: edges, maxLength: 6 }));
    fc.assert(
      fc.property(key(), key(), (a, b) => {
        expect(Math.sign(compareUtf8(a, b))).toBe(Math.sign(Buffer.compare(Buffer.from(a), Buffer.from(b))));
      }),
      { numRuns: 2000 },
    );
    expect(compareUtf8('\u{FFFD}', '\u{1F600}')).toBeLessThan(0);
    expect('\u{FFFD}' < '\u{1F600}').toBe(false); // JavaScript's order is not S3's
  });

  it('checksums are S3\'s: known values of CRC32, CRC32C, CRC64NVME, SHA1, SHA256', () => {
    const data = Buffer.from('123456789');
    expect(Buffer.from(checksumOf('CRC32', data), 'base64').toString('hex')).toBe('cbf43926');
    expect(Buffer.from(checksumOf('CRC32C', data), 'base64').toString('hex')).toBe('e3069283');
    expect(Buffer.from(checksumOf('CRC64NVME', data), 'base64').toString('hex')).toBe('ae8b14860a799888');
    expect(checksumOf('SHA1', data)).toBe(createHash('sha1').update(data).digest('base64'));
    expect(checksumOf('SHA256', data)).toBe(createHash('sha256').update(data).digest('base64'));
  });

  it('the XML reader takes what S3 clients send and refuses DOCTYPEs, entities of their own and malformed documents', () => {
    const parsed = parseXml('\uFEFF<?xml version="1.0" encoding="UTF-8"?>\n<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><!-- c --><Object><Key>a &amp; b &lt;&#x1F600;&#65;<![CDATA[<raw>]]></Key></Object><Quiet>true</Quiet></Delete>');
    expect(parsed.name).toBe('Delete');
    expect(parsed.children.map((c) => c.name)).toEqual(['Object', 'Quiet']);
    expect(parsed.children[0]!.children[0]!.text).toBe('a & b <\u{1F600}A<raw>');
    expect(parseXml("<s3:Delete xmlns:s3='x'><s3:Quiet/></s3:Delete>").children[0]!.name).toBe('Quiet');
    for (const bad of [
      '<!DOCTYPE d [<!ENTITY e "x">]><Delete>&e;</Delete>',
      '<Delete>&e;</Delete>',
      '<Delete>a & b</Delete>',
      '<Delete><Object></Delete>',
      '<Delete></Delete><Delete/>',
      '<Delete>&#xD800;</Delete>',
      '<Delete',
      `${'<a>'.repeat(40)}${'</a>'.repeat(40)}`,
    ]) {
      expect(() => parseXml(bad)).toThrow(XmlSyntaxError);
    }
  });
});
