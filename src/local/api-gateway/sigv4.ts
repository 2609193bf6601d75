/**
 * AWS Signature Version 4 verification for the local API front (service execute-api), as API Gateway's IAM
 * authorization does it: the credential scope, a clock skew of at most 5 minutes, the signed headers (host
 * and x-amz-date at least), the payload hash, and the signature, compared in constant time. The path and
 * query are the front's one parse of the request target (request-target.ts), the same the proxy event is
 * built from; which Host the signature may name is the front's rule.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { sha256 } from '../../util/canonical';
import type { RequestTarget } from './request-target';

export interface SignedRequest {
  method: string;
  /** The path and query as parsed once (parseRequestTarget): no dot segments or empty segments are left. */
  target: Pick<RequestTarget, 'rawPath' | 'query'>;
  /** Header names lower-cased; repeated headers joined with ','. */
  headers: Record<string, string>;
  body: Buffer;
}

export type VerifyResult = { ok: true; accessKeyId: string } | { ok: false; reason: string };

const ALGORITHM = 'AWS4-HMAC-SHA256';
const MAX_SKEW_MS = 5 * 60 * 1000;
const AUTH = /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/([^/,\s]+)\/aws4_request,\s*SignedHeaders=([a-z0-9;_.-]+),\s*Signature=([0-9a-f]{64})$/;

const hmac = (key: string | Buffer, data: string): Buffer => createHmac('sha256', key).update(data).digest();

/** RFC 3986 encoding, as SigV4 wants it. */
function encode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * Non-S3 services: each segment of the (already encoded) path encoded once more. The signers also drop dot
 * segments and empty segments first; the front refuses paths that have any (but one trailing `/`, which the
 * signers keep), so there is nothing to normalise here and the canonical URI is the path that is routed.
 */
function canonicalPath(rawPath: string): string {
  return rawPath.split('/').map(encode).join('/');
}

/** The decoded pairs, each side encoded, sorted by key, then value. */
function canonicalQuery(query: readonly (readonly [string, string])[]): string {
  return query
    .map(([key, value]) => [encode(key), encode(value)] as const)
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

/** `20261128T120000Z` → Date, or undefined. */
function parseAmzDate(value: string | undefined): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value ?? '');
  if (!m) return undefined;
  const date = new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
  return Number.isNaN(date.getTime()) ? undefined : date;
}

export function verifySigV4(
  request: SignedRequest,
  options: { region: string; service: string; secretFor: (accessKeyId: string) => string | undefined; now?: Date },
): VerifyResult {
  const authorization = request.headers.authorization;
  if (!authorization) return { ok: false, reason: 'the request is not signed (no Authorization header): sign it with AWS SigV4, service execute-api' };
  if (!authorization.startsWith(`${ALGORITHM} `)) return { ok: false, reason: `only ${ALGORITHM} signatures are accepted` };
  const m = AUTH.exec(authorization);
  if (!m) return { ok: false, reason: 'the Authorization header is malformed' };
  const [, accessKeyId, scopeDate, region, service, signedHeaderList, signature] = m as unknown as string[];
  const amzDate = request.headers['x-amz-date'];
  const date = parseAmzDate(amzDate);
  if (!date) return { ok: false, reason: 'X-Amz-Date is missing or malformed (YYYYMMDDTHHMMSSZ)' };
  if (amzDate!.slice(0, 8) !== scopeDate) return { ok: false, reason: 'the credential scope date does not match X-Amz-Date' };
  if (region !== options.region) return { ok: false, reason: `the credential scope names region ${region}; this endpoint is ${options.region}` };
  if (service !== options.service) return { ok: false, reason: `the credential scope names service ${service}; sign for ${options.service}` };
  const now = options.now ?? new Date();
  if (Math.abs(now.getTime() - date.getTime()) > MAX_SKEW_MS) {
    return { ok: false, reason: `the request was signed at ${date.toISOString()}, more than 5 minutes from the server's time ${now.toISOString()}` };
  }
  const signedHeaders = signedHeaderList!.split(';');
  if (!signedHeaders.includes('host') || !signedHeaders.includes('x-amz-date')) return { ok: false, reason: 'host and x-amz-date must be signed headers' };
  if ([...signedHeaders].sort().join(';') !== signedHeaderList) return { ok: false, reason: 'SignedHeaders must be sorted' };
  const secret = options.secretFor(accessKeyId!);
  if (secret === undefined) return { ok: false, reason: `the access key ${accessKeyId} is not known here` };

  const payloadHash = sha256(request.body);
  const declared = request.headers['x-amz-content-sha256'];
  if (declared !== undefined && declared !== payloadHash) return { ok: false, reason: 'x-amz-content-sha256 does not match the body' };
  const canonicalHeaders = signedHeaders
    .map((name) => {
      const value = request.headers[name];
      return value === undefined ? undefined : `${name}:${value.trim().replace(/\s+/g, ' ')}\n`;
    });
  if (canonicalHeaders.includes(undefined)) return { ok: false, reason: 'a signed header is missing from the request' };
  const canonicalRequest = [request.method.toUpperCase(), canonicalPath(request.target.rawPath), canonicalQuery(request.target.query), canonicalHeaders.join(''), signedHeaderList, payloadHash].join('\n');
  const scope = `${scopeDate}/${region}/${service}/aws4_request`;
  const stringToSign = [ALGORITHM, amzDate, scope, sha256(canonicalRequest)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, scopeDate), region), service), 'aws4_request');
  const expected = createHmac('sha256', key).update(stringToSign).digest();
  const given = Buffer.from(signature!, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, reason: 'the signature does not match: check the secret key and that the request was not changed after signing' };
  }
  return { ok: true, accessKeyId: accessKeyId! };
}
