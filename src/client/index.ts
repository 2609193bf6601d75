/**
 * The typed client of the gateway's HTTP API, used by the CLI and importable by other TypeScript tools.
 * Requests are signed with AWS SigV4 (service execute-api) from the standard AWS credential chain
 * (environment, profiles, SSO, instance roles) unless credentials are given; responses are checked against
 * the same schemas the API is described with.
 *
 * A gateway that is restarting, overloaded or briefly unreachable is ridden out: a refused or dropped
 * connection, a timeout, 429 and 503 are retried with jittered exponential backoff (honouring Retry-After, up
 * to a cap) for a bounded time (60 s by default), and only then does the call fail, with GatewayUnavailableError.
 * Only what is safe to repeat is repeated: GET and DELETE, and a POST only when it carries an Idempotency-Key
 * (the gateway answers its repetition with the same job).
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import type * as z from '../util/zod';
import type { CancelMode } from '../jobs/model';
import type { JobRequestInput } from '../jobs/request';
import {
  appUiResponseSchema,
  auditResponseSchema,
  errorSchema,
  healthSchema,
  jobListSchema,
  jobViewSchema,
  logsResponseSchema,
  rolesResponseSchema,
  decisionResponseSchema,
  sessionAuditResponseSchema,
  sessionListSchema,
  sessionOpenedSchema,
  sessionViewSchema,
  submitResponseSchema,
  rerunResponseSchema,
  usageResponseSchema,
  queueViewSchema,
  type JobView,
  type SessionView,
} from '../http/response-schemas';

// The client is the package's entry for other tools: its answers' types are named here too.
export type { JobView, SessionView };
export type JobList = z.output<typeof jobListSchema>;
export type SubmitResponse = z.output<typeof submitResponseSchema>;
export type RerunResponse = z.output<typeof rerunResponseSchema>;
export type UsageResponse = z.output<typeof usageResponseSchema>;
export type QueueResponse = z.output<typeof queueViewSchema>;
export type AuditResponse = z.output<typeof auditResponseSchema>;
export type RolesResponse = z.output<typeof rolesResponseSchema>;
export type DecisionResponse = z.output<typeof decisionResponseSchema>;
export type StepLogsResponse = z.output<typeof logsResponseSchema>;
export type AppUiResponse = z.output<typeof appUiResponseSchema>;
export type StepLogStreamName = StepLogsResponse['stream'];
export type OpenedSession = z.output<typeof sessionOpenedSchema>;
export type SessionList = z.output<typeof sessionListSchema>;
export type SessionAuditResponse = z.output<typeof sessionAuditResponseSchema>;

/** POST /sessions: the cluster, the runtime role, and the life wanted (EMR sets the expiry). */
export interface SessionRequestInput {
  clusterId: string;
  executionRoleArn: string;
  durationSeconds?: number;
}

export interface ClientOptions {
  /** e.g. https://abc123.execute-api.us-east-1.amazonaws.com/v1, or http://127.0.0.1:3000 for the local stack. */
  endpoint: string;
  /** Defaults to the region in an execute-api host name, else us-east-1. */
  region?: string;
  credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** Per request, in milliseconds (default 30 s). */
  timeoutMs?: number;
  /** Retries of a request that got no answer, or 429/503 (default: for 60 s); false: none. */
  retry?: RetryOptions | false;
}

export interface RetryOptions {
  /** No new attempt starts later than this after the first (default 60,000 ms; 0: no retries). */
  forMs?: number;
  /** The first backoff (default 250 ms); it doubles at each attempt, each delay drawn in [half, whole]. */
  baseDelayMs?: number;
  /** The longest backoff (default 5,000 ms). */
  maxDelayMs?: number;
  /** A Retry-After longer than this is cut to it (default 30,000 ms). */
  maxRetryAfterMs?: number;
  /** Told before each retry: what failed, and how long until the next attempt. */
  onRetry?: (event: { attempt: number; delayMs: number; error: GatewayApiError }) => void;
}

export const DEFAULT_RETRY = { forMs: 60_000, baseDelayMs: 250, maxDelayMs: 5_000, maxRetryAfterMs: 30_000 } as const;

export interface ListOptions {
  status?: string;
  clusterId?: string;
  caller?: string;
  from?: string;
  to?: string;
  limit?: number;
  nextToken?: string;
}

/** An error answer of the API, in its documented shape. */
export class GatewayApiError extends Error {
  /** The answer's Retry-After, in milliseconds, where it had one (429, 503). */
  retryAfterMs?: number;

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'GatewayApiError';
  }
}

/**
 * The gateway gave no usable answer for as long as the client retries: every attempt was refused, dropped, timed
 * out, or answered 429/503. `lastStatus` is the last answer's status (0: none came).
 */
export class GatewayUnavailableError extends GatewayApiError {
  constructor(
    /** The retry bound (ClientOptions.retry.forMs): no attempt started later than this after the first. */
    readonly boundMs: number,
    readonly attempts: number,
    readonly last: GatewayApiError,
  ) {
    super(0, 'GatewayUnavailable', `the gateway did not answer for ${Math.round(boundMs / 100) / 10} s: ${last.status ? `${last.status} ${last.code}: ` : ''}${last.message}`);
    this.name = 'GatewayUnavailableError';
  }

  get lastStatus(): number {
    return this.last.status;
  }
}

/** Failures of the connection itself (no answer read) that a later attempt may not meet. */
const TRANSIENT_NETWORK = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN', 'ECONNABORTED',
  'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'TimeoutError',
]);
/** Answers that say "later": too many requests, and unavailable (a dependency, or the gateway restarting). */
const RETRIED_STATUSES = new Set([429, 503]);

/** A network failure of fetch as a GatewayApiError (status 0), and whether it is one a retry may cure. */
function networkError(origin: string, error: unknown): { error: GatewayApiError; transient: boolean } {
  const e = error as { name?: string; message?: string; cause?: { code?: string; name?: string; message?: string } };
  const code = e.name === 'TimeoutError' ? 'TimeoutError' : e.cause?.code ?? e.cause?.name ?? (typeof e.message === 'string' ? e.message : 'unknown');
  const what = code === 'TimeoutError' ? 'no answer in time' : code;
  return { error: new GatewayApiError(0, 'NetworkError', `cannot reach ${origin} (${what})`), transient: TRANSIENT_NETWORK.has(code) };
}

/** Retry-After in milliseconds (delta-seconds or an HTTP date), if present and sensible. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** The message of an answer in API Gateway's own shape (`{"message"}`, or `{"Message"}` from IAM authorization). */
function edgeMessage(parsed: unknown): string | undefined {
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const { message, Message } = parsed as { message?: unknown; Message?: unknown };
  const text = message ?? Message;
  return typeof text === 'string' ? text : undefined;
}

export function regionOf(endpoint: string): string | undefined {
  return /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com/.exec(endpoint)?.[1];
}

export class GatewayClient {
  private readonly base: URL;
  private readonly signer: SignatureV4;
  private readonly timeoutMs: number;
  private readonly retry: Required<Omit<RetryOptions, 'onRetry'>> & Pick<RetryOptions, 'onRetry'>;

  constructor(options: ClientOptions) {
    this.base = new URL(options.endpoint.endsWith('/') ? options.endpoint : `${options.endpoint}/`);
    if (this.base.protocol !== 'https:' && this.base.protocol !== 'http:') throw new Error(`the endpoint must be an http(s) URL, not ${options.endpoint}`);
    this.signer = new SignatureV4({
      service: 'execute-api',
      region: options.region ?? regionOf(options.endpoint) ?? 'us-east-1',
      credentials: options.credentials ?? fromNodeProviderChain(),
      sha256: Sha256,
    });
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.retry = options.retry === false ? { ...DEFAULT_RETRY, forMs: 0 } : { ...DEFAULT_RETRY, ...options.retry };
  }

  submit(body: JobRequestInput, options: { idempotencyKey?: string } = {}): Promise<SubmitResponse> {
    const headers = options.idempotencyKey ? { 'idempotency-key': options.idempotencyKey } : undefined;
    return this.request('POST', 'jobs', submitResponseSchema, { body, headers });
  }

  /** POST /jobs/{id}/rerun: a new job from the job's request (or its template with `parameters` overriding its own). */
  rerun(jobId: string, options: { parameters?: Record<string, string>; idempotencyKey?: string } = {}): Promise<RerunResponse> {
    const headers = options.idempotencyKey ? { 'idempotency-key': options.idempotencyKey } : undefined;
    return this.request('POST', `jobs/${encodeURIComponent(jobId)}/rerun`, rerunResponseSchema, { body: options.parameters ? { parameters: options.parameters } : {}, headers });
  }

  getJob(jobId: string): Promise<JobView> {
    return this.request('GET', `jobs/${encodeURIComponent(jobId)}`, jobViewSchema);
  }

  listJobs(options: ListOptions = {}): Promise<JobList> {
    const query = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined).map(([k, v]) => [k, String(v)]));
    return this.request('GET', 'jobs', jobListSchema, { query });
  }

  cancel(jobId: string, mode?: CancelMode): Promise<JobView> {
    return this.request('DELETE', `jobs/${encodeURIComponent(jobId)}`, jobViewSchema, { query: mode ? { mode } : {} });
  }

  audit(jobId: string): Promise<AuditResponse> {
    return this.request('GET', `jobs/${encodeURIComponent(jobId)}/audit`, auditResponseSchema);
  }

  /**
   * GET /jobs/{id}/logs: the last `tail` lines of a step log, or the lines from `offset` on (a previous answer's
   * nextOffset); of the step of `attempt`, for a job with retries (default: the current attempt's).
   */
  logs(jobId: string, options: { stream?: StepLogStreamName; tail?: number; offset?: number; attempt?: number } = {}): Promise<StepLogsResponse> {
    const query = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined).map(([k, v]) => [k, String(v)]));
    return this.request('GET', `jobs/${encodeURIComponent(jobId)}/logs`, logsResponseSchema, { query });
  }

  /** GET /jobs/{id}/ui: a presigned link to the job's Spark UI or application history. */
  appUi(jobId: string): Promise<AppUiResponse> {
    return this.request('GET', `jobs/${encodeURIComponent(jobId)}/ui`, appUiResponseSchema);
  }

  /** GET /usage: the jobs that ended in [from, to] (default: the last 7 days), counted by final state and grouped. */
  usage(query: { from?: string; to?: string; groupBy?: string } = {}): Promise<UsageResponse> {
    const params = Object.fromEntries(Object.entries(query).filter((e): e is [string, string] => e[1] !== undefined));
    return this.request('GET', 'usage', usageResponseSchema, { query: params });
  }

  /** GET /queues: a cluster's capacity, its active and queued jobs per group, and the queue in expected start order. */
  queue(clusterId: string): Promise<QueueResponse> {
    return this.request('GET', 'queues', queueViewSchema, { query: { clusterId } });
  }

  roles(clusterId?: string): Promise<RolesResponse> {
    return this.request('GET', 'roles', rolesResponseSchema, { query: clusterId ? { clusterId } : {} });
  }

  /** GET /decision: "may I?": the policy's decision on a submission by this caller, with its reasons. */
  decision(query: { clusterId: string; executionRoleArn: string; stepType: string; actionOnFailure?: string }): Promise<DecisionResponse> {
    const params = Object.fromEntries(Object.entries(query).filter((e): e is [string, string] => e[1] !== undefined));
    return this.request('GET', 'decision', decisionResponseSchema, { query: params });
  }

  /** POST /sessions. Sent once (no Idempotency-Key: each call is a new session, with new credentials). */
  openSession(body: SessionRequestInput): Promise<OpenedSession> {
    return this.request('POST', 'sessions', sessionOpenedSchema, { body });
  }

  getSession(sessionId: string): Promise<SessionView> {
    return this.request('GET', `sessions/${encodeURIComponent(sessionId)}`, sessionViewSchema);
  }

  listSessions(options: { limit?: number; nextToken?: string } = {}): Promise<SessionList> {
    const query = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined).map(([k, v]) => [k, String(v)]));
    return this.request('GET', 'sessions', sessionListSchema, { query });
  }

  sessionAudit(sessionId: string): Promise<SessionAuditResponse> {
    return this.request('GET', `sessions/${encodeURIComponent(sessionId)}/audit`, sessionAuditResponseSchema);
  }

  health(): Promise<z.output<typeof healthSchema>> {
    return this.request('GET', 'healthz', healthSchema);
  }

  /**
   * One call: attempts until an answer that is not 429/503, or until the retry bound. A request that is not
   * safe to repeat (a POST without an Idempotency-Key) gets exactly one attempt.
   */
  private async request<S extends z.ZodMiniType>(
    method: string,
    path: string,
    schema: S,
    options: { body?: unknown; query?: Record<string, string>; headers?: Record<string, string> } = {},
  ): Promise<z.output<S>> {
    const repeatable = method === 'GET' || method === 'DELETE' || Object.keys(options.headers ?? {}).some((h) => h.toLowerCase() === 'idempotency-key');
    const { forMs, baseDelayMs, maxDelayMs, maxRetryAfterMs, onRetry } = this.retry;
    const started = Date.now();
    for (let attempt = 1; ; attempt++) {
      const outcome = await this.attempt(method, path, schema, options);
      if (outcome.ok) return outcome.value;
      const { error, transient, retryAfter } = outcome;
      if (!transient || !repeatable || forMs <= 0) throw error;
      const remaining = started + forMs - Date.now();
      if (remaining <= 0) throw new GatewayUnavailableError(forMs, attempt, error);
      const backoff = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
      const jittered = backoff / 2 + Math.random() * (backoff / 2);
      const delayMs = Math.round(Math.min(remaining, Math.max(jittered, Math.min(retryAfter ?? 0, maxRetryAfterMs))));
      onRetry?.({ attempt, delayMs, error });
      await new Promise((r) => setTimeout(r, delayMs));
    }
  }

  /**
   * One signed request, its answer as it came: for a proxy that hands the gateway's answers on unchanged (the
   * dashboard, whose page reads them). `body` is JSON text, sent as it is. Not retried: the proxy's caller retries.
   * Throws GatewayApiError (status 0) when no answer came.
   */
  async forward(method: string, path: string, options: { body?: string; query?: Record<string, string>; headers?: Record<string, string> } = {}): Promise<{ status: number; body: string; retryAfter?: string }> {
    const outcome = await this.exchange(method, path, {
      ...(options.query ? { query: options.query } : {}),
      ...(options.body !== undefined ? { text: options.body } : {}),
      ...(options.headers ? { headers: options.headers } : {}),
    });
    if (!outcome.ok) throw outcome.error;
    const retryAfter = outcome.response.headers.get('retry-after');
    return { status: outcome.response.status, body: outcome.text, ...(retryAfter !== null ? { retryAfter } : {}) };
  }

  private async attempt<S extends z.ZodMiniType>(
    method: string,
    path: string,
    schema: S,
    options: { body?: unknown; query?: Record<string, string>; headers?: Record<string, string> },
  ): Promise<{ ok: true; value: z.output<S> } | { ok: false; error: GatewayApiError; transient: boolean; retryAfter?: number }> {
    const exchanged = await this.exchange(method, path, { ...options, ...(options.body !== undefined ? { text: JSON.stringify(options.body) } : {}) });
    if (!exchanged.ok) return exchanged;
    const { response, text } = exchanged;
    try {
      return { ok: true, value: this.answer(method, path, schema, response, text) };
    } catch (error) {
      if (!(error instanceof GatewayApiError)) throw error;
      const retryAfter = retryAfterMs(response.headers.get('retry-after'));
      if (retryAfter !== undefined) error.retryAfterMs = retryAfter;
      // A full admission queue (429 QueueFull) is no throttling a retry soon cures: it stays full while jobs run, so the
      // caller is told at once (with its Retry-After), and decides; only throttling and 503 are retried here.
      const transient = RETRIED_STATUSES.has(response.status) && error.code !== 'QueueFull';
      return { ok: false, error, transient, ...(retryAfter !== undefined ? { retryAfter } : {}) };
    }
  }

  /** The request signed (SigV4, execute-api) and sent: its answer, or the network failure. */
  private async exchange(
    method: string,
    path: string,
    options: { text?: string; query?: Record<string, string>; headers?: Record<string, string> },
  ): Promise<{ ok: true; response: Response; text: string } | { ok: false; error: GatewayApiError; transient: boolean }> {
    const url = new URL(path, this.base);
    for (const [k, v] of Object.entries(options.query ?? {})) url.searchParams.set(k, v);
    const body = options.text;
    const query: Record<string, string> = {};
    url.searchParams.forEach((v, k) => (query[k] = v));
    const signed = await this.signer.sign(
      new HttpRequest({
        method,
        protocol: url.protocol,
        hostname: url.hostname,
        ...(url.port ? { port: Number(url.port) } : {}),
        path: url.pathname,
        query,
        headers: {
          host: url.host,
          accept: 'application/json',
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...options.headers,
        },
        ...(body !== undefined ? { body } : {}),
      }),
    );
    try {
      const response = await fetch(url, { method, headers: signed.headers, ...(body !== undefined ? { body } : {}), signal: AbortSignal.timeout(this.timeoutMs) });
      return { ok: true, response, text: await response.text() };
    } catch (error) {
      return { ok: false, ...networkError(this.base.origin, error) };
    }
  }

  /** The answer's value, or its error as a GatewayApiError. */
  private answer<S extends z.ZodMiniType>(method: string, path: string, schema: S, response: Response, text: string): z.output<S> {
    let parsed: unknown;
    try {
      parsed = text ? (JSON.parse(text) as unknown) : undefined;
    } catch {
      throw new GatewayApiError(response.status, 'BadResponse', `the gateway answered ${response.status} with a body that is not JSON`);
    }
    if (!response.ok) {
      const error = errorSchema.safeParse(parsed);
      if (error.success) throw new GatewayApiError(response.status, error.data.error.code, error.data.error.message, error.data.error.details);
      // API Gateway's own answers (before the API: a refused path or Host, IAM authorization): {message}, the type in a header.
      const edge = edgeMessage(parsed);
      if (edge !== undefined) throw new GatewayApiError(response.status, response.headers.get('x-amzn-errortype')?.split(':')[0] || 'HttpError', edge);
      throw new GatewayApiError(response.status, 'HttpError', `the gateway answered ${response.status}`);
    }
    const result = schema.safeParse(parsed);
    if (!result.success) throw new GatewayApiError(response.status, 'BadResponse', `unexpected response from ${method} /${path}: ${result.error.issues[0]?.message ?? ''}`);
    return result.data;
  }
}
