/**
 * The typed client of the gateway's HTTP API, used by the CLI and importable by other TypeScript tools.
 * Requests are signed with AWS SigV4 (service execute-api) from the standard AWS credential chain
 * (environment, profiles, SSO, instance roles) unless credentials are given; responses are checked against
 * the same schemas the API is described with.
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import type { z } from 'zod';
import type { CancelMode } from '../jobs/model';
import type { JobRequestInput } from '../jobs/request';
import {
  auditResponseSchema,
  errorSchema,
  healthSchema,
  jobListSchema,
  jobViewSchema,
  rolesResponseSchema,
  submitResponseSchema,
  type JobView,
} from '../http/schemas';

// The client is the package's entry for other tools: its answers' types are named here too.
export type { JobView };
export type JobList = z.infer<typeof jobListSchema>;
export type SubmitResponse = z.infer<typeof submitResponseSchema>;
export type AuditResponse = z.infer<typeof auditResponseSchema>;
export type RolesResponse = z.infer<typeof rolesResponseSchema>;

export interface ClientOptions {
  /** e.g. https://abc123.execute-api.us-east-1.amazonaws.com/v1, or http://127.0.0.1:3000 for the local stack. */
  endpoint: string;
  /** Defaults to the region in an execute-api host name, else us-east-1. */
  region?: string;
  credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** Per request, in milliseconds (default 30 s). */
  timeoutMs?: number;
}

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
  }

  submit(body: JobRequestInput, options: { idempotencyKey?: string } = {}): Promise<SubmitResponse> {
    const headers = options.idempotencyKey ? { 'idempotency-key': options.idempotencyKey } : undefined;
    return this.request('POST', 'jobs', submitResponseSchema, { body, headers });
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

  roles(clusterId?: string): Promise<RolesResponse> {
    return this.request('GET', 'roles', rolesResponseSchema, { query: clusterId ? { clusterId } : {} });
  }

  health(): Promise<z.infer<typeof healthSchema>> {
    return this.request('GET', 'healthz', healthSchema);
  }

  private async request<S extends z.ZodType>(
    method: string,
    path: string,
    schema: S,
    options: { body?: unknown; query?: Record<string, string>; headers?: Record<string, string> } = {},
  ): Promise<z.output<S>> {
    const url = new URL(path, this.base);
    for (const [k, v] of Object.entries(options.query ?? {})) url.searchParams.set(k, v);
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
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
    let response: Response;
    try {
      response = await fetch(url, { method, headers: signed.headers, ...(body !== undefined ? { body } : {}), signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
      throw new GatewayApiError(0, 'NetworkError', `cannot reach ${this.base.origin} (${cause})`);
    }
    const text = await response.text();
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
