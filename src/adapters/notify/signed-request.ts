/**
 * One SigV4-signed request to an AWS service (SNS's Query protocol, Secrets Manager's and SSM's JSON 1.1), with the
 * SDK's credential chain. The SNS, Secrets Manager and SSM SDK clients are not among the project's dependencies (their
 * packages are not installed here), so these three calls are made at this level; swapping in @aws-sdk/client-sns /
 * -secrets-manager / -ssm changes this folder only. The signature is SigV4 for a POST with a body (AWS's "Signature
 * Version 4 signing process"), written with node:crypto: @smithy/signature-v4 would bring @smithy/core's 130 KB into
 * the notify function's bundle (the runtime's SDK is not bundled; @smithy is). A unit test holds it against
 * @smithy/signature-v4's signature of the same request.
 */
import { createHash, createHmac } from 'node:crypto';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import type { AwsTarget } from '../client-config';

export interface SignedResponse {
  status: number;
  body: string;
}

const sha256 = (data: string): string => createHash('sha256').update(data, 'utf8').digest('hex');
const hmac = (key: Buffer | string, data: string): Buffer => createHmac('sha256', key).update(data, 'utf8').digest();

/** The headers of a signed POST of `body` to `url` (x-amz-date, x-amz-security-token, authorization added to `headers`). */
export function signPost(url: URL, headers: Record<string, string>, body: string, service: string, region: string, credentials: AwsCredentialIdentity, now: Date): Record<string, string> {
  const amzDate = now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const day = amzDate.slice(0, 8);
  const payloadHash = sha256(body);
  const all: Record<string, string> = { ...Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v.trim()])), host: url.host, 'x-amz-date': amzDate, 'x-amz-content-sha256': payloadHash };
  if (credentials.sessionToken) all['x-amz-security-token'] = credentials.sessionToken;
  const names = Object.keys(all).sort();
  const signedHeaders = names.join(';');
  const canonical = ['POST', url.pathname || '/', '', ...names.map((n) => `${n}:${all[n]}`), '', signedHeaders, payloadHash].join('\n');
  const scope = `${day}/${region}/${service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${credentials.secretAccessKey}`, day), region), service), 'aws4_request');
  const signature = createHmac('sha256', key).update(toSign, 'utf8').digest('hex');
  return { ...all, authorization: `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}` };
}

export class SignedRequests {
  private readonly credentials: AwsCredentialIdentityProvider;

  constructor(private readonly target: AwsTarget, private readonly now: () => Date = () => new Date()) {
    const fixed = target.credentials;
    this.credentials = fixed ? () => Promise.resolve(fixed) : fromNodeProviderChain();
  }

  /** POSTs `body` to the service's endpoint (the local stack's when the target has one), signed for `service`. */
  async post(service: string, headers: Record<string, string>, body: string, timeoutMs: number): Promise<SignedResponse> {
    const url = new URL(this.target.endpoint ?? `https://${service}.${this.target.region}.amazonaws.com/`);
    const signed = signPost(url, headers, body, service, this.target.region, await this.credentials(), this.now());
    const { host: _host, ...sent } = signed; // fetch sets Host itself (the same value)
    const response = await fetch(url, { method: 'POST', headers: sent, body, signal: AbortSignal.timeout(timeoutMs), redirect: 'error' });
    return { status: response.status, body: await response.text() };
  }
}
