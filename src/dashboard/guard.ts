/**
 * What the dashboard's loopback server lets in: a pure check of one request, before anything is read or sent on.
 * A page of another site must not be able to use the user's credentials through it (the way `kubectl proxy` can be
 * used): so every request must name this server in its Host (against DNS rebinding) and come from no other Origin
 * or site, and every request but the page's own static files must carry the token the user was given, in the
 * X-Dashboard-Token header. Not in a cookie: cookies ignore ports, so a cookie of 127.0.0.1:7780 would go to every
 * other server on 127.0.0.1 the user's browser visits (a dev server, another user's server on a shared host). The page
 * keeps the token in its sessionStorage, which is its origin's alone (scheme, host and port). A custom header is also
 * one no page of another origin can make the browser send (it would need a CORS preflight, which this server fails).
 */
import { timingSafeEqual } from 'node:crypto';

export interface GuardOptions {
  /** The port the server listens on: the Host and Origin must name it. */
  port: number;
  token: string;
}

export type Verdict =
  | { ok: true; tokenFromQuery: boolean }
  | { ok: false; status: 400 | 401 | 403; reason: string };

/** The host names a loopback server of this machine is reached by (it binds 127.0.0.1 only). */
const HOST_NAMES = ['127.0.0.1', 'localhost'] as const;

/** The header the page's calls carry the token in (the page has it from its address, then from its sessionStorage). */
export const TOKEN_HEADER = 'x-dashboard-token';

/** What anyone of this machine may load without the token: the page and its code, which hold no secret. */
const PUBLIC_PATHS: readonly string[] = ['/', '/assets/app.js', '/assets/app.css'];

/** Equal strings, compared in constant time (the token must not leak through response times). */
export function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * A top-level navigation to the printed URL, token and all, from another site: `dashboard --open` starts the browser on
 * a file of the user's (file: is another site) that sends it on, so that the token is in no process's command line.
 * Only the token's holder can make one; it loads the page, which holds no secret but the token it was given.
 */
function launched(requestUrl: string, method: string, header: (name: string) => string | undefined, token: string): boolean {
  if (method !== 'GET' || header('sec-fetch-mode') !== 'navigate' || header('sec-fetch-dest') !== 'document') return false;
  let url: URL;
  try {
    url = new URL(requestUrl, 'http://dashboard');
  } catch {
    return false;
  }
  const given = url.searchParams.getAll('token');
  return url.pathname === '/' && given.length === 1 && sameSecret(given[0]!, token);
}

/**
 * The verdict on a request: its method, its URL as requested, and its headers (lower-cased names, as node:http
 * gives them). A state-changing method must name its Origin (browsers always do for fetch POST and DELETE).
 */
export function checkRequest(request: { method: string; url: string; headers: Record<string, string | string[] | undefined> }, options: GuardOptions): Verdict {
  const header = (name: string): string | undefined => {
    const value = request.headers[name];
    return Array.isArray(value) ? undefined : value; // a repeated Host, Origin or Cookie is no answer to trust
  };
  const host = header('host');
  const own = HOST_NAMES.map((name) => `${name}:${options.port}`);
  if (host === undefined || !own.includes(host.toLowerCase())) {
    return { ok: false, status: 403, reason: `refused: the Host ${JSON.stringify(host ?? '')} is not this dashboard's (${own.join(' or ')})` };
  }
  const origin = header('origin');
  if (origin !== undefined && origin !== `http://${host.toLowerCase()}`) {
    return { ok: false, status: 403, reason: `refused: a request from ${JSON.stringify(origin)}, not from this dashboard (http://${host.toLowerCase()})` };
  }
  const site = header('sec-fetch-site');
  const method = request.method.toUpperCase();
  if (site !== undefined && site !== 'same-origin' && site !== 'none' && !launched(request.url, method, header, options.token)) {
    return { ok: false, status: 403, reason: `refused: a ${site} request (only this dashboard's own pages may call it)` };
  }
  if (method !== 'GET' && method !== 'HEAD' && origin === undefined) {
    return { ok: false, status: 403, reason: `refused: a ${method} without an Origin (only this dashboard's own pages may change anything)` };
  }
  let url: URL;
  try {
    url = new URL(request.url, `http://${host}`);
  } catch {
    return { ok: false, status: 400, reason: 'refused: the request URL is not valid' };
  }
  const fromQuery = url.searchParams.get('token');
  if (fromQuery !== null) {
    // Only the page's own address may carry it: the page then moves it into its sessionStorage, out of the URL.
    if (url.pathname !== '/' || method !== 'GET') return { ok: false, status: 401, reason: "refused: a token is taken only in the page's own address (GET /?token=...)" };
    if (sameSecret(fromQuery, options.token)) return { ok: true, tokenFromQuery: true };
    return { ok: false, status: 401, reason: 'refused: that is not the token this dashboard printed (it changes at each start)' };
  }
  if ((method === 'GET' || method === 'HEAD') && PUBLIC_PATHS.includes(url.pathname)) return { ok: true, tokenFromQuery: false };
  const presented = header(TOKEN_HEADER);
  if (presented === undefined) {
    return { ok: false, status: 401, reason: 'refused: no token; open the URL `emr-gateway dashboard` printed (it ends in ?token=...)' };
  }
  if (!sameSecret(presented, options.token)) return { ok: false, status: 401, reason: 'refused: that is not the token this dashboard printed (it changes at each start)' };
  return { ok: true, tokenFromQuery: false };
}
