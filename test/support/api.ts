/** API Gateway proxy events as API Gateway sends them with IAM authorization, and a way to call the API with them. */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { createApiHandler } from '../../src/http/api';
import { openApiDocument } from '../../src/http/openapi';
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
  return {
    httpMethod: method,
    path,
    resource: '/{proxy+}',
    headers: { 'Content-Type': 'application/json', ...options.headers },
    multiValueHeaders: {},
    queryStringParameters: options.query ?? null,
    multiValueQueryStringParameters: null,
    pathParameters: { proxy: path.slice(1) },
    stageVariables: null,
    isBase64Encoded: options.base64 ?? false,
    body: options.base64 && body !== null ? Buffer.from(body).toString('base64') : body,
    requestContext: {
      accountId: '123456789012',
      apiId: 'local',
      httpMethod: method,
      path: `/v1${path}`,
      stage: 'v1',
      requestId: 'req-1',
      requestTimeEpoch: Date.now(),
      resourceId: 'r',
      resourcePath: '/{proxy+}',
      protocol: 'HTTP/1.1',
      authorizer: null,
      identity: {
        accessKey: 'ASIAEXAMPLE',
        accountId: '123456789012',
        caller: 'AROAEXAMPLE:alice',
        user: 'AROAEXAMPLE:alice',
        userArn: options.caller === undefined ? 'arn:aws:sts::123456789012:assumed-role/DataTeamA/alice' : options.caller,
        sourceIp: '127.0.0.1',
        userAgent: 'test',
        apiKey: null,
        apiKeyId: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        clientCert: null,
      },
    },
  };
}

export type Call = (method: string, path: string, options?: EventOptions) => Promise<{ status: number; body: Record<string, unknown>; headers: Record<string, string> }>;

export function apiFor(gw: TestGateway, service = gw.service): Call {
  const handler = createApiHandler(() => ({ service, openapi: () => openApiDocument('test'), version: 'test' }));
  return async (method, path, options) => send(apiEvent(method, path, options));
  async function send(event: APIGatewayProxyEvent) {
    const result = (await handler(event, {}));
    return { status: result.statusCode, body: JSON.parse(result.body) as Record<string, unknown>, headers: (result.headers ?? {}) as Record<string, string> };
  }
}

/** Sends a raw event (fuzzing): whatever the event, a response comes back. */
export function rawApiFor(gw: TestGateway, service = gw.service): (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult> {
  const handler = createApiHandler(() => ({ service, openapi: () => openApiDocument('test'), version: 'test' }));
  return async (event) => (await handler(event, {}));
}
