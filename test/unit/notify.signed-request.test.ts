/** The notifier's SigV4 signer (adapters/notify/signed-request.ts) against the SDK's own (@smithy/signature-v4), on the same requests. */
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { signPost } from '../../src/adapters/notify/signed-request';

const NOW = new Date('2026-12-03T07:55:12.345Z');

async function sdkAuthorization(url: URL, headers: Record<string, string>, body: string, service: string, credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }): Promise<string> {
  const signer = new SignatureV4({ service, region: 'eu-west-1', credentials, sha256: Sha256 });
  const request = new HttpRequest({ method: 'POST', protocol: url.protocol, hostname: url.hostname, ...(url.port ? { port: Number(url.port) } : {}), path: url.pathname, headers: { ...headers, host: url.host }, body });
  const signed = await signer.sign(request, { signingDate: NOW });
  return signed.headers.authorization!;
}

test.each([
  ['sns', 'https://sns.eu-west-1.amazonaws.com/', { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }, 'Action=Publish&Version=2010-03-31&TopicArn=arn%3Aaws%3Asns%3Aeu-west-1%3A123456789012%3At&Message=%7B%22a%22%3A1%7D', undefined],
  ['secretsmanager', 'https://secretsmanager.eu-west-1.amazonaws.com/', { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'secretsmanager.GetSecretValue' }, '{"SecretId":"arn:aws:secretsmanager:eu-west-1:123456789012:secret:s-AbCdEf"}', 'session-token-xyz'],
  ['ssm', 'http://127.0.0.1:4566/', { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AmazonSSM.GetParameter' }, '{"Name":"/a/b","WithDecryption":true}', undefined],
])('%s: the same Authorization as the SDK signer', async (service, endpoint, headers, body, sessionToken) => {
  const credentials = { accessKeyId: 'AKIAEXAMPLE000000001', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', ...(sessionToken ? { sessionToken } : {}) };
  const url = new URL(endpoint);
  const ours = signPost(url, headers, body, service, 'eu-west-1', credentials, NOW);
  expect(ours.authorization).toBe(await sdkAuthorization(url, headers, body, service, credentials));
  expect(ours['x-amz-date']).toBe('20261203T075512Z');
  if (sessionToken) expect(ours['x-amz-security-token']).toBe(sessionToken);
});
