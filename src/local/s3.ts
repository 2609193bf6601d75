/**
 * The local S3's store: buckets and objects in DATA_DIR/s3, for the gateway's audit digests and the clusters'
 * step logs. Its wire protocol (REST-XML, path-style URLs) is s3-http.ts; here are S3's rules: bucket names,
 * regions and location constraints, Object Lock (a bucket created with it reports versioning Enabled; every
 * object written while the bucket has a default retention rule is retained, and while retained it is neither
 * overwritten nor deleted), conditional writes (`If-None-Match: *`, `If-Match`), and listing in UTF-8 binary
 * order with S3's prefixes, delimiters and pages.
 *
 * On disk: DATA_DIR/s3/BUCKET/bucket.json and DATA_DIR/s3/BUCKET/objects/SHA256(KEY), each object one file (a
 * JSON header line, then the body), directories 0700 and files 0600. A key never becomes a path (`../x`, `/x`
 * and NUL are just bytes of its hash), and a bucket name is one of S3's, so nothing escapes the store. Every
 * write goes to a temporary file that is fsynced, then renamed into place (or hard-linked, where nothing may be
 * there yet, which fails if something is), and the directory fsynced: a crash leaves the old object or the new
 * one, never half of one. The check that a key is free and the write that takes it run without yielding to
 * another request, and the link refuses a file another process made, so of concurrent conditional creates
 * exactly one wins.
 *
 * Versions: a lock-enabled bucket gives each object a version id, but only the current version is kept, so
 * where S3 would keep an overwritten or deleted object as a noncurrent version (or add a delete marker) this
 * store refuses while the object is retained (AccessDenied) and replaces or removes it once the retention has
 * passed. Like the rest of the AWS port it checks no credentials, so no one can bypass GOVERNANCE retention.
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, closeSync, existsSync, fsyncSync, linkSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChecksumAlgorithm } from './s3-checksums';
import { isChecksumAlgorithm } from './s3-checksums';
import { LocalServiceError } from './errors';

/** An S3 error: its code, message and status, and the extra elements S3 puts in its <Error> (Key, BucketName, ...). */
export class S3Error extends LocalServiceError {
  constructor(
    code: string,
    message: string,
    status: number,
    readonly details: [string, string][] = [],
    /** Headers S3 sends with this error (Content-Range with InvalidRange). */
    readonly headers: Record<string, string> = {},
  ) {
    super(code, message, status);
  }
}

export const noSuchBucket = (bucket: string) => new S3Error('NoSuchBucket', 'The specified bucket does not exist', 404, [['BucketName', bucket]]);
export const noSuchKey = (key: string) => new S3Error('NoSuchKey', 'The specified key does not exist.', 404, [['Key', key]]);
export const preconditionFailed = (condition: string) => new S3Error('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', 412, [['Condition', condition]]);
export const invalidArgument = (message: string, name: string, value: string) => new S3Error('InvalidArgument', message, 400, [['ArgumentName', name], ['ArgumentValue', value]]);
/** What S3 answers for a retained object version that a request would remove. */
const LOCKED_MESSAGE = 'Access Denied because object protected by object lock.';
const objectLocked = () => new S3Error('AccessDenied', LOCKED_MESSAGE, 403);

export type RetentionMode = 'COMPLIANCE' | 'GOVERNANCE';
export const isRetentionMode = (value: string): value is RetentionMode => value === 'COMPLIANCE' || value === 'GOVERNANCE';

/** A bucket's default retention: a mode and a period of whole days or years. */
export interface DefaultRetention {
  mode: RetentionMode;
  days?: number;
  years?: number;
}

export interface BucketRecord {
  name: string;
  region: string;
  /** Epoch milliseconds. */
  created: number;
  objectLock: boolean;
  defaultRetention?: DefaultRetention;
  /** The account that owns the bucket (S3's default: only it may use the bucket); absent in buckets made before, the stack's. */
  owner?: string;
}

export interface ObjectRecord {
  key: string;
  size: number;
  /** MD5 of the body, hex (S3's ETag, without its quotes). */
  etag: string;
  /** Epoch milliseconds, whole seconds (S3 keeps seconds). */
  lastModified: number;
  contentType: string;
  /** Cache-Control, Content-Disposition, Content-Encoding, Content-Language, Expires, as given. */
  headers: Record<string, string>;
  /** x-amz-meta-* without the prefix. */
  metadata: Record<string, string>;
  checksum: { algorithm: ChecksumAlgorithm; value: string };
  versionId?: string;
  retention?: { mode: RetentionMode; until: number };
}

/** An object as held in memory: its record and where its body starts in its file. */
interface StoredObject extends ObjectRecord {
  offset: number;
}

interface Bucket {
  record: BucketRecord;
  dir: string;
  objects: Map<string, StoredObject>;
  /** The keys in UTF-8 binary order, rebuilt after a key is added or removed. */
  sorted?: string[];
}

export interface PutObjectInput {
  contentType: string;
  headers: Record<string, string>;
  metadata: Record<string, string>;
  checksum: ObjectRecord['checksum'];
  /** Retention asked for with this object (x-amz-object-lock-mode and -retain-until-date). */
  retention?: { mode: RetentionMode; until: number };
  /** If-None-Match: * — only if the key is free. */
  ifNoneMatch?: boolean;
  /** If-Match — only over the object with this ETag. */
  ifMatch?: string;
}

export interface ListInput {
  prefix: string;
  delimiter: string;
  maxKeys: number;
  startAfter?: string;
  continuationToken?: string;
}

export interface ListOutput {
  contents: ObjectRecord[];
  commonPrefixes: string[];
  truncated: boolean;
  nextContinuationToken?: string;
}

export interface LocalS3Options {
  dataDir: string;
  now?: () => number;
  /** The account that owns a bucket made without one named (and the buckets of a data directory from before owners). */
  account?: string;
  /**
   * Whether each write is fsynced (the file, then its directory), so that it outlives a crash of the machine and not
   * only of the process (default). Off for an in-memory stack, whose directory is removed at the stop: there the
   * fsyncs bought nothing and were a third of the main thread's file time under load. Writes stay atomic either way.
   */
  durable?: boolean;
}

/** The local stack's own account (config/example.yaml's), for a store made without one. */
const DEFAULT_ACCOUNT = '123456789012';
const MAX_KEY_BYTES = 1024;
const DAY_MS = 86_400_000;
/** S3's largest default retention periods. */
const MAX_DAYS = 36_500;
const MAX_YEARS = 100;

/**
 * UTF-8 binary order, as S3 lists keys. It is code point order; JavaScript's own string order is UTF-16's, which
 * differs where a surrogate (half of a code point above U+FFFF) meets U+E000 to U+FFFF: the surrogate's code
 * point is the greater.
 */
export function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const surrogateX = x >= 0xd800 && x <= 0xdfff;
    const surrogateY = y >= 0xd800 && y <= 0xdfff;
    if (surrogateX !== surrogateY) return surrogateX ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}
const hashOf = (key: string): string => createHash('sha256').update(key, 'utf8').digest('hex');
const temporaryName = () => `.tmp-${randomBytes(8).toString('hex')}`;

/** The S3 general purpose bucket name rules; the reason a name breaks one, or undefined. */
export function bucketNameProblem(name: string): string | undefined {
  if (name.length < 3 || name.length > 63) return 'it must be 3 to 63 characters long';
  if (!/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(name)) return 'it may hold only lowercase letters, digits, dots and hyphens, and must begin and end with a letter or digit';
  if (name.includes('..')) return 'it may not hold two adjacent periods';
  if (/^\d+\.\d+\.\d+\.\d+$/.test(name)) return 'it may not be formatted as an IP address';
  if (/^(xn--|sthree-|amzn-s3-demo-)/.test(name)) return 'it may not begin with xn--, sthree- or amzn-s3-demo-';
  if (/(-s3alias|--ol-s3|\.mrap|--x-s3|--table-s3)$/.test(name)) return 'it may not end with -s3alias, --ol-s3, .mrap, --x-s3 or --table-s3';
  return undefined;
}

/** Where S3 rejects a key: none, or over 1024 bytes of UTF-8. */
export function checkKey(key: string): void {
  const bytes = Buffer.byteLength(key, 'utf8');
  if (bytes === 0) throw new S3Error('InvalidArgument', 'An object key must not be empty', 400);
  if (bytes > MAX_KEY_BYTES) throw new S3Error('KeyTooLongError', 'Your key is too long', 400, [['Size', String(bytes)], ['MaxSizeAllowed', String(MAX_KEY_BYTES)]]);
  if (Buffer.from(key, 'utf8').toString('utf8') !== key) throw new S3Error('InvalidURI', "Couldn't parse the specified URI.", 400);
}

/** Whether an If-Match / If-None-Match value (`*`, or ETags, quoted or weak) names `etag`. */
export const etagMatches = (condition: string, etag: string): boolean =>
  condition.trim() === '*' || condition.split(',').some((candidate) => candidate.trim().replace(/^W\//, '').replace(/^"(.*)"$/, '$1') === etag);

/** The position a continuation token resumes after: the last key or common prefix of the page before. */
interface Resume {
  after: string;
  commonPrefix: boolean;
}

const encodeToken = (resume: Resume): string => Buffer.from(JSON.stringify([resume.commonPrefix ? 1 : 0, resume.after]), 'utf8').toString('base64');

function decodeToken(token: string): Resume {
  const wrong = () => invalidArgument('The continuation token provided is incorrect', 'continuation-token', token);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(token)) throw wrong();
  try {
    const parsed: unknown = JSON.parse(Buffer.from(token, 'base64').toString('utf8'));
    if (!Array.isArray(parsed) || parsed.length !== 2 || (parsed[0] !== 0 && parsed[0] !== 1) || typeof parsed[1] !== 'string') throw wrong();
    return { commonPrefix: parsed[0] === 1, after: parsed[1] };
  } catch {
    throw wrong();
  }
}

/** The first index in `keys` (sorted) whose key is after `value` (or, with `orEqual`, not before it). */
function firstAfter(keys: string[], value: string, orEqual = false): number {
  let low = 0;
  let high = keys.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    const order = compareUtf8(keys[middle]!, value);
    if (order < 0 || (order === 0 && !orEqual)) low = middle + 1;
    else high = middle;
  }
  return low;
}

function fsyncDirectory(dir: string, durable: boolean): void {
  if (!durable) return;
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Writes `parts` to a new 0600 file in `dir` and fsyncs it (if `durable`); returns its path. */
function writeTemporary(dir: string, parts: Buffer[], durable: boolean): string {
  const path = join(dir, temporaryName());
  const fd = openSync(path, 'wx', 0o600);
  try {
    for (const part of parts) writeFileSync(fd, part);
    if (durable) fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return path;
}

/**
 * Puts `parts` at `target` atomically. With `exclusive`, only if nothing is there (a hard link, which fails on
 * an existing file): false if something was. Otherwise it replaces whatever was there.
 */
function writeAtomically(dir: string, target: string, parts: Buffer[], exclusive: boolean, durable: boolean): boolean {
  const temporary = writeTemporary(dir, parts, durable);
  try {
    if (exclusive) {
      try {
        linkSync(temporary, target);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EEXIST') return false;
        // a file system without hard links: the caller's check (in this process) stands alone
        if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw error;
        if (existsSync(target)) return false;
        renameSync(temporary, target);
      }
    } else renameSync(temporary, target);
  } finally {
    rmSync(temporary, { force: true });
  }
  fsyncDirectory(dir, durable);
  return true;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const isStringMap = (value: unknown): value is Record<string, string> => isRecord(value) && Object.values(value).every((v) => typeof v === 'string');

function validBucketRecord(value: unknown, name: string): value is BucketRecord {
  if (!isRecord(value) || value.name !== name || typeof value.region !== 'string' || typeof value.created !== 'number' || typeof value.objectLock !== 'boolean') return false;
  if (value.owner !== undefined && (typeof value.owner !== 'string' || !/^\d{12}$/.test(value.owner))) return false;
  const retention = value.defaultRetention;
  return retention === undefined || (isRecord(retention) && typeof retention.mode === 'string' && isRetentionMode(retention.mode));
}

function validObjectRecord(value: unknown): value is ObjectRecord {
  if (!isRecord(value)) return false;
  const { key, size, etag, lastModified, contentType, headers, metadata, checksum } = value;
  return (
    typeof key === 'string' &&
    typeof size === 'number' &&
    typeof etag === 'string' &&
    typeof lastModified === 'number' &&
    typeof contentType === 'string' &&
    isStringMap(headers) &&
    isStringMap(metadata) &&
    isRecord(checksum) &&
    typeof checksum.algorithm === 'string' &&
    isChecksumAlgorithm(checksum.algorithm) &&
    typeof checksum.value === 'string'
  );
}

/** The retain-until time of a default retention applied at `now`. */
function retainUntil(rule: DefaultRetention, now: number): number {
  if (rule.days !== undefined) return now + rule.days * DAY_MS;
  const until = new Date(now);
  until.setUTCFullYear(until.getUTCFullYear() + (rule.years ?? 0));
  return until.getTime();
}

export class LocalS3 {
  private readonly root: string;
  private readonly now: () => number;
  private readonly account: string;
  private readonly durable: boolean;
  private readonly buckets = new Map<string, Bucket>();

  constructor(options: LocalS3Options) {
    this.root = join(options.dataDir, 's3');
    this.now = options.now ?? Date.now;
    this.account = options.account ?? DEFAULT_ACCOUNT;
    this.durable = options.durable ?? true;
    mkdirSync(this.root, { recursive: true, mode: 0o700 });
    chmodSync(this.root, 0o700);
    this.load();
  }

  listBuckets(): BucketRecord[] {
    return [...this.buckets.values()].map((b) => b.record).sort((a, b) => compareUtf8(a.name, b.name));
  }

  /**
   * Creates a bucket in `region` (the region the request was signed for), with S3's answers: the
   * LocationConstraint must name that region (none for us-east-1), and a bucket that exists is
   * BucketAlreadyOwnedByYou, except in us-east-1, where S3 answers 200 and changes nothing.
   */
  createBucket(name: string, options: { region: string; locationConstraint?: string; objectLock: boolean; owner?: string }): BucketRecord {
    const problem = bucketNameProblem(name);
    if (problem) throw new S3Error('InvalidBucketName', 'The specified bucket is not valid.', 400, [['BucketName', name]]);
    const existing = this.buckets.get(name);
    const owner = options.owner ?? this.account;
    if (existing && this.ownerOf(existing.record) !== owner) {
      throw new S3Error('BucketAlreadyExists', 'The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.', 409, [['BucketName', name]]);
    }
    if (existing) {
      if (options.region === 'us-east-1' && existing.record.region === 'us-east-1') return existing.record;
      throw new S3Error('BucketAlreadyOwnedByYou', 'Your previous request to create the named bucket succeeded and you already own it.', 409, [['BucketName', name]]);
    }
    const constraint = options.locationConstraint === 'EU' ? 'eu-west-1' : options.locationConstraint || undefined;
    if (constraint === 'us-east-1') throw new S3Error('InvalidLocationConstraint', 'The specified location-constraint is not valid', 400, [['LocationConstraint', constraint]]);
    if ((constraint ?? 'us-east-1') !== options.region) {
      throw new S3Error('IllegalLocationConstraintException', `The ${constraint ?? 'unspecified'} location constraint is incompatible for the region specific endpoint this request was sent to.`, 400);
    }
    const record: BucketRecord = { name, region: options.region, created: Math.floor(this.now() / 1000) * 1000, objectLock: options.objectLock, owner };
    // Built aside, then renamed into place whole: a crash leaves no bucket without its bucket.json.
    const staging = join(this.root, temporaryName());
    mkdirSync(join(staging, 'objects'), { recursive: true, mode: 0o700 });
    writeFileSync(join(staging, 'bucket.json'), `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
    fsyncDirectory(staging, this.durable);
    const dir = join(this.root, name);
    renameSync(staging, dir);
    fsyncDirectory(this.root, this.durable);
    this.buckets.set(name, { record, dir, objects: new Map() });
    return record;
  }

  bucket(name: string): BucketRecord {
    return this.get(name).record;
  }

  /** The account that owns the bucket, or undefined where there is none. */
  ownerOfBucket(name: string): string | undefined {
    const bucket = this.buckets.get(name);
    return bucket && this.ownerOf(bucket.record);
  }

  private ownerOf(record: BucketRecord): string {
    return record.owner ?? this.account;
  }

  /** Deletes an empty bucket (BucketNotEmpty otherwise: a retained object is never deleted, so neither is its bucket). */
  deleteBucket(name: string): void {
    const bucket = this.get(name);
    if (bucket.objects.size) throw new S3Error('BucketNotEmpty', 'The bucket you tried to delete is not empty', 409, [['BucketName', name]]);
    const doomed = join(this.root, `.deleted-${randomBytes(8).toString('hex')}`);
    renameSync(bucket.dir, doomed);
    fsyncDirectory(this.root, this.durable);
    this.buckets.delete(name);
    rmSync(doomed, { recursive: true, force: true });
  }

  /** Sets (or, with undefined, removes) the default retention of a bucket created with Object Lock. */
  putObjectLockConfiguration(name: string, rule: DefaultRetention | undefined): void {
    const bucket = this.get(name);
    if (!bucket.record.objectLock) throw new S3Error('InvalidBucketState', "Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration", 409, [['BucketName', name]]);
    if (rule) {
      const [period, value, max] = rule.days !== undefined ? ['Days', rule.days, MAX_DAYS] : ['Years', rule.years ?? 0, MAX_YEARS];
      if (!Number.isInteger(value) || value < 1) throw new S3Error('InvalidArgument', 'Default retention period must be a positive integer value.', 400, [['ArgumentName', period], ['ArgumentValue', String(value)]]);
      if (value > max) throw new S3Error('InvalidArgument', 'Default retention period is too large.', 400, [['ArgumentName', period], ['ArgumentValue', String(value)]]);
    }
    const { defaultRetention: _old, ...rest } = bucket.record;
    const record: BucketRecord = rule ? { ...rest, defaultRetention: rule } : rest;
    writeAtomically(bucket.dir, join(bucket.dir, 'bucket.json'), [Buffer.from(`${JSON.stringify(record, null, 2)}\n`)], false, this.durable);
    bucket.record = record;
  }

  /** A lock-enabled bucket's configuration; ObjectLockConfigurationNotFoundError for any other. */
  objectLockConfiguration(name: string): { defaultRetention?: DefaultRetention } {
    const { record } = this.get(name);
    if (!record.objectLock) throw new S3Error('ObjectLockConfigurationNotFoundError', 'Object Lock configuration does not exist for this bucket', 404, [['BucketName', name]]);
    return record.defaultRetention ? { defaultRetention: record.defaultRetention } : {};
  }

  putObject(bucketName: string, key: string, body: Buffer, input: PutObjectInput): ObjectRecord {
    const bucket = this.get(bucketName);
    checkKey(key);
    // From here to the index update nothing yields: no other request sees the key free in between.
    const current = bucket.objects.get(key);
    if (input.ifNoneMatch && current) throw preconditionFailed('If-None-Match');
    if (input.ifMatch !== undefined) {
      if (!current) throw noSuchKey(key);
      if (!etagMatches(input.ifMatch, current.etag)) throw preconditionFailed('If-Match');
    }
    if (current && this.retained(current)) throw objectLocked();
    const now = this.now();
    let retention = input.retention;
    if (retention && !bucket.record.objectLock) throw new S3Error('InvalidRequest', 'Bucket is missing Object Lock Configuration', 400);
    if (retention && retention.until <= now) throw new S3Error('InvalidArgument', 'The retain until date must be in the future!', 400);
    if (!retention && bucket.record.defaultRetention) retention = { mode: bucket.record.defaultRetention.mode, until: retainUntil(bucket.record.defaultRetention, now) };
    const record: ObjectRecord = {
      key,
      size: body.length,
      etag: createHash('md5').update(body).digest('hex'),
      lastModified: Math.floor(now / 1000) * 1000,
      contentType: input.contentType,
      headers: input.headers,
      metadata: input.metadata,
      checksum: input.checksum,
      ...(bucket.record.objectLock ? { versionId: randomBytes(24).toString('base64url') } : {}),
      ...(retention ? { retention } : {}),
    };
    const header = Buffer.from(`${JSON.stringify(record)}\n`, 'utf8');
    const objects = join(bucket.dir, 'objects');
    // Where nothing may be replaced (a conditional create; a lock-enabled bucket), only a free name is taken.
    const exclusive = !current && (input.ifNoneMatch === true || bucket.record.objectLock);
    if (!writeAtomically(objects, join(objects, hashOf(key)), [header, body], exclusive, this.durable)) {
      throw input.ifNoneMatch ? preconditionFailed('If-None-Match') : objectLocked();
    }
    if (!current) bucket.sorted = undefined;
    bucket.objects.set(key, { ...record, offset: header.length });
    return record;
  }

  /** An object's record; NoSuchKey (or NoSuchVersion, for a version id not the current one's) if there is none. */
  headObject(bucketName: string, key: string, versionId?: string): ObjectRecord {
    const bucket = this.get(bucketName);
    checkKey(key);
    const object = bucket.objects.get(key);
    if (versionId !== undefined) this.checkVersionId(bucket, versionId);
    if (!object) throw noSuchKey(key);
    if (versionId !== undefined && versionId !== (object.versionId ?? 'null')) throw new S3Error('NoSuchVersion', 'The specified version does not exist.', 404, [['Key', key], ['VersionId', versionId]]);
    const { offset: _offset, ...record } = object;
    return record;
  }

  /** Bytes `start` to `end` (inclusive) of the object's body, read in the same turn as the record is looked up. */
  readObject(bucketName: string, key: string, start: number, end: number): Buffer {
    const object = this.get(bucketName).objects.get(key);
    if (!object) throw noSuchKey(key);
    const length = Math.max(0, Math.min(end, object.size - 1) - start + 1);
    const out = Buffer.alloc(length);
    if (!length) return out;
    const fd = openSync(join(this.get(bucketName).dir, 'objects', hashOf(key)), 'r');
    try {
      let read = 0;
      while (read < length) {
        const n = readSync(fd, out, read, length - read, object.offset + start + read);
        if (n === 0) throw new Error(`the local S3 object file of ${bucketName}/${key} is shorter than its header says`);
        read += n;
      }
    } finally {
      closeSync(fd);
    }
    return out;
  }

  /**
   * Deletes the current object (nothing there, or another version id: nothing to do, as S3 answers success);
   * AccessDenied while it is retained. Returns the version id deleted, if any.
   */
  deleteObject(bucketName: string, key: string, versionId?: string): { versionId?: string } {
    const bucket = this.get(bucketName);
    checkKey(key);
    if (versionId !== undefined) this.checkVersionId(bucket, versionId);
    const current = bucket.objects.get(key);
    if (!current || (versionId !== undefined && versionId !== (current.versionId ?? 'null'))) return {};
    if (this.retained(current)) throw objectLocked();
    const objects = join(bucket.dir, 'objects');
    unlinkSync(join(objects, hashOf(key)));
    fsyncDirectory(objects, this.durable);
    bucket.objects.delete(key);
    bucket.sorted = undefined;
    return current.versionId ? { versionId: current.versionId } : {};
  }

  /** ListObjectsV2's page: keys (and common prefixes) after the start, in UTF-8 order. */
  listObjects(bucketName: string, input: ListInput): ListOutput {
    const bucket = this.get(bucketName);
    const resume = input.continuationToken !== undefined ? decodeToken(input.continuationToken) : input.startAfter ? { after: input.startAfter, commonPrefix: false } : undefined;
    const keys = (bucket.sorted ??= [...bucket.objects.keys()].sort(compareUtf8));
    const { prefix, delimiter, maxKeys } = input;
    let index = firstAfter(keys, prefix, true);
    if (resume) {
      index = Math.max(index, firstAfter(keys, resume.after));
      // the page before ended on a common prefix: every key under it was rolled up into it
      if (resume.commonPrefix) while (index < keys.length && keys[index]!.startsWith(resume.after)) index++;
    }
    const contents: ObjectRecord[] = [];
    const commonPrefixes: string[] = [];
    let last: Resume | undefined;
    let truncated = false;
    for (; index < keys.length; index++) {
      const key = keys[index]!;
      // keys under a prefix are contiguous in this order: the first one not under it ends the listing
      if (!key.startsWith(prefix)) break;
      const cut = delimiter ? key.indexOf(delimiter, prefix.length) : -1;
      const common = cut >= 0 ? key.slice(0, cut + delimiter.length) : undefined;
      if (common !== undefined && last?.commonPrefix && last.after === common) continue;
      if (contents.length + commonPrefixes.length >= maxKeys) {
        truncated = maxKeys > 0;
        break;
      }
      if (common !== undefined) {
        commonPrefixes.push(common);
        last = { after: common, commonPrefix: true };
      } else {
        const { offset: _offset, ...record } = bucket.objects.get(key)!;
        contents.push(record);
        last = { after: key, commonPrefix: false };
      }
    }
    return { contents, commonPrefixes, truncated, ...(truncated && last ? { nextContinuationToken: encodeToken(last) } : {}) };
  }

  private retained(object: ObjectRecord): boolean {
    return object.retention !== undefined && object.retention.until > this.now();
  }

  /** A version id S3 could have given here: "null" in a bucket without versioning. */
  private checkVersionId(bucket: Bucket, versionId: string): void {
    if (!bucket.record.objectLock && versionId !== 'null') throw invalidArgument('Invalid version id specified', 'versionId', versionId);
  }

  private get(name: string): Bucket {
    const bucket = this.buckets.get(name);
    if (!bucket) throw noSuchBucket(name);
    return bucket;
  }

  /** Reads every bucket and object header; removes what an interrupted write or delete left behind. */
  private load(): void {
    for (const entry of readdirSync(this.root, { withFileTypes: true })) {
      const path = join(this.root, entry.name);
      if (entry.name.startsWith('.tmp-') || entry.name.startsWith('.deleted-')) {
        rmSync(path, { recursive: true, force: true });
        continue;
      }
      if (entry.name.startsWith('.')) continue; // no bucket name begins with a dot
      if (!entry.isDirectory() || bucketNameProblem(entry.name)) throw new Error(`${path} is not a local S3 bucket: move it out of ${this.root}`);
      const file = join(path, 'bucket.json');
      let record: unknown;
      try {
        record = JSON.parse(readFileSync(file, 'utf8'));
      } catch {
        record = undefined;
      }
      if (!validBucketRecord(record, entry.name)) throw new Error(`${file} is not a local S3 bucket record: move ${path} away to start without it`);
      chmodSync(file, 0o600);
      chmodSync(path, 0o700);
      const bucket: Bucket = { record, dir: path, objects: new Map() };
      const objects = join(path, 'objects');
      mkdirSync(objects, { recursive: true, mode: 0o700 });
      chmodSync(objects, 0o700);
      for (const name of readdirSync(objects)) {
        if (name.startsWith('.tmp-')) {
          rmSync(join(objects, name), { force: true });
          continue;
        }
        const object = this.readHeader(join(objects, name));
        if (!object || hashOf(object.key) !== name) throw new Error(`${join(objects, name)} is not a local S3 object: move it out of ${objects}`);
        bucket.objects.set(object.key, object);
      }
      this.buckets.set(entry.name, bucket);
    }
  }

  private readHeader(file: string): StoredObject | undefined {
    const fd = openSync(file, 'r');
    try {
      const chunks: Buffer[] = [];
      let position = 0;
      for (;;) {
        const chunk = Buffer.alloc(64 * 1024);
        const n = readSync(fd, chunk, 0, chunk.length, position);
        if (n === 0) return undefined;
        const newline = chunk.subarray(0, n).indexOf(0x0a);
        if (newline >= 0) {
          chunks.push(chunk.subarray(0, newline));
          break;
        }
        chunks.push(chunk.subarray(0, n));
        position += n;
        if (position > 1024 * 1024) return undefined;
      }
      const header = Buffer.concat(chunks);
      let record: unknown;
      try {
        record = JSON.parse(header.toString('utf8'));
      } catch {
        return undefined;
      }
      return validObjectRecord(record) ? { ...record, offset: header.length + 1 } : undefined;
    } finally {
      closeSync(fd);
    }
  }
}
