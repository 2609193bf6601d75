import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { hostProblem } from '../../src/local/api-gateway/front';
import { parseRequestTarget, type RequestTarget } from '../../src/local/api-gateway/request-target';
import { verifySigV4, type SignedRequest } from '../../src/local/api-gateway/sigv4';

const NOW = new Date('2026-11-28T12:00:00Z');
const SECRETS: Record<string, string> = { AKIALOCALALICE000001: 'local-alice-secret' };
const options = { region: 'us-east-1', service: 'execute-api', secretFor: (id: string) => SECRETS[id], now: NOW };

/** Signs like the AWS SDKs and CLI do, and returns the request as the server receives it. */
async function signed(
  init: { method?: string; path?: string; query?: Record<string, string>; body?: string; headers?: Record<string, string> } = {},
  signer: { region?: string; service?: string; secret?: string; date?: Date } = {},
): Promise<SignedRequest> {
  const sigv4 = new SignatureV4({
    service: signer.service ?? 'execute-api',
    region: signer.region ?? 'us-east-1',
    credentials: { accessKeyId: 'AKIALOCALALICE000001', secretAccessKey: signer.secret ?? 'local-alice-secret' },
    sha256: Sha256,
  });
  const request = new HttpRequest({
    method: init.method ?? 'GET',
    protocol: 'http:',
    hostname: '127.0.0.1',
    port: 3000,
    path: init.path ?? '/jobs',
    query: init.query ?? {},
    headers: { host: '127.0.0.1:3000', ...(init.body ? { 'content-type': 'application/json' } : {}), ...init.headers },
    ...(init.body ? { body: init.body } : {}),
  });
  const out = await sigv4.sign(request, { signingDate: signer.date ?? NOW });
  const query = new URLSearchParams(init.query ?? {}).toString().replace(/\+/g, '%20');
  const headers = Object.fromEntries(Object.entries(out.headers).map(([k, v]) => [k.toLowerCase(), v]));
  return { method: out.method, target: target(`${out.path}${query ? `?${query}` : ''}`), headers, body: Buffer.from(init.body ?? '') };
}

function target(url: string): RequestTarget {
  const parsed = parseRequestTarget(url);
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.target;
}

describe('SigV4 verification', () => {
  it('accepts what the AWS SDK signs: GET with a query, POST with a body, encoded paths', async () => {
    expect(verifySigV4(await signed({ query: { status: 'RUNNING', limit: '5', caller: 'arn:aws:sts::1:assumed-role/A/b c' } }), options)).toEqual({ ok: true, accessKeyId: 'AKIALOCALALICE000001' });
    expect(verifySigV4(await signed({ method: 'POST', body: '{"name":"x"}', headers: { 'idempotency-key': 'k 1' } }), options)).toMatchObject({ ok: true });
    expect(verifySigV4(await signed({ method: 'DELETE', path: '/jobs/job-0123456789abcdefghjkmnpqrs' }), options)).toMatchObject({ ok: true });
  });
  it.each<[string, (r: SignedRequest) => void, RegExp]>([
    ['a changed body', (r) => (r.body = Buffer.from('{"name":"y"}')), /signature does not match|content-sha256/],
    ['a changed path', (r) => (r.target = target('/jobs/other')), /signature does not match/],
    ['a changed query', (r) => (r.target = target('/jobs?status=FAILED')), /signature does not match/],
    ['a changed signed header', (r) => (r.headers.host = 'evil:3000'), /signature does not match/],
    ['no Authorization', (r) => delete r.headers.authorization, /not signed/],
    ['a garbled Authorization', (r) => (r.headers.authorization = 'AWS4-HMAC-SHA256 nonsense'), /malformed/],
    ['another algorithm', (r) => (r.headers.authorization = 'Bearer abc'), /only AWS4-HMAC-SHA256/],
    ['no X-Amz-Date', (r) => delete r.headers['x-amz-date'], /X-Amz-Date/],
  ])('rejects %s', async (_name, tamper, reason) => {
    const request = await signed({ method: 'POST', body: '{"name":"x"}' });
    tamper(request);
    const result = verifySigV4(request, options);
    expect(result.ok).toBe(false);
    expect((result as { reason: string }).reason).toMatch(reason);
  });
  it('rejects an unknown key, a wrong secret, another region or service, and a clock skew over 5 minutes', async () => {
    const unknown = await signed();
    unknown.headers.authorization = unknown.headers.authorization!.replace('AKIALOCALALICE000001', 'AKIAUNKNOWN000000000');
    expect(verifySigV4(unknown, options)).toMatchObject({ ok: false, reason: expect.stringMatching(/not known/) });
    expect(verifySigV4(await signed({}, { secret: 'wrong' }), options)).toMatchObject({ ok: false, reason: expect.stringMatching(/does not match/) });
    expect(verifySigV4(await signed({}, { region: 'eu-west-1' }), options)).toMatchObject({ ok: false, reason: expect.stringMatching(/region eu-west-1/) });
    expect(verifySigV4(await signed({}, { service: 'execute-apx' }), options)).toMatchObject({ ok: false, reason: expect.stringMatching(/service execute-apx/) });
    expect(verifySigV4(await signed({}, { date: new Date(NOW.getTime() - 6 * 60_000) }), options)).toMatchObject({ ok: false, reason: expect.stringMatching(/more than 5 minutes/) });
    expect(verifySigV4(await signed({}, { date: new Date(NOW.getTime() + 4 * 60_000) }), options)).toMatchObject({ ok: true });
  });
});

describe('the request target, parsed once for the signature and the event', () => {
  it('decodes the path once and keeps the query pairs in wire order, + as a plus', () => {
    expect(target('/jobs/%6Aob-1/audit?b=2&a=x+y&a=%20&&c')).toEqual({ rawPath: '/jobs/%6Aob-1/audit', path: '/jobs/job-1/audit', query: [['b', '2'], ['a', 'x+y'], ['a', ' '], ['c', '']] });
    expect(target('/')).toMatchObject({ path: '/', query: [] });
    expect(target('/jobs/')).toMatchObject({ path: '/jobs/' });
  });
  it.each([
    ['/jobs/../roles', /dot segment/],
    ['/jobs/%2e%2E/roles', /dot segment/],
    ['/./jobs', /dot segment/],
    ['/jobs/a%2Fb', /encoded slash/],
    ['/jobs/a%5cb', /encoded backslash/],
    ['/jobs/a\\b', /backslash/],
    ['/jobs/%252e', /double encoding/],
    ['//jobs', /empty segment/],
    ['/jobs//', /empty segment/],
    ['/jobs/a%00', /control character \(U\+0000\)/],
    ['/jobs/a%C2%85', /control character \(U\+0085\)/],
    ['/jobs/a%zz', /invalid percent-escape/],
    ['/jobs/a%', /invalid percent-escape/],
    ['/jobs/%C0%AE', /not UTF-8/],
    ['/jobs/a b', /must be percent-encoded/],
    ['/jobs/a#b', /must be percent-encoded/],
    ['http://127.0.0.1:3000/jobs', /must start with/],
    ['*', /must start with/],
    ['/jobs?a=%zz', /query string has an invalid percent-escape/],
    ['/jobs?a=%00', /query parameter "a" has a control character/],
    ['/jobs?a=b c', /query string contains/],
  ])('refuses %s', (url, reason) => {
    const parsed = parseRequestTarget(url);
    expect(parsed.ok).toBe(false);
    expect((parsed as { reason: string }).reason).toMatch(reason);
  });
});

describe('the Host a request is signed for must name the front', () => {
  it('accepts its port on 127.0.0.1, localhost, [::1] and the listening host; nothing else', () => {
    for (const host of ['127.0.0.1:3000', 'localhost:3000', 'LOCALHOST:3000', '[::1]:3000']) expect(hostProblem(host, '127.0.0.1', 3000)).toBeUndefined();
    expect(hostProblem('127.0.0.2:3000', '127.0.0.2', 3000)).toBeUndefined();
    expect(hostProblem('127.0.0.1', '127.0.0.1', 80)).toBeUndefined();
    for (const host of ['127.0.0.1:3001', '127.0.0.1', 'evil.example:3000', 'evil.example', 'abc.execute-api.us-east-1.amazonaws.com', '127.0.0.1:3000.evil.example', undefined]) {
      expect(hostProblem(host, '127.0.0.1', 3000)).toEqual(expect.any(String));
    }
    expect(hostProblem('127.0.0.1:3001', '127.0.0.1', 3000)).toMatch(/signed for Host "127.0.0.1:3001"; this API is 127.0.0.1:3000/);
  });
});

describe('the proxy event', () => {
  it('keeps query parameters named like Object.prototype members as plain parameters', async () => {
    const { proxyEvent } = await import('../../src/local/api-gateway/proxy-event');
    const event = proxyEvent({
      method: 'GET',
      path: '/jobs',
      headers: {},
      query: [['valueOf', 'a'], ['__proto__', 'b'], ['limit', '1'], ['limit', '2']],
      body: null,
      isBase64Encoded: false,
      account: '123456789012',
      requestId: 'r',
      stage: 'local',
      protocol: 'HTTP/1.1',
      identity: { accessKey: 'AKIA', userArn: 'arn:aws:sts::123456789012:assumed-role/A/b', sourceIp: '127.0.0.1', userAgent: null },
    });
    expect(Object.entries(event.queryStringParameters ?? {})).toEqual([['valueOf', 'a'], ['__proto__', 'b'], ['limit', '2']]);
    expect(event.multiValueQueryStringParameters?.limit).toEqual(['1', '2']);
  });
});
