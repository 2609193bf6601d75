/**
 * One SigV4-signed request to an AWS service (SNS's Query protocol, Secrets Manager's and SSM's JSON 1.1), made with
 * the SDK's own signer and credential chain. The SNS, Secrets Manager and SSM SDK clients are not among the project's
 * dependencies (their packages are not installed here), so these three calls are made at this level; swapping in
 * @aws-sdk/client-sns / -secrets-manager / -ssm changes this folder only.
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import type { AwsTarget } from '../client-config';

export interface SignedResponse {
  status: number;
  body: string;
}

export class SignedRequests {
  private readonly credentials: AwsCredentialIdentityProvider;

  constructor(private readonly target: AwsTarget) {
    const fixed = target.credentials;
    this.credentials = fixed ? () => Promise.resolve(fixed) : fromNodeProviderChain();
  }

  /** POSTs `body` to the service's endpoint (the local stack's when the target has one), signed for `service`. */
  async post(service: string, headers: Record<string, string>, body: string, timeoutMs: number): Promise<SignedResponse> {
    const url = new URL(this.target.endpoint ?? `https://${service}.${this.target.region}.amazonaws.com`);
    const request = new HttpRequest({
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: url.pathname || '/',
      headers: { ...headers, host: url.host },
      body,
    });
    const signer = new SignatureV4({ service, region: this.target.region, credentials: this.credentials, sha256: Sha256 });
    const signed = await signer.sign(request);
    const response = await fetch(url, { method: 'POST', headers: signed.headers, body, signal: AbortSignal.timeout(timeoutMs), redirect: 'error' });
    return { status: response.status, body: await response.text() };
  }
}
