/** The page's calls: to its own server's /api/, which signs them and passes them on to the gateway. */

/**
 * The token the dashboard printed (in the address it opened with, ?token=...), kept in this tab's sessionStorage:
 * its origin's alone, port included (a cookie would go to every port of 127.0.0.1). Each call carries it in a header.
 */
const TOKEN_KEY = 'emr-gateway-dashboard-token';

/** At start: the address's token into sessionStorage, and out of the address (history, screen, a copied link). */
export function adoptToken(): void {
  const url = new URL(window.location.href);
  const given = url.searchParams.get('token');
  if (given === null) return;
  try {
    window.sessionStorage.setItem(TOKEN_KEY, given);
  } catch {
    // storage refused (a private mode's quota): this page still has it in memory
  }
  memory = given;
  url.searchParams.delete('token');
  window.history.replaceState(window.history.state, '', `${url.pathname}${url.search}${url.hash}`);
}

let memory: string | undefined;

function tokenHeader(): Record<string, string> {
  let token = memory;
  try {
    token ??= window.sessionStorage.getItem(TOKEN_KEY) ?? undefined;
  } catch {
    // no storage: memory only
  }
  return token ? { 'x-dashboard-token': token } : {};
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface CallOptions {
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  /** A POST's Idempotency-Key (passed on to the gateway). */
  idempotencyKey?: string;
}

/** One call; its JSON answer, or an ApiError with the gateway's (or the dashboard server's) message. */
export async function api<T>(method: 'GET' | 'POST' | 'DELETE', path: string, options: CallOptions = {}): Promise<T> {
  const url = new URL(`/api${path}`, window.location.origin);
  for (const [key, value] of Object.entries(options.query ?? {})) if (value !== undefined && value !== '') url.searchParams.set(key, String(value));
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      credentials: 'same-origin',
      headers: {
        accept: 'application/json',
        ...tokenHeader(),
        ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(options.idempotencyKey !== undefined ? { 'idempotency-key': options.idempotencyKey } : {}),
      },
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
    });
  } catch {
    throw new ApiError(0, 'DashboardUnreachable', 'the dashboard server does not answer: is `emr-gateway dashboard` still running?');
  }
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!response.ok) {
    const error = (parsed as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
    const message = typeof error?.message === 'string' ? error.message : text.trim() || `HTTP ${response.status}`;
    throw new ApiError(response.status, typeof error?.code === 'string' ? error.code : 'HttpError', message);
  }
  return parsed as T;
}

/** The page's own server: where its calls go. */
export async function dashboardInfo(): Promise<{ endpoint: string; version: string }> {
  const response = await fetch('/dashboard.json', { credentials: 'same-origin', headers: tokenHeader() });
  return (await response.json()) as { endpoint: string; version: string };
}
