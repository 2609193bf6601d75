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
  close(): Promise<void>;
}

const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '[::1]'];

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

/** Starts the server on loopback (port 0: any free one); its close drops idle connections. */
export async function listenLoopback(options: LoopbackServer): Promise<Listening> {
  const host = options.host ?? '127.0.0.1';
  const server = createServer((req, res) => {
    const reason = browserRequest(req, host);
    if (reason) {
      res.setHeader('connection', 'close');
      return options.refuse(res, `the local stack accepts loopback requests from tools, not from web pages (${reason})`);
    }
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
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
