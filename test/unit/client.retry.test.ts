/**
 * GatewayClient across a gateway that goes away and comes back: connection refused, 503 and 429 with
 * Retry-After, then an answer. Only what is safe to repeat is repeated (GET, DELETE, and a POST carrying an
 * Idempotency-Key); past its bound the client gives up with GatewayUnavailableError. A scripted HTTP server
 * on a loopback port chosen at run time stands in for the gateway.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GatewayApiError, GatewayClient, GatewayUnavailableError, type RetryOptions } from '../../src/client';

const CREDENTIALS = { accessKeyId: 'AKIATEST000000000001', secretAccessKey: 'test-secret' };
const HEALTH = { status: 'ok', version: 'test' };
const SUBMITTED = { jobId: 'job-0123456789abcdefghjkmnpqrs', status: 'ACCEPTED', replayed: false, links: { self: '/jobs/x', audit: '/jobs/x/audit' } };
const FAST: RetryOptions = { forMs: 5_000, baseDelayMs: 20, maxDelayMs: 100 };

type Answer = (req: IncomingMessage, res: ServerResponse) => void;
const status = (code: number, headers: Record<string, string> = {}, body: unknown = { error: { code: 'ServiceUnavailable', message: 'a dependency is unavailable (test): retry with backoff' } }): Answer =>
  (_req, res) => {
    res.writeHead(code, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };
const ok = (body: unknown): Answer => status(200, {}, body);

/** A loopback server answering each request with the next scripted answer (the last one repeats). */
class ScriptedGateway {
  readonly requests: { method: string; url: string; headers: IncomingMessage['headers']; at: number }[] = [];
  private server?: Server;
  constructor(private script: Answer[], public port = 0) {}

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      this.requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, at: Date.now() });
      req.resume();
      req.on('end', () => (this.script.length > 1 ? this.script.shift()! : this.script[0]!)(req, res));
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }
}

/** A loopback port no one listens on (for now). */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

const running: ScriptedGateway[] = [];
async function gateway(script: Answer[], port = 0): Promise<ScriptedGateway> {
  const g = new ScriptedGateway(script, port);
  running.push(g);
  await g.start();
  return g;
}
afterEach(async () => {
  for (const g of running.splice(0)) await g.stop();
});

const client = (url: string, retry: RetryOptions | false = FAST) => new GatewayClient({ endpoint: url, credentials: CREDENTIALS, retry });
const rejection = <T>(promise: Promise<T>): Promise<unknown> => promise.then(() => undefined, (e: unknown) => e);

describe('GatewayClient rides out a gateway restart', () => {
  it('connection refused, then the gateway is back: the GET is answered', async () => {
    const port = await freePort();
    const c = client(`http://127.0.0.1:${port}`);
    const answer = c.health();
    await new Promise((r) => setTimeout(r, 300));
    const g = await gateway([ok(HEALTH)], port);
    await expect(answer).resolves.toEqual(HEALTH);
    expect(g.requests).toHaveLength(1);
  });

  it('503 with Retry-After, then 200: waits at least the Retry-After, then answers', async () => {
    const g = await gateway([status(503, { 'retry-after': '1' }), ok(HEALTH)]);
    await expect(client(g.url).health()).resolves.toEqual(HEALTH);
    expect(g.requests).toHaveLength(2);
    expect(g.requests[1]!.at - g.requests[0]!.at).toBeGreaterThanOrEqual(950);
  });

  it('429 then 200: retried; a Retry-After beyond the cap waits only the cap', async () => {
    const g = await gateway([status(429, { 'retry-after': '3600' }, { error: { code: 'TooManyRequests', message: 'busy' } }), ok(HEALTH)]);
    const started = Date.now();
    await expect(client(g.url, { ...FAST, maxRetryAfterMs: 200 }).health()).resolves.toEqual(HEALTH);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(g.requests).toHaveLength(2);
  });

  it('a dropped connection (reset before an answer): the GET is retried', async () => {
    const g = await gateway([(req) => req.socket.destroy(), ok(HEALTH)]);
    await expect(client(g.url).health()).resolves.toEqual(HEALTH);
    expect(g.requests).toHaveLength(2);
  });

  it('an answer that takes longer than the request timeout: retried', async () => {
    const g = await gateway([() => undefined, ok(HEALTH)]);
    const c = new GatewayClient({ endpoint: g.url, credentials: CREDENTIALS, timeoutMs: 200, retry: FAST });
    await expect(c.health()).resolves.toEqual(HEALTH);
    expect(g.requests).toHaveLength(2);
  });

  it('DELETE (cancel) is retried: it is idempotent', async () => {
    const view = { error: { code: 'Conflict', message: 'nothing to cancel' } };
    const g = await gateway([status(503), status(409, {}, view)]);
    const error = await rejection(client(g.url).cancel('job-0123456789abcdefghjkmnpqrs'));
    expect(error).toMatchObject({ status: 409, code: 'Conflict' });
    expect(g.requests.map((r) => r.method)).toEqual(['DELETE', 'DELETE']);
  });

  it('each attempt is signed anew', async () => {
    const g = await gateway([status(503, { 'retry-after': '1' }), ok(HEALTH)]);
    await client(g.url).health();
    const [first, second] = g.requests.map((r) => r.headers['x-amz-date']);
    expect(first).toBeDefined();
    expect(second).not.toBe(first);
  });
});

describe('POST /jobs is retried only with an Idempotency-Key', () => {
  it('with a key: retried after a 503 and after a dropped connection, the same key each time', async () => {
    const g = await gateway([status(503, { 'retry-after': '0' }), (req) => req.socket.destroy(), ok(SUBMITTED)]);
    await expect(client(g.url).submit({ clusterId: 'j-1', executionRoleArn: 'r', name: 'n', step: { type: 'command', args: ['true'] } }, { idempotencyKey: 'k-1' })).resolves.toEqual(SUBMITTED);
    expect(g.requests.map((r) => [r.method, r.headers['idempotency-key']])).toEqual([['POST', 'k-1'], ['POST', 'k-1'], ['POST', 'k-1']]);
  });

  it('without a key: one attempt, the 503 is the answer', async () => {
    const g = await gateway([status(503, { 'retry-after': '0' }), ok(SUBMITTED)]);
    const error = await rejection(client(g.url).submit({ clusterId: 'j-1', executionRoleArn: 'r', name: 'n', step: { type: 'command', args: ['true'] } }));
    expect(error).toBeInstanceOf(GatewayApiError);
    expect(error).not.toBeInstanceOf(GatewayUnavailableError);
    expect(error).toMatchObject({ status: 503, retryAfterMs: 0 });
    expect(g.requests).toHaveLength(1);
  });

  it('without a key: a dropped connection is not retried either (the job may have been accepted)', async () => {
    const g = await gateway([(req) => req.socket.destroy(), ok(SUBMITTED)]);
    const error = await rejection(client(g.url).submit({ clusterId: 'j-1', executionRoleArn: 'r', name: 'n', step: { type: 'command', args: ['true'] } }));
    expect(error).toMatchObject({ status: 0, code: 'NetworkError' });
    expect(g.requests).toHaveLength(1);
  });
});

describe('the bound', () => {
  it('reached: GatewayUnavailableError naming the time waited and the last cause', async () => {
    const port = await freePort();
    const started = Date.now();
    const error = await rejection(client(`http://127.0.0.1:${port}`, { forMs: 600, baseDelayMs: 20, maxDelayMs: 100 }).health());
    const took = Date.now() - started;
    expect(error).toBeInstanceOf(GatewayUnavailableError);
    expect(error).toBeInstanceOf(GatewayApiError);
    expect(error).toMatchObject({ status: 0, code: 'GatewayUnavailable' });
    expect((error as Error).message).toMatch(new RegExp(`^the gateway did not answer for 0\\.6 s: cannot reach http://127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\)$`));
    expect((error as GatewayUnavailableError).attempts).toBeGreaterThan(2);
    expect(took).toBeGreaterThanOrEqual(550);
    expect(took).toBeLessThan(3_000);
  });

  it('503 until the bound: the last answer is in the message', async () => {
    const g = await gateway([status(503, { 'retry-after': '0' })]);
    const error = await rejection(client(g.url, { forMs: 300, baseDelayMs: 20, maxDelayMs: 50 }).health());
    expect(error).toBeInstanceOf(GatewayUnavailableError);
    expect((error as Error).message).toBe('the gateway did not answer for 0.3 s: 503 ServiceUnavailable: a dependency is unavailable (test): retry with backoff');
    expect((error as GatewayUnavailableError).lastStatus).toBe(503);
  });

  it('retry: false: a refused connection fails at once', async () => {
    const port = await freePort();
    const error = await rejection(client(`http://127.0.0.1:${port}`, false).health());
    expect(error).toMatchObject({ status: 0, code: 'NetworkError' });
    expect(error).not.toBeInstanceOf(GatewayUnavailableError);
  });

  it('answers no retry cures are not retried: 400, 403, 404, 500', async () => {
    for (const code of [400, 403, 404, 500]) {
      const g = await gateway([status(code, {}, { error: { code: 'X', message: 'no' } }), ok(HEALTH)]);
      await expect(client(g.url).health()).rejects.toMatchObject({ status: code });
      expect(g.requests).toHaveLength(1);
    }
  });
});
