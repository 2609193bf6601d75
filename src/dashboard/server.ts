/**
 * `emr-gateway dashboard`: a loopback web server that serves the web app (dist/dashboard) and passes its calls on
 * to the gateway, signed with the user's own AWS credentials, as `kubectl proxy` does for the Kubernetes API. The
 * gateway still decides everything; this server adds no authority: it lets through only what the guard admits
 * (guard.ts) and only the gateway's own read routes and the job controls (cancel, rerun), and every answer carries a
 * strict Content-Security-Policy.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import type { GatewayClient } from '../client';
import { readBody } from '../local/http-body';
import { checkRequest } from './guard';

export interface DashboardOptions {
  /** The signed client the calls go out through (the CLI's, with the user's credentials). */
  client: GatewayClient;
  /** Shown on the page: where the calls go. */
  endpoint: string;
  /** 0: any free port. */
  port: number;
  /** Where app.js and app.css are (default: dist/dashboard of this package). */
  assetsDir?: string;
  /** Default: a new random one. */
  token?: string;
  version?: string;
}

export interface Dashboard {
  /** The address to open, with the token: http://127.0.0.1:PORT/?token=... */
  url: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

/** The page may load only what this server serves, run no inline script, and be framed by nobody. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'cache-control': 'no-store',
};

/** A job or session id: what the proxied paths may name (the gateway checks each id's own shape). */
const ID = '[A-Za-z0-9-]{1,64}';
/** The gateway routes the page may reach: every read, and the job controls. Not POST /jobs, nor POST /sessions (credentials). */
const PROXIED: readonly { method: string; path: RegExp }[] = [
  ...['/jobs', `/jobs/${ID}`, `/jobs/${ID}/audit`, `/jobs/${ID}/logs`, `/jobs/${ID}/ui`, '/queues', '/usage', '/roles', '/decision', '/sessions', `/sessions/${ID}`, `/sessions/${ID}/audit`, '/healthz'].map(
    (path) => ({ method: 'GET', path: new RegExp(`^${path}$`) }),
  ),
  { method: 'DELETE', path: new RegExp(`^/jobs/${ID}$`) },
  { method: 'POST', path: new RegExp(`^/jobs/${ID}/rerun$`) },
];

/** A rerun's body (parameters) is small; the gateway's own limit is larger, this one keeps the server's memory bounded. */
const MAX_BODY_BYTES = 64 * 1024;

const INDEX_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>EMR step gateway</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/assets/app.css">
</head>
<body>
<div id="app"><p class="loading">Loading the dashboard...</p></div>
<script type="module" src="/assets/app.js"></script>
</body>
</html>
`;

const ASSETS: Record<string, { file: string; type: string }> = {
  '/assets/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/assets/app.css': { file: 'app.css', type: 'text/css; charset=utf-8' },
};

/** dist/dashboard: next to the bundled CLI (dist/cli.js), or from the sources (src/dashboard) in tests. */
function defaultAssetsDir(): string {
  const bundled = join(__dirname, 'dashboard');
  return existsSync(join(bundled, 'app.js')) ? bundled : resolve(__dirname, '../../dist/dashboard');
}

export async function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  const token = options.token ?? randomBytes(24).toString('base64url');
  const assetsDir = options.assetsDir ?? defaultAssetsDir();
  let port = options.port;
  const info = JSON.stringify({ endpoint: options.endpoint, version: options.version ?? '' });

  const send = (res: ServerResponse, status: number, type: string, body: string | Buffer, extra: Record<string, string> = {}) => {
    res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': type, 'content-length': String(Buffer.byteLength(body)), ...extra });
    res.end(body);
  };
  const problem = (res: ServerResponse, status: number, code: string, message: string) =>
    send(res, status, 'application/json; charset=utf-8', JSON.stringify({ error: { code, message } }));

  async function proxy(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const path = url.pathname.slice('/api'.length);
    const method = req.method ?? 'GET';
    const known = PROXIED.filter((r) => r.path.test(path));
    if (!known.length) return problem(res, 404, 'NotFound', `the dashboard does not pass ${path} on`);
    if (!known.some((r) => r.method === method)) return problem(res, 405, 'MethodNotAllowed', `the dashboard does not pass ${method} ${path} on`);
    const query: Record<string, string> = {};
    for (const key of new Set(url.searchParams.keys())) {
      const values = url.searchParams.getAll(key);
      if (values.length > 1) return problem(res, 400, 'ValidationError', `the query parameter ${key} is given ${values.length} times`);
      query[key] = values[0]!;
    }
    let body: string | undefined;
    if (method === 'POST') {
      const read = await readBody(req, MAX_BODY_BYTES);
      if (!read.ok) return problem(res, 413, 'PayloadTooLarge', `the body is larger than ${MAX_BODY_BYTES} bytes`);
      body = read.body.toString('utf8') || '{}';
      try {
        JSON.parse(body);
      } catch {
        return problem(res, 400, 'ValidationError', 'the body is not valid JSON');
      }
    }
    // A rerun's Idempotency-Key goes on (the page makes one per confirmation: a repeated click or retry is one rerun).
    const key = req.headers['idempotency-key'];
    if (key !== undefined && (Array.isArray(key) || method !== 'POST')) return problem(res, 400, 'ValidationError', 'one Idempotency-Key, on a POST only');
    try {
      const answer = await options.client.forward(method, path.slice(1), { query, ...(body !== undefined ? { body } : {}), ...(key !== undefined ? { headers: { 'idempotency-key': key } } : {}) });
      send(res, answer.status, 'application/json; charset=utf-8', answer.body || '{}', answer.retryAfter ? { 'retry-after': answer.retryAfter } : {});
    } catch (error) {
      // No answer (GatewayApiError status 0), or credentials that could not be had: the page shows it and retries.
      problem(res, 502, 'GatewayUnreachable', `${(error as Error).message} (the dashboard's calls go to ${options.endpoint})`);
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const verdict = checkRequest({ method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers }, { port, token });
    if (!verdict.ok) {
      req.resume();
      return send(res, verdict.status, 'text/plain; charset=utf-8', `${verdict.reason}\n`);
    }
    // With the token in its address (?token=), the page is served as without: its script moves the token into the
    // page's sessionStorage and out of the address. No cookie: one would go to every port of 127.0.0.1 (see guard.ts).
    const url = new URL(req.url ?? '/', `http://${req.headers.host}`);
    if (url.pathname.startsWith('/api/')) return proxy(req, res, url);
    if (req.method !== 'GET' && req.method !== 'HEAD') return problem(res, 405, 'MethodNotAllowed', `${req.method ?? ''} is not allowed on ${url.pathname}`);
    if (url.pathname === '/') return send(res, 200, 'text/html; charset=utf-8', INDEX_HTML);
    if (url.pathname === '/dashboard.json') return send(res, 200, 'application/json; charset=utf-8', info);
    const asset = ASSETS[url.pathname];
    if (!asset) return problem(res, 404, 'NotFound', `nothing at ${url.pathname}`);
    const content = assetContent(asset.file);
    if (!content) return problem(res, 500, 'NotBuilt', `the dashboard's ${asset.file} is not in ${assetsDir}: run npm run build`);
    send(res, 200, asset.type, content);
  }

  // Each asset is read once: the bundle does not change while the dashboard runs.
  const assets = new Map<string, Buffer>();
  function assetContent(name: string): Buffer | undefined {
    let content = assets.get(name);
    const file = join(assetsDir, name);
    if (!content && existsSync(file)) assets.set(name, (content = readFileSync(file)));
    return content;
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) problem(res, 500, 'InternalError', (error as Error).message);
      else res.destroy();
    });
  });
  // Loopback only: nothing of another machine can reach it.
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', fail);
      ok();
    });
  });
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/?token=${token}`,
    port,
    token,
    close: () =>
      new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
}
