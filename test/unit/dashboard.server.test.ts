/**
 * The dashboard's server (issue 17) between a page and the gateway: what it passes on (signed, SigV4 execute-api,
 * the path and query as asked), what it does not (routes the page has no use for, a repeated query parameter, an
 * oversized or malformed body), the gateway's answer handed on unchanged, and a gateway out of reach as a 502 that
 * says where the calls go. The gateway here is a loopback HTTP server that records what reaches it.
 */
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GatewayClient } from '../../src/client';
import { startDashboard, type Dashboard } from '../../src/dashboard/server';

const CREDENTIALS = { accessKeyId: 'AKIADASHBOARDTEST001', secretAccessKey: 'dashboard-test-secret' };

let gateway: Server;
let seen: { method: string; url: string; headers: IncomingMessage['headers']; body: string }[];
let dashboard: Dashboard;
let unreachable: Dashboard;

beforeAll(async () => {
  seen = [];
  gateway = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const status = req.url?.startsWith('/jobs/job-missing') ? 404 : 200;
      res.writeHead(status, { 'content-type': 'application/json', 'retry-after': '7' });
      res.end(JSON.stringify(status === 404 ? { error: { code: 'NotFound', message: 'no such job' } } : { ok: true, path: req.url }));
    });
  });
  await new Promise<void>((ok) => gateway.listen(0, '127.0.0.1', ok));
  const endpoint = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}`;
  dashboard = await startDashboard({ client: new GatewayClient({ endpoint, credentials: CREDENTIALS, retry: false }), endpoint, port: 0 });
  const nowhere = 'http://127.0.0.1:1';
  unreachable = await startDashboard({ client: new GatewayClient({ endpoint: nowhere, credentials: CREDENTIALS, retry: false, timeoutMs: 2000 }), endpoint: nowhere, port: 0 });
});
afterAll(async () => {
  await dashboard.close();
  await unreachable.close();
  gateway.close();
});

function call(to: Dashboard, method: string, path: string, options: { body?: string; origin?: boolean; headers?: Record<string, string> } = {}): Promise<{ status: number; body: string; headers: IncomingMessage['headers'] }> {
  const host = `127.0.0.1:${to.port}`;
  const headers: Record<string, string> = { host, 'x-dashboard-token': to.token, ...(options.origin !== false && method !== 'GET' ? { origin: `http://${host}` } : {}), ...options.headers };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  return new Promise((done, fail) => {
    const req = request({ host: '127.0.0.1', port: to.port, method, path, headers }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => done({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', fail);
    req.end(options.body);
  });
}

it("passes the page's calls on signed, the path and query as asked, and hands the answer back as it came", async () => {
  const answer = await call(dashboard, 'GET', '/api/jobs?status=RUNNING&limit=100');
  expect(answer.status).toBe(200);
  expect(JSON.parse(answer.body)).toEqual({ ok: true, path: '/jobs?status=RUNNING&limit=100' });
  expect(answer.headers['retry-after']).toBe('7');
  const reached = seen.at(-1)!;
  expect(reached.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIADASHBOARDTEST001\/\d{8}\/us-east-1\/execute-api\/aws4_request/);
  expect(reached.headers.cookie).toBeUndefined(); // the dashboard's token stays with the dashboard
  expect(reached.headers['x-dashboard-token']).toBeUndefined();
  const missing = await call(dashboard, 'GET', '/api/jobs/job-missing');
  expect([missing.status, JSON.parse(missing.body)]).toEqual([404, { error: { code: 'NotFound', message: 'no such job' } }]);
  const rerun = await call(dashboard, 'POST', '/api/jobs/job-abc/rerun', { body: '{"parameters":{"day":"2026-12-04"}}' });
  expect(rerun.status).toBe(200);
  expect(seen.at(-1)).toMatchObject({ method: 'POST', url: '/jobs/job-abc/rerun', body: '{"parameters":{"day":"2026-12-04"}}' });
  // A rerun's Idempotency-Key goes on with it (signed); one on a GET, or two, are refused.
  await call(dashboard, 'POST', '/api/jobs/job-abc/rerun', { body: '{}', headers: { 'idempotency-key': 'rerun-1234' } });
  expect(seen.at(-1)?.headers['idempotency-key']).toBe('rerun-1234');
  expect(seen.at(-1)?.headers.authorization).toMatch(/SignedHeaders=[^,]*idempotency-key/);
  expect((await call(dashboard, 'GET', '/api/jobs', { headers: { 'idempotency-key': 'k' } })).status).toBe(400);
  expect((await call(dashboard, 'DELETE', '/api/jobs/job-abc')).status).toBe(200);
  expect(seen.at(-1)).toMatchObject({ method: 'DELETE', url: '/jobs/job-abc' });
});

it('passes on nothing the page has no use for, nor a repeated parameter, an oversized or malformed body', async () => {
  const before = seen.length;
  const refused = async (method: string, path: string, body?: string) => {
    const answer = await call(dashboard, method, path, body === undefined ? {} : { body });
    return [answer.status, (JSON.parse(answer.body) as { error: { code: string } }).error.code];
  };
  expect(await refused('POST', '/api/jobs', '{}')).toEqual([405, 'MethodNotAllowed']);
  expect(await refused('POST', '/api/sessions', '{}')).toEqual([405, 'MethodNotAllowed']);
  expect(await refused('GET', '/api/openapi.json')).toEqual([404, 'NotFound']);
  expect(await refused('GET', '/api/jobs/..%2F..%2Fsessions')).toEqual([404, 'NotFound']);
  expect(await refused('GET', '/api/jobs/a/b/c')).toEqual([404, 'NotFound']);
  expect(await refused('GET', '/api/jobs?status=RUNNING&status=FAILED')).toEqual([400, 'ValidationError']);
  expect(await refused('POST', '/api/jobs/job-abc/rerun', '{"parameters":')).toEqual([400, 'ValidationError']);
  expect(await refused('POST', '/api/jobs/job-abc/rerun', `{"x":"${'a'.repeat(70_000)}"}`)).toEqual([413, 'PayloadTooLarge']);
  expect(await refused('PUT', '/')).toEqual([405, 'MethodNotAllowed']);
  expect(await refused('GET', '/assets/../../package.json')).toEqual([404, 'NotFound']);
  expect(seen.length).toBe(before);
});

it('serves the page and its assets with the strict CSP, and no CORS allowance', async () => {
  const page = await call(dashboard, 'GET', '/');
  expect(page.status).toBe(200);
  expect(page.body).toContain('<script type="module" src="/assets/app.js"></script>');
  expect(page.body).not.toMatch(/<script>|<style>|https?:\/\//);
  expect(page.headers).toMatchObject({ 'x-content-type-options': 'nosniff', 'x-frame-options': 'DENY', 'referrer-policy': 'no-referrer', 'cache-control': 'no-store' });
  expect(page.headers['content-security-policy']).toBe("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
  expect(page.headers['access-control-allow-origin']).toBeUndefined();
});

it('a gateway out of reach is a 502 that says where the calls go', async () => {
  const answer = await call(unreachable, 'GET', '/api/jobs');
  expect(answer.status).toBe(502);
  expect(JSON.parse(answer.body)).toEqual({ error: { code: 'GatewayUnreachable', message: expect.stringMatching(/cannot reach http:\/\/127\.0\.0\.1:1 .*the dashboard's calls go to http:\/\/127\.0\.0\.1:1/) } });
});
