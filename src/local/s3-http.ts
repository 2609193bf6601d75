/**
 * The local S3's wire protocol, on the AWS port: REST-XML with path-style URLs (`/`, `/BUCKET`, `/BUCKET/KEY...`),
 * recognised by the SigV4 credential scope of a request (`Credential=AK/DATE/REGION/s3/aws4_request`, in the
 * Authorization header or a presigned URL's X-Amz-Credential); the region of that scope is the request's region.
 * The shapes are botocore's model of S3 (2006-03-01), checked with `@aws-sdk/client-s3` and the AWS CLI: XML
 * errors (`<Error><Code>`, Message, the element S3 adds such as Key or BucketName, Resource, RequestId) with
 * x-amz-request-id, ETags as quoted MD5s, times as RFC 7231 dates in headers and ISO 8601 in XML.
 *
 * Bodies: up to the AWS port's limit (EntityTooLarge beyond). An aws-chunked body (the SDKs' streamed uploads,
 * `STREAMING-UNSIGNED-PAYLOAD-TRAILER`, or signed chunks) is decoded to its payload and its trailers; the
 * payload is checked against `x-amz-content-sha256`, Content-MD5 and a flexible checksum (header or trailer)
 * where one is given (BadDigest and the like otherwise), and the checksum is kept and answered on GetObject when
 * the client asks (`x-amz-checksum-mode: ENABLED`), as the SDK validates it. Signatures are not verified, as
 * nowhere on the AWS port. What is not implemented (multipart uploads, copies, ACLs other than the private
 * ones, tagging, SSE-KMS/SSE-C, other storage classes, ListObjects v1, other subresources) is answered with
 * S3's NotImplemented (501) or its own error, never ignored.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { logger } from '../util/logger';
import { credentialScope } from './credential-scope';
import { readBody } from './http-body';
import { LocalServiceError } from './errors';
import { checkKey, etagMatches, invalidArgument, isRetentionMode, preconditionFailed, S3Error, type DefaultRetention, type LocalS3, type ObjectRecord, type PutObjectInput } from './s3';
import { checksumHeader, checksumOf, isChecksumAlgorithm, type ChecksumAlgorithm } from './s3-checksums';
import { childrenNamed, parseXml, xmlDocument, XmlSyntaxError, type XmlElement, type XmlNode } from './xml';

const S3_NAMESPACE = 'http://s3.amazonaws.com/doc/2006-03-01/';
/** An S3 answer: the document in S3's namespace. */
const s3Document = (root: string, nodes: XmlNode[]): string => xmlDocument(root, nodes, S3_NAMESPACE);

export interface S3HttpOptions {
  s3: LocalS3;
  /** The stack's own account: the caller's where a request names no key STS knows. */
  account: string;
  /** The largest body (decoded payload) accepted. */
  maxBody: number;
}

/** The region of a request signed for S3 (header or presigned URL), or undefined for any other request. */
export function s3RequestRegion(req: IncomingMessage): string | undefined {
  const scope = credentialScope(req);
  return scope?.service === 's3' ? scope.region : undefined;
}

/** Query parameters that name a subresource (an operation of their own), of which the local S3 implements a few. */
const SUBRESOURCES = new Set([
  'accelerate', 'acl', 'analytics', 'attributes', 'cors', 'delete', 'encryption', 'intelligent-tiering', 'inventory', 'legal-hold', 'lifecycle', 'location',
  'logging', 'metadataConfiguration', 'metrics', 'notification', 'object-lock', 'ownershipControls', 'partNumber', 'policy', 'policyStatus', 'publicAccessBlock',
  'renameObject', 'replication', 'requestPayment', 'restore', 'retention', 'select', 'session', 'tagging', 'torrent', 'uploadId', 'uploads', 'versioning', 'versions', 'website',
]);

const MULTIPART = 'multipart uploads are not implemented by the local S3: upload objects of up to 16 MB with PutObject (aws s3 cp does below its 8 MB multipart_threshold)';
const notImplemented = (message: string, header?: string) => new S3Error('NotImplemented', message, 501, header ? [['Header', header]] : []);
const malformedXml = () => new S3Error('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema', 400);
const accessDenied = () => new S3Error('AccessDenied', 'Access Denied', 403);
const entityTooLarge = (size: number, max: number) =>
  new S3Error('EntityTooLarge', 'Your proposed upload exceeds the maximum allowed object size.', 400, [['ProposedSize', String(size)], ['MaxSizeAllowed', String(max)]]);

/** Headers that ask for something the local S3 does not do, and when a value is still fine. */
const UNSUPPORTED_HEADERS: Record<string, (value: string) => boolean> = {
  'x-amz-copy-source': () => false,
  'x-amz-tagging': () => false,
  'x-amz-website-redirect-location': () => false,
  'x-amz-server-side-encryption': (v) => v === 'AES256',
  'x-amz-server-side-encryption-customer-algorithm': () => false,
  'x-amz-server-side-encryption-aws-kms-key-id': () => false,
  'x-amz-storage-class': (v) => v === 'STANDARD',
  'x-amz-object-lock-legal-hold': (v) => v === 'OFF',
  'x-amz-write-offset-bytes': () => false,
  'x-amz-object-ownership': (v) => v === 'BucketOwnerEnforced',
};
const STORED_HEADERS = ['cache-control', 'content-disposition', 'content-encoding', 'content-language', 'expires'];
const RESPONSE_OVERRIDES: Record<string, string> = {
  'response-content-type': 'content-type',
  'response-content-language': 'content-language',
  'response-expires': 'expires',
  'response-cache-control': 'cache-control',
  'response-content-disposition': 'content-disposition',
  'response-content-encoding': 'content-encoding',
};
const MAX_METADATA_BYTES = 2048;
/** Room for aws-chunked framing (chunk sizes, signatures, trailers) beyond the payload's limit. */
const CHUNK_FRAMING_ALLOWANCE = 1024 * 1024;

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

/** S3's url encoding of keys and prefixes in a listing (form encoding: a space is `+`; `/` is left as it is). */
const urlEncode = (value: string): string => encodeURIComponent(value).replace(/%2F/g, '/').replace(/%20/g, '+');
const isoTime = (ms: number): string => new Date(ms).toISOString();
const httpDate = (ms: number): string => new Date(ms).toUTCString();
const quoted = (etag: string): string => `"${etag}"`;

interface Target {
  bucket?: string;
  key?: string;
  query: URLSearchParams;
  /** The path, decoded, for <Resource>. */
  resource: string;
}

/** `/BUCKET/KEY...?QUERY`, each part percent-decoded (InvalidURI if that is not valid UTF-8). */
function parseTarget(url: string): Target {
  const mark = url.indexOf('?');
  const path = mark < 0 ? url : url.slice(0, mark);
  const query = new URLSearchParams(mark < 0 ? '' : url.slice(mark + 1));
  const decode = (part: string): string => {
    try {
      return decodeURIComponent(part);
    } catch {
      throw new S3Error('InvalidURI', "Couldn't parse the specified URI.", 400, [['URI', url]]);
    }
  };
  if (!path.startsWith('/')) throw new S3Error('InvalidURI', "Couldn't parse the specified URI.", 400, [['URI', url]]);
  const slash = path.indexOf('/', 1);
  const bucket = decode(slash < 0 ? path.slice(1) : path.slice(1, slash));
  const key = slash < 0 ? '' : decode(path.slice(slash + 1));
  return { ...(bucket ? { bucket } : {}), ...(key ? { key } : {}), query, resource: bucket ? `/${bucket}${key ? `/${key}` : ''}` : '/' };
}

interface Payload {
  body: Buffer;
  trailers: Record<string, string>;
}

/**
 * The payload of an aws-chunked body: `SIZE[;chunk-signature=SIG]\r\nDATA\r\n` chunks, a zero-size chunk, then
 * trailers (`name:value\r\n`) up to an empty line or the end.
 */
function decodeAwsChunked(raw: Buffer): Payload {
  const incomplete = () => new S3Error('IncompleteBody', 'The request body terminated unexpectedly', 400);
  const malformed = () => new S3Error('InvalidRequest', 'The aws-chunked body is not well formed (SIZE[;chunk-signature=...] CRLF DATA CRLF, then a zero-size chunk and the trailers)', 400);
  let at = 0;
  const line = (): string => {
    const end = raw.indexOf('\r\n', at);
    if (end < 0) throw incomplete();
    const text = raw.subarray(at, end).toString('latin1');
    at = end + 2;
    return text;
  };
  const chunks: Buffer[] = [];
  for (;;) {
    const m = /^([0-9a-fA-F]{1,16})(;[^\r\n]*)?$/.exec(line());
    if (!m) throw malformed();
    const size = parseInt(m[1]!, 16);
    if (size === 0) break;
    if (at + size + 2 > raw.length) throw incomplete();
    chunks.push(raw.subarray(at, at + size));
    at += size;
    if (raw[at] !== 0x0d || raw[at + 1] !== 0x0a) throw malformed();
    at += 2;
  }
  // no prototype: a trailer (or, below, a metadata name) called __proto__ is just a name
  const trailers = Object.create(null) as Record<string, string>;
  while (at < raw.length) {
    const text = line();
    if (text === '') break;
    const colon = text.indexOf(':');
    if (colon <= 0) throw new S3Error('MalformedTrailerError', 'The request contained trailing data that was not well-formed or did not conform to our published schema.', 400);
    trailers[text.slice(0, colon).trim().toLowerCase()] = text.slice(colon + 1).trim();
  }
  if (at !== raw.length) throw malformed();
  return { body: Buffer.concat(chunks), trailers };
}

/** The request's body, decoded and checked against every digest it declares. */
async function readPayload(req: IncomingMessage, maxBody: number): Promise<Payload> {
  const sha = header(req, 'x-amz-content-sha256');
  const encodings = (header(req, 'content-encoding') ?? '').split(',').map((e) => e.trim().toLowerCase());
  const chunked = sha?.startsWith('STREAMING-') === true || encodings.includes('aws-chunked');
  const declared = Number(header(req, chunked ? 'x-amz-decoded-content-length' : 'content-length') ?? 0);
  if (declared > maxBody) throw entityTooLarge(declared, maxBody);
  const read = await readBody(req, chunked ? maxBody + CHUNK_FRAMING_ALLOWANCE : maxBody);
  if (!read.ok) throw entityTooLarge(maxBody + 1, maxBody);
  let payload: Payload = { body: read.body, trailers: {} };
  if (chunked) {
    payload = decodeAwsChunked(read.body);
    if (payload.body.length > maxBody) throw entityTooLarge(payload.body.length, maxBody);
    const decodedLength = header(req, 'x-amz-decoded-content-length');
    if (decodedLength !== undefined && Number(decodedLength) !== payload.body.length) {
      throw new S3Error('IncompleteBody', 'You did not provide the number of bytes specified by the Content-Length HTTP header.', 400, [['NumberBytesExpected', decodedLength], ['NumberBytesProvided', String(payload.body.length)]]);
    }
    for (const name of (header(req, 'x-amz-trailer') ?? '').split(',').map((t) => t.trim().toLowerCase()).filter(Boolean)) {
      if (!Object.hasOwn(payload.trailers, name)) throw new S3Error('MalformedTrailerError', `The trailer ${name} declared in x-amz-trailer is missing.`, 400);
    }
  } else if (sha !== undefined && sha !== 'UNSIGNED-PAYLOAD') {
    if (!/^[0-9a-f]{64}$/.test(sha)) throw new S3Error('InvalidArgument', 'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD(-TRAILER), or a valid sha256 value.', 400, [['ArgumentName', 'x-amz-content-sha256'], ['ArgumentValue', sha]]);
    const computed = createHash('sha256').update(payload.body).digest('hex');
    if (computed !== sha) throw new S3Error('XAmzContentSHA256Mismatch', "The provided 'x-amz-content-sha256' header does not match what was computed.", 400, [['ClientComputedContentSHA256', sha], ['S3ComputedContentSHA256', computed]]);
  }
  const md5 = header(req, 'content-md5');
  if (md5 !== undefined) {
    const digest = Buffer.from(md5, 'base64');
    if (digest.length !== 16 || digest.toString('base64') !== md5) throw new S3Error('InvalidDigest', 'The Content-MD5 you specified was invalid.', 400, [['Content-MD5', md5]]);
    if (!createHash('md5').update(payload.body).digest().equals(digest)) throw new S3Error('BadDigest', 'The Content-MD5 you specified did not match what we received.', 400, [['ExpectedDigest', md5]]);
  }
  return payload;
}

/** The one flexible checksum a request sends (header or trailer), checked against the payload. */
function requestChecksum(req: IncomingMessage, payload: Payload): { algorithm: ChecksumAlgorithm; value: string } | undefined {
  const found: { algorithm: ChecksumAlgorithm; value: string }[] = [];
  for (const [name, value] of [...Object.entries(req.headers), ...Object.entries(payload.trailers)]) {
    const m = /^x-amz-checksum-([a-z0-9]+)$/.exec(name);
    if (!m || ['mode', 'type', 'algorithm'].includes(m[1]!)) continue;
    const algorithm = m[1]!.toUpperCase();
    if (!isChecksumAlgorithm(algorithm)) throw notImplemented(`the local S3 checks CRC32, CRC32C, CRC64NVME, SHA1 and SHA256 checksums, not ${algorithm}`, name);
    found.push({ algorithm, value: Array.isArray(value) ? value.join(',') : String(value) });
  }
  if (found.length > 1) throw new S3Error('InvalidRequest', 'Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.', 400);
  const declared = header(req, 'x-amz-sdk-checksum-algorithm')?.toUpperCase();
  const [checksum] = found;
  if (declared !== undefined && !checksum) throw new S3Error('InvalidRequest', 'x-amz-sdk-checksum-algorithm specified, but no corresponding x-amz-checksum-* or x-amz-trailer headers were found.', 400);
  if (declared !== undefined && checksum && declared !== checksum.algorithm) throw new S3Error('InvalidRequest', 'Value for x-amz-sdk-checksum-algorithm header is invalid.', 400);
  if (checksum && checksumOf(checksum.algorithm, payload.body) !== checksum.value) {
    throw new S3Error('BadDigest', `The ${checksum.algorithm} you specified did not match the calculated checksum.`, 400);
  }
  return checksum;
}

/** DeleteObjects and PutObjectLockConfiguration need an integrity check of their body, as in S3. */
function requireBodyDigest(req: IncomingMessage, payload: Payload): void {
  if (header(req, 'content-md5') === undefined && !requestChecksum(req, payload)) throw new S3Error('InvalidRequest', 'Missing required header for this request: Content-MD5', 400);
}

function parseBody(payload: Payload, root: string): XmlElement {
  let element: XmlElement;
  try {
    element = parseXml(payload.body.toString('utf8'));
  } catch (error) {
    if (error instanceof XmlSyntaxError) throw malformedXml();
    throw error;
  }
  if (element.name !== root) throw malformedXml();
  return element;
}

/** The single child `name` of `element`, or undefined; MalformedXML if there are several. */
function only(element: XmlElement, name: string): XmlElement | undefined {
  const found = childrenNamed(element, name);
  if (found.length > 1) throw malformedXml();
  return found[0];
}

/** GetObject's and HeadObject's preconditions, in HTTP's order: the status they answer, or undefined to go on. */
function preconditions(req: IncomingMessage, object: ObjectRecord): undefined | 304 | S3Error {
  const matches = (condition: string) => etagMatches(condition, object.etag);
  const date = (name: string): number | undefined => {
    const value = header(req, name);
    const time = value === undefined ? NaN : Date.parse(value);
    return Number.isNaN(time) ? undefined : time;
  };
  const ifMatch = header(req, 'if-match');
  const ifNoneMatch = header(req, 'if-none-match');
  const unmodifiedSince = date('if-unmodified-since');
  const modifiedSince = date('if-modified-since');
  if (ifMatch !== undefined) {
    if (!matches(ifMatch)) return preconditionFailed('If-Match');
  } else if (unmodifiedSince !== undefined && object.lastModified > unmodifiedSince) return preconditionFailed('If-Unmodified-Since');
  if (ifNoneMatch !== undefined) {
    if (matches(ifNoneMatch)) return 304;
  } else if (modifiedSince !== undefined && object.lastModified <= modifiedSince) return 304;
  return undefined;
}

/** `bytes=a-b`, `bytes=a-`, `bytes=-n`; anything else is ignored (the whole object), as S3 does. */
function parseRange(value: string | undefined, size: number): { start: number; end: number } | undefined {
  const m = value === undefined ? null : /^bytes=(\d*)-(\d*)$/.exec(value.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  const unsatisfiable = () => new S3Error('InvalidRange', 'The requested range is not satisfiable', 416, [['RangeRequested', value!], ['ActualObjectSize', String(size)]], { 'content-range': `bytes */${size}` });
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0 || size === 0) throw unsatisfiable();
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Number(m[2]);
  if (end < start) return undefined;
  if (start >= size) throw unsatisfiable();
  return { start, end: Math.min(end, size - 1) };
}

/** An account's canonical user id, as S3 shows owners (derived from the account: stable, and distinct per account). */
const canonicalUserId = (account: string): string => createHash('sha256').update(`local-s3:${account}`).digest('hex');

/**
 * The S3 handler. `caller` is the account of the request's credentials: as in S3 without bucket policies or ACLs (which
 * the local S3 has not), a bucket is its owner account's alone; another account's request is AccessDenied.
 */
export function createS3Handler(options: S3HttpOptions): (req: IncomingMessage, res: ServerResponse, region: string, caller?: string) => Promise<void> {
  const { s3, maxBody } = options;

  function send(res: ServerResponse, status: number, headers: Record<string, string>, body?: string | Buffer): void {
    const bytes = body === undefined ? undefined : typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    res.writeHead(status, { ...headers, ...(bytes ? { 'content-length': String(bytes.length) } : status === 204 || status === 304 ? {} : { 'content-length': headers['content-length'] ?? '0' }) });
    res.end(bytes);
  }

  const xml = (res: ServerResponse, status: number, document: string, headers: Record<string, string> = {}) => send(res, status, { ...headers, 'content-type': 'application/xml' }, document);

  function sendError(res: ServerResponse, error: S3Error, target: { resource: string; head: boolean }, ids: Record<string, string>): void {
    const headers = { ...ids, ...error.headers };
    if (target.head) return send(res, error.status, headers);
    const nodes: XmlNode[] = [['Code', error.type], ['Message', error.message], ...error.details, ['Resource', target.resource], ['RequestId', ids['x-amz-request-id']], ['HostId', ids['x-amz-id-2']]];
    xml(res, error.status, xmlDocument('Error', nodes), headers);
  }

  /** Refuses what a request asks for that the local S3 does not do. */
  function checkHeaders(req: IncomingMessage, bucket: string | undefined, caller: string): void {
    for (const [name, fine] of Object.entries(UNSUPPORTED_HEADERS)) {
      const value = header(req, name);
      if (value !== undefined && !fine(value)) throw notImplemented(`A header you provided implies functionality that is not implemented by the local S3 (${name}: ${value})`, name);
    }
    const acl = header(req, 'x-amz-acl');
    const grants = Object.keys(req.headers).filter((h) => h.startsWith('x-amz-grant-'));
    if ((acl !== undefined && acl !== 'private' && acl !== 'bucket-owner-full-control') || grants.length) {
      throw new S3Error('AccessControlListNotSupported', 'The bucket does not allow ACLs', 400);
    }
    const expected = header(req, 'x-amz-expected-bucket-owner');
    if (expected !== undefined && expected !== ((bucket !== undefined ? s3.ownerOfBucket(bucket) : undefined) ?? caller)) throw accessDenied();
  }

  function listBuckets(req: IncomingMessage, res: ServerResponse, query: URLSearchParams, caller: string): void {
    const prefix = query.get('prefix') ?? '';
    const maxText = query.get('max-buckets');
    const max = maxText === null ? 10_000 : Number(maxText);
    if (!/^\d+$/.test(maxText ?? '1') || max < 1 || max > 10_000) throw invalidArgument('Argument max-buckets must be an integer between 1 and 10000.', 'max-buckets', maxText ?? '');
    const token = query.get('continuation-token');
    const after = token === null ? undefined : Buffer.from(token, 'base64url').toString('utf8');
    const all = s3.listBuckets().filter((b) => s3.ownerOfBucket(b.name) === caller && b.name.startsWith(prefix) && (after === undefined || b.name > after));
    const page = all.slice(0, max);
    const nodes: XmlNode[] = [
      ['Owner', [['ID', canonicalUserId(caller)]]],
      ['Buckets', page.map((b): XmlNode => ['Bucket', [['Name', b.name], ['CreationDate', isoTime(b.created)], ['BucketRegion', b.region]]])],
      ['ContinuationToken', all.length > max ? Buffer.from(page.at(-1)!.name, 'utf8').toString('base64url') : undefined],
      ['Prefix', query.has('prefix') ? prefix : undefined],
    ];
    xml(res, 200, s3Document('ListAllMyBucketsResult', nodes));
  }

  async function createBucket(req: IncomingMessage, res: ServerResponse, bucket: string, region: string, caller: string): Promise<void> {
    const payload = await readPayload(req, maxBody);
    requestChecksum(req, payload);
    let locationConstraint: string | undefined;
    if (payload.body.length) {
      const configuration = parseBody(payload, 'CreateBucketConfiguration');
      if (only(configuration, 'Location') || only(configuration, 'Bucket')) throw notImplemented('directory buckets (CreateBucketConfiguration Location and Bucket) are not implemented by the local S3');
      locationConstraint = only(configuration, 'LocationConstraint')?.text.trim();
    }
    const objectLock = (header(req, 'x-amz-bucket-object-lock-enabled') ?? '').toLowerCase() === 'true';
    s3.createBucket(bucket, { region, objectLock, owner: caller, ...(locationConstraint !== undefined ? { locationConstraint } : {}) });
    send(res, 200, { location: `/${bucket}` });
  }

  async function putObjectLockConfiguration(req: IncomingMessage, res: ServerResponse, bucket: string): Promise<void> {
    const payload = await readPayload(req, maxBody);
    requireBodyDigest(req, payload);
    const configuration = parseBody(payload, 'ObjectLockConfiguration');
    if (only(configuration, 'ObjectLockEnabled')?.text.trim() !== 'Enabled') throw malformedXml();
    const rule = only(configuration, 'Rule');
    let retention: DefaultRetention | undefined;
    if (rule) {
      const defaults = only(rule, 'DefaultRetention');
      const mode = defaults && only(defaults, 'Mode')?.text.trim();
      const days = defaults && only(defaults, 'Days')?.text.trim();
      const years = defaults && only(defaults, 'Years')?.text.trim();
      if (!mode || !isRetentionMode(mode) || (days === undefined) === (years === undefined)) throw malformedXml();
      const period = days ?? years!;
      if (!/^-?\d+$/.test(period)) throw malformedXml();
      retention = days !== undefined ? { mode, days: Number(days) } : { mode, years: Number(years) };
    }
    s3.bucket(bucket);
    s3.putObjectLockConfiguration(bucket, retention);
    send(res, 200, {});
  }

  function getObjectLockConfiguration(res: ServerResponse, bucket: string): void {
    const { defaultRetention: rule } = s3.objectLockConfiguration(bucket);
    const retention: XmlNode[] | undefined = rule ? [['Mode', rule.mode], ['Days', rule.days], ['Years', rule.years]] : undefined;
    xml(res, 200, s3Document('ObjectLockConfiguration', [['ObjectLockEnabled', 'Enabled'], ['Rule', retention ? [['DefaultRetention', retention]] : undefined]]));
  }

  function listObjectsV2(res: ServerResponse, bucket: string, query: URLSearchParams): void {
    s3.bucket(bucket);
    const maxText = query.get('max-keys');
    if (maxText !== null && !/^\d{1,9}$/.test(maxText)) throw invalidArgument('Provided max-keys not an integer or within integer range', 'max-keys', maxText);
    const maxKeys = maxText === null ? 1000 : Number(maxText);
    const encoding = query.get('encoding-type');
    if (encoding !== null && encoding !== 'url') throw invalidArgument('Invalid Encoding Method specified in Request', 'encoding-type', encoding);
    const encode = encoding === 'url' ? urlEncode : (value: string) => value;
    const prefix = query.get('prefix') ?? '';
    const delimiter = query.get('delimiter') ?? '';
    const startAfter = query.get('start-after') ?? undefined;
    const continuationToken = query.get('continuation-token') ?? undefined;
    const fetchOwner = query.get('fetch-owner') === 'true';
    const page = s3.listObjects(bucket, { prefix, delimiter, maxKeys: Math.min(maxKeys, 1000), ...(startAfter ? { startAfter } : {}), ...(continuationToken !== undefined ? { continuationToken } : {}) });
    const contents = page.contents.map(
      (o): XmlNode => [
        'Contents',
        [
          ['Key', encode(o.key)],
          ['LastModified', isoTime(o.lastModified)],
          ['ETag', quoted(o.etag)],
          ['ChecksumAlgorithm', o.checksum.algorithm],
          ['ChecksumType', 'FULL_OBJECT'],
          ['Size', o.size],
          ['StorageClass', 'STANDARD'],
          ['Owner', fetchOwner ? [['ID', canonicalUserId(s3.ownerOfBucket(bucket)!)]] : undefined],
        ],
      ],
    );
    const nodes: XmlNode[] = [
      ['Name', bucket],
      ['Prefix', encode(prefix)],
      ['Delimiter', delimiter ? encode(delimiter) : undefined],
      ['MaxKeys', maxKeys],
      ['EncodingType', encoding ?? undefined],
      ['KeyCount', page.contents.length + page.commonPrefixes.length],
      ['IsTruncated', page.truncated],
      ['ContinuationToken', continuationToken],
      ['NextContinuationToken', page.nextContinuationToken],
      ['StartAfter', startAfter !== undefined ? encode(startAfter) : undefined],
      ...contents,
      ...page.commonPrefixes.map((p): XmlNode => ['CommonPrefixes', [['Prefix', encode(p)]]]),
    ];
    xml(res, 200, s3Document('ListBucketResult', nodes));
  }

  async function deleteObjects(req: IncomingMessage, res: ServerResponse, bucket: string): Promise<void> {
    const payload = await readPayload(req, maxBody);
    requireBodyDigest(req, payload);
    const request = parseBody(payload, 'Delete');
    const objects = childrenNamed(request, 'Object');
    if (objects.length < 1 || objects.length > 1000) throw malformedXml();
    const targets = objects.map((o) => {
      const key = only(o, 'Key')?.text;
      if (!key) throw malformedXml();
      return { key, versionId: only(o, 'VersionId')?.text };
    });
    const quiet = only(request, 'Quiet')?.text.trim() === 'true';
    s3.bucket(bucket);
    const nodes: XmlNode[] = [];
    for (const { key, versionId } of targets) {
      try {
        const deleted = s3.deleteObject(bucket, key, versionId);
        if (!quiet) nodes.push(['Deleted', [['Key', key], ['VersionId', versionId ?? deleted.versionId]]]);
      } catch (error) {
        if (!(error instanceof S3Error)) throw error;
        nodes.push(['Error', [['Key', key], ['VersionId', versionId], ['Code', error.type], ['Message', error.message]]]);
      }
    }
    xml(res, 200, s3Document('DeleteResult', nodes));
  }

  async function putObject(req: IncomingMessage, res: ServerResponse, bucket: string, key: string): Promise<void> {
    if (header(req, 'content-length') === undefined && header(req, 'x-amz-decoded-content-length') === undefined) {
      if (header(req, 'transfer-encoding') !== undefined) throw notImplemented('A header you provided implies functionality that is not implemented', 'Transfer-Encoding');
      throw new S3Error('MissingContentLength', 'You must provide the Content-Length HTTP header.', 411);
    }
    const payload = await readPayload(req, maxBody);
    const checksum = requestChecksum(req, payload) ?? { algorithm: 'CRC64NVME' as const, value: checksumOf('CRC64NVME', payload.body) };
    checkKey(key);
    const metadata = Object.create(null) as Record<string, string>;
    let metadataBytes = 0;
    for (const [name, value] of Object.entries(req.headers)) {
      if (!name.startsWith('x-amz-meta-') || value === undefined) continue;
      const text = Array.isArray(value) ? value.join(',') : value;
      metadata[name.slice('x-amz-meta-'.length)] = text;
      metadataBytes += Buffer.byteLength(name.slice('x-amz-meta-'.length)) + Buffer.byteLength(text);
    }
    if (metadataBytes > MAX_METADATA_BYTES) throw new S3Error('MetadataTooLarge', 'Your metadata headers exceed the maximum allowed metadata size.', 400, [['Size', String(metadataBytes)], ['MaxSizeAllowed', String(MAX_METADATA_BYTES)]]);
    const headers: Record<string, string> = {};
    for (const name of STORED_HEADERS) {
      let value = header(req, name);
      // aws-chunked is how this request was sent, not how the object is encoded
      if (name === 'content-encoding' && value !== undefined) value = value.split(',').map((e) => e.trim()).filter((e) => e && e.toLowerCase() !== 'aws-chunked').join(',') || undefined;
      if (value !== undefined) headers[name] = value;
    }
    const ifNoneMatch = header(req, 'if-none-match');
    const ifMatch = header(req, 'if-match');
    if (ifNoneMatch !== undefined && ifNoneMatch.trim() !== '*') throw notImplemented('A header you provided implies functionality that is not implemented (If-None-Match on PutObject takes only *)', 'If-None-Match');
    if (ifNoneMatch !== undefined && ifMatch !== undefined) throw notImplemented('A header you provided implies functionality that is not implemented (If-Match with If-None-Match)', 'If-Match');
    const mode = header(req, 'x-amz-object-lock-mode');
    const until = header(req, 'x-amz-object-lock-retain-until-date');
    let retention: PutObjectInput['retention'];
    if (mode !== undefined || until !== undefined) {
      if (mode === undefined || until === undefined) throw new S3Error('InvalidArgument', 'x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied', 400);
      if (!isRetentionMode(mode)) throw invalidArgument('Unknown wormMode directive.', 'x-amz-object-lock-mode', mode);
      const time = Date.parse(until);
      if (Number.isNaN(time)) throw invalidArgument('The retain until date must be provided in ISO 8601 format', 'x-amz-object-lock-retain-until-date', until);
      retention = { mode, until: time };
    }
    const record = s3.putObject(bucket, key, payload.body, {
      contentType: header(req, 'content-type') ?? 'binary/octet-stream',
      headers,
      metadata,
      checksum,
      ...(retention ? { retention } : {}),
      ...(ifNoneMatch !== undefined ? { ifNoneMatch: true } : {}),
      ...(ifMatch !== undefined ? { ifMatch } : {}),
    });
    send(res, 200, {
      etag: quoted(record.etag),
      [checksumHeader(record.checksum.algorithm)]: record.checksum.value,
      'x-amz-checksum-type': 'FULL_OBJECT',
      'x-amz-server-side-encryption': 'AES256',
      ...(record.versionId ? { 'x-amz-version-id': record.versionId } : {}),
    });
  }

  function getObject(req: IncomingMessage, res: ServerResponse, bucket: string, key: string, query: URLSearchParams, head: boolean): void {
    if (query.has('partNumber')) throw notImplemented('GetObject and HeadObject by partNumber are not implemented by the local S3 (it stores no multipart objects)');
    const versionId = query.get('versionId') ?? undefined;
    const object = s3.headObject(bucket, key, versionId);
    const identity: Record<string, string> = { etag: quoted(object.etag), 'last-modified': httpDate(object.lastModified), ...(object.versionId ? { 'x-amz-version-id': object.versionId } : {}) };
    const outcome = preconditions(req, object);
    if (outcome instanceof S3Error) throw outcome;
    if (outcome === 304) return send(res, 304, identity);
    const range = parseRange(header(req, 'range'), object.size);
    const headers: Record<string, string> = {
      ...identity,
      'content-type': object.contentType,
      'accept-ranges': 'bytes',
      'x-amz-server-side-encryption': 'AES256',
      ...object.headers,
      ...Object.fromEntries(Object.entries(object.metadata).map(([name, value]) => [`x-amz-meta-${name}`, value])),
      ...(object.retention ? { 'x-amz-object-lock-mode': object.retention.mode, 'x-amz-object-lock-retain-until-date': isoTime(object.retention.until) } : {}),
    };
    for (const [parameter, name] of Object.entries(RESPONSE_OVERRIDES)) {
      const value = query.get(parameter);
      if (value !== null) headers[name] = value;
    }
    // the whole object's checksum, when asked for; a range has none that would verify
    if (!range && header(req, 'x-amz-checksum-mode')?.toUpperCase() === 'ENABLED') {
      headers[checksumHeader(object.checksum.algorithm)] = object.checksum.value;
      headers['x-amz-checksum-type'] = 'FULL_OBJECT';
    }
    const start = range?.start ?? 0;
    const end = range?.end ?? object.size - 1;
    if (range) headers['content-range'] = `bytes ${start}-${end}/${object.size}`;
    headers['content-length'] = String(Math.max(0, end - start + 1));
    const status = range ? 206 : 200;
    if (head) return send(res, status, headers);
    const body = s3.readObject(bucket, key, start, end);
    res.writeHead(status, headers);
    res.end(body);
  }

  function deleteObject(req: IncomingMessage, res: ServerResponse, bucket: string, key: string, query: URLSearchParams): void {
    const versionId = query.get('versionId') ?? undefined;
    const ifMatch = header(req, 'if-match');
    if (ifMatch !== undefined) {
      const current = s3.headObject(bucket, key);
      if (!etagMatches(ifMatch, current.etag)) throw preconditionFailed('If-Match');
    }
    const deleted = s3.deleteObject(bucket, key, versionId);
    send(res, 204, deleted.versionId ? { 'x-amz-version-id': deleted.versionId } : {});
  }

  async function dispatch(req: IncomingMessage, res: ServerResponse, target: Target, region: string, caller: string): Promise<void> {
    const method = req.method ?? 'GET';
    const { bucket, key, query } = target;
    const present = [...new Set(query.keys())].filter((name) => SUBRESOURCES.has(name)).sort();
    const sub = present.join('&');
    const unsupported = () => (sub ? notImplemented(`the local S3 does not implement ${method} ?${sub}`) : new S3Error('MethodNotAllowed', 'The specified method is not allowed against this resource.', 405, [['Method', method], ['ResourceType', key ? 'OBJECT' : bucket ? 'BUCKET' : 'SERVICE']]));
    if (bucket === undefined) {
      if (method === 'GET' && !sub) return listBuckets(req, res, query, caller);
      throw unsupported();
    }
    // Another account's bucket: S3 without a bucket policy or ACL granting it refuses (creating it again is
    // BucketAlreadyExists, which LocalS3 answers).
    const owner = s3.ownerOfBucket(bucket);
    if (owner !== undefined && owner !== caller && !(key === undefined && method === 'PUT' && !sub)) throw accessDenied();
    if (key === undefined) {
      switch (`${method} ${sub}`) {
        case 'PUT ':
          return createBucket(req, res, bucket, region, caller);
        case 'PUT object-lock':
          return putObjectLockConfiguration(req, res, bucket);
        case 'HEAD ': {
          const record = s3.bucket(bucket);
          return send(res, 200, { 'x-amz-bucket-region': record.region, 'x-amz-access-point-alias': 'false' });
        }
        case 'GET ':
          if (query.get('list-type') === '2') return listObjectsV2(res, bucket, query);
          s3.bucket(bucket);
          throw notImplemented('ListObjects (version 1) is not implemented by the local S3: use ListObjectsV2 (list-type=2), as the AWS CLI and SDKs do');
        case 'GET object-lock':
          return getObjectLockConfiguration(res, bucket);
        case 'GET versioning':
          return xml(res, 200, s3Document('VersioningConfiguration', [['Status', s3.bucket(bucket).objectLock ? 'Enabled' : undefined]]));
        case 'GET location': {
          const { region: location } = s3.bucket(bucket);
          const text = location === 'us-east-1' ? '' : location;
          return xml(res, 200, `<?xml version="1.0" encoding="UTF-8"?>\n<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${text}</LocationConstraint>`);
        }
        case 'DELETE ':
          s3.deleteBucket(bucket);
          return send(res, 204, {});
        case 'POST delete':
          return deleteObjects(req, res, bucket);
        case 'GET uploads':
          throw notImplemented(MULTIPART);
      }
      throw unsupported();
    }
    switch (`${method} ${sub}`) {
      case 'PUT ':
        return putObject(req, res, bucket, key);
      case 'GET ':
      case 'GET partNumber':
        return getObject(req, res, bucket, key, query, false);
      case 'HEAD ':
      case 'HEAD partNumber':
        return getObject(req, res, bucket, key, query, true);
      case 'DELETE ':
        return deleteObject(req, res, bucket, key, query);
      case 'POST uploads':
      case 'POST uploadId':
      case 'PUT partNumber&uploadId':
      case 'GET uploadId':
      case 'DELETE uploadId':
        throw notImplemented(MULTIPART);
    }
    throw unsupported();
  }

  return async (req, res, region, caller = options.account) => {
    const ids = { 'x-amz-request-id': randomBytes(8).toString('hex').toUpperCase(), 'x-amz-id-2': randomBytes(32).toString('base64') };
    for (const [name, value] of Object.entries(ids)) res.setHeader(name, value);
    const head = req.method === 'HEAD';
    let resource = '/';
    try {
      const target = parseTarget(req.url ?? '/');
      resource = target.resource;
      checkHeaders(req, target.bucket, caller);
      await dispatch(req, res, target, region, caller);
    } catch (caught) {
      let error: S3Error;
      if (caught instanceof S3Error) error = caught;
      else {
        logger.error('local S3: a request failed', { error: caught, method: req.method, url: req.url });
        error = new S3Error('InternalError', 'We encountered an internal error. Please try again.', 500);
        if (caught instanceof LocalServiceError) error = new S3Error(caught.type, caught.message, caught.status);
      }
      if (res.headersSent) return void res.end();
      if (error.type === 'EntityTooLarge') {
        // the rest of the body is not read: the connection cannot carry another request
        res.setHeader('connection', 'close');
        req.resume();
      }
      sendError(res, error, { resource, head }, ids);
    }
  };
}
