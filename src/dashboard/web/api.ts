/** The page's calls: to its own server's /api/, which signs them and passes them on to the gateway. */

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
      headers: { accept: 'application/json', ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}) },
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
  const response = await fetch('/dashboard.json', { credentials: 'same-origin' });
  return (await response.json()) as { endpoint: string; version: string };
}
