/** API Gateway proxy events as API Gateway sends them with IAM authorization, and a way to call the API with them. */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { createApiHandler } from '../../src/http/api';
import { proxyEvent } from '../../src/local/api-gateway/proxy-event';
import { openApiDocument } from '../../src/http/openapi';
import type { JobLogsService } from '../../src/jobs/job-logs';
import type { SessionService } from '../../src/sessions/service';
import type { TestGateway } from './gateway';

export interface EventOptions {
  caller?: string | null;
  body?: unknown;
  rawBody?: string;
  headers?: Record<string, string>;
  query?: Record<string, string>;
  base64?: boolean;
}

export function apiEvent(method: string, path: string, options: EventOptions = {}): APIGatewayProxyEvent {
  const body = options.rawBody ?? (options.body === undefined ? null : JSON.stringify(options.body));
  return proxyEvent({
    method,
    path,
    headers: { 'Content-Type': 'application/json', ...options.headers },
    query: Object.entries(options.query ?? {}),
    body: options.base64 && body !== null ? Buffer.from(body).toString('base64') : body,
    isBase64Encoded: options.base64 ?? false,
    account: '123456789012',
    requestId: 'req-1',
    stage: 'v1',
    protocol: 'HTTP/1.1',
    identity: {
      accessKey: 'ASIAEXAMPLE',
      userArn: options.caller === undefined ? 'arn:aws:sts::123456789012:assumed-role/DataTeamA/alice' : options.caller,
      sourceIp: '127.0.0.1',
      userAgent: 'test',
    },
  });
}

export type Call = (method: string, path: string, options?: EventOptions) => Promise<{ status: number; body: Record<string, unknown>; headers: Record<string, string> }>;

/** The API over the gateway's job service (and a session service, where the test has one). */
export function apiFor(gw: TestGateway, service = gw.service, sessions?: SessionService): Call {
  const handler = createApiHandler(() => ({ service, ...(sessions ? { sessions: () => sessions } : {}), openapi: () => openApiDocument('test'), version: 'test' }));
  return async (method, path, options) => send(apiEvent(method, path, options));
  async function send(event: APIGatewayProxyEvent) {
    const result = (await handler(event, {}));
    return { status: result.statusCode, body: JSON.parse(result.body) as Record<string, unknown>, headers: (result.headers ?? {}) as Record<string, string> };
  }
}

/** Sends a raw event (fuzzing): whatever the event, a response comes back. */
export function rawApiFor(gw: TestGateway, service = gw.service, jobLogs?: JobLogsService): (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult> {
  const handler = createApiHandler(() => ({ service, ...(jobLogs ? { jobLogs: () => jobLogs } : {}), openapi: () => openApiDocument('test'), version: 'test' }));
  return async (event) => (await handler(event, {}));
}
