/**
 * The API Gateway REST proxy event with IAM authorization, built in one place: the local API front makes it
 * from a verified request, the tests from their options; the handlers read it as API Gateway sends it.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';

export interface ProxyEventInit {
  method: string;
  /** The path decoded once, e.g. /jobs/job-...: what API Gateway routes on (the front's parseRequestTarget). */
  path: string;
  headers: Record<string, string>;
  /** Query parameters as they came, repeated keys kept. */
  query: [string, string][];
  body: string | null;
  isBase64Encoded: boolean;
  account: string;
  requestId: string;
  stage: string;
  protocol: string;
  /** The authenticated caller (null: API Gateway would not have let the request through). */
  identity: { accessKey: string; userArn: string | null; sourceIp: string; userAgent: string | null };
}

export function proxyEvent(init: ProxyEventInit): APIGatewayProxyEvent {
  // No prototype: a parameter named valueOf or __proto__ is just a parameter.
  const single: Record<string, string> = Object.create(null) as Record<string, string>;
  const multi: Record<string, string[]> = Object.create(null) as Record<string, string[]>;
  for (const [key, value] of init.query) {
    single[key] = value;
    (multi[key] ??= []).push(value);
  }
  const session = init.identity.userArn?.split('/').slice(-2).join(':') ?? null;
  // The deployment's two resources (serverless.yml): `/`, and `/{proxy+}` for everything below it.
  const resource = init.path === '/' ? '/' : '/{proxy+}';
  return {
    httpMethod: init.method,
    path: init.path,
    resource,
    headers: init.headers,
    multiValueHeaders: Object.fromEntries(Object.entries(init.headers).map(([k, v]) => [k, [v]])),
    queryStringParameters: init.query.length ? single : null,
    multiValueQueryStringParameters: init.query.length ? multi : null,
    pathParameters: resource === '/' ? null : { proxy: init.path.replace(/^\//, '') },
    stageVariables: null,
    isBase64Encoded: init.isBase64Encoded,
    body: init.body,
    requestContext: {
      accountId: init.account,
      apiId: 'local',
      httpMethod: init.method,
      path: init.path,
      stage: init.stage,
      requestId: init.requestId,
      requestTimeEpoch: Date.now(),
      resourceId: 'local',
      resourcePath: resource,
      protocol: init.protocol,
      authorizer: null,
      identity: {
        accessKey: init.identity.accessKey,
        accountId: init.account,
        caller: session,
        user: session,
        userArn: init.identity.userArn,
        sourceIp: init.identity.sourceIp,
        userAgent: init.identity.userAgent,
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
