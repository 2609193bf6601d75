/**
 * The local stack's only way to open a TCP port: a loopback HTTP server whose every request first passes the
 * browser guard. A web page in the developer's browser can reach loopback; nothing it sends may reach a
 * handler, since behind the handlers are the jobs, the audit trail and steps that run commands as the user.
 */
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Listening {
  url: string;
  server: Server;
  /**
   * Stops taking connections, lets the requests in progress finish (up to `drainMs`, default DRAIN_MS) and
   * answers any new request on an open connection 503, then closes every connection.
   */
  close(drainMs?: number): Promise<void>;
}

/** Milliseconds a closing server waits for the requests in progress by default. */
export const DRAIN_MS = 2000;

/** The names loopback goes by in a Host header or a URL. */
export const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '[::1]'];

/**
 * Why a request comes from a web page, or undefined for a tool. Browsers send Origin on every cross-origin
 * request and on every POST; Sec-Fetch-Site on every request to loopback (`none` only for what the user typed
 * or bookmarked), so a no-cors `<script>`/`<img>` load shows too; DNS rebinding (a page's own name resolved to
 * 127.0.0.1) shows as a Host that is not ours. The SDKs, the AWS CLI, curl and Node's fetch send none of these.
 */
function browserRequest(req: IncomingMessage, host: string): string | undefined {
  if (req.headers.origin !== undefined) return 'it carries an Origin header';
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'none') return `it carries Sec-Fetch-Site: ${String(site)}`;
  const name = String(req.headers.host ?? '').replace(/:\d+$/, '');
  if (!LOOPBACK_NAMES.includes(name) && name !== host) return 'its Host is not this loopback server';
  return undefined;
}

export interface LoopbackServer {
  port: number;
  host?: string;
  handler: RequestListener;
  /** Answers a refused request in the service's own error shape (no CORS header: the page reads nothing). */
  refuse(res: ServerResponse, reason: string): void;
}

/** Starts the server on loopback (port 0: any free one); its close drains the requests in progress (`Listening.close`). */
export async function listenLoopback(options: LoopbackServer): Promise<Listening> {
  const host = options.host ?? '127.0.0.1';
  const inProgress = new Set<ServerResponse>();
  let closing = false;
  let drained: (() => void) | undefined;
  const server = createServer((req, res) => {
    const reason = browserRequest(req, host);
    if (reason) {
      res.setHeader('connection', 'close');
      return options.refuse(res, `the local stack accepts loopback requests from tools, not from web pages (${reason})`);
    }
    if (closing) {
      res.writeHead(503, { 'content-type': 'application/json', connection: 'close' });
      res.end(JSON.stringify({ message: 'Service Unavailable: the local stack is stopping' }));
      return;
    }
    inProgress.add(res);
    res.once('close', () => {
      inProgress.delete(res);
      if (!inProgress.size) drained?.();
    });
    options.handler(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => resolve());
  });
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${bound}`,
    server,
    close: async (drainMs = DRAIN_MS) => {
      closing = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      // Each answer in progress is the last on its connection.
      for (const res of inProgress) if (!res.headersSent) res.setHeader('connection', 'close');
      if (inProgress.size) {
        let timer: NodeJS.Timeout | undefined;
        await new Promise<void>((resolve) => {
          drained = resolve;
          timer = setTimeout(resolve, drainMs);
        });
        clearTimeout(timer);
      }
      server.closeAllConnections();
      await closed;
    },
  };
}
