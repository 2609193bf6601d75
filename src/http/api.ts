/**
 * The API's Lambda handler: one middy chain (the Lambda context in the logs with keys reset per invocation,
 * header normalization, then the caller, the route and its body, and one error handler last). The routes are
 * in routes.ts; every error becomes the documented shape in responses.ts.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { readFileSync } from 'node:fs';
import { version } from '../../package.json';
import { ConfigError } from '../errors';
import type { JobLogsService } from '../jobs/job-logs';
import type { Caller, JobService } from '../jobs/service';
import type { SessionService } from '../sessions/service';
import { logger as sharedLogger } from '../util/logger';
import { errorResponse, HttpError } from './responses';
import { matchRoute, type ApiDeps, type RouteDeps } from './routes';

export const MAX_BODY_BYTES = 256 * 1024;

/**
 * The API's dependencies over its job, session and job-log services: this release's version, and the OpenAPI document, obtained once, at
 * its first request (built from the schemas by openapi.ts, or read from the file packaging wrote from them).
 */
export function apiDeps(service: () => JobService, sessions: () => SessionService, openapi: () => unknown, jobLogs: () => JobLogsService): () => ApiDeps {
  let document: unknown;
  return () => ({ service: service(), sessions, jobLogs, openapi: () => (document ??= openapi()), version });
}

/**
 * The OpenAPI document as packaging writes it into the API's zip (OPENAPI_DOCUMENT): the deployed bundle then
 * carries no JSON Schema generator. The file is the package's own, not input: a missing one is a packaging fault.
 */
export function openApiFromFile(file: string | undefined): unknown {
  if (!file) throw new ConfigError([{ file: 'environment', path: 'OPENAPI_DOCUMENT', message: 'is required by the API (the OpenAPI document packaging writes)' }]);
  return JSON.parse(readFileSync(file, 'utf8')) as unknown;
}

/**
 * Reads the JSON body of a route that takes one: 413 when too large, 415 when not JSON, 400 when malformed.
 * Not @middy/http-json-body-parser: it answers malformed JSON with 415 (the API's contract says 400), parses
 * before the size is checked, and parses bodies of routes that take none.
 */
function parseBody(event: APIGatewayProxyEvent, headers: Record<string, string>, optional: boolean): unknown {
  const raw = event.body ?? '';
  const bytes = event.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
  if (optional && bytes.length === 0) return undefined;
  if (bytes.length > MAX_BODY_BYTES) throw new HttpError(413, 'PayloadTooLarge', `the body is ${bytes.length} bytes; the limit is ${MAX_BODY_BYTES}`);
  const type = headers['content-type'] ?? '';
  if (!/^application\/json\s*(;|$)/i.test(type)) {
    throw new HttpError(415, 'UnsupportedMediaType', `send the body as application/json (got ${type ? JSON.stringify(type.slice(0, 100)) : 'no Content-Type'})`);
  }
  if (bytes.length === 0) throw new HttpError(400, 'ValidationError', 'the request body is required');
  try {
    return JSON.parse(bytes.toString('utf8')) as unknown;
  } catch (error) {
    throw new HttpError(400, 'ValidationError', `the body is not valid JSON: ${(error as Error).message.slice(0, 200)}`);
  }
}

/**
 * The query parameters, each given once. API Gateway passes a repeated key's last value as the single one;
 * SigV4 sorts the query before signing, so which value comes last is not covered by the signature: a key
 * given more than once is refused rather than read either way.
 */
function queryOf(event: APIGatewayProxyEvent): Record<string, string> {
  const repeated = Object.entries(event.multiValueQueryStringParameters ?? {}).filter(([, values]) => (values?.length ?? 0) > 1).map(([key]) => key);
  if (repeated.length) throw new HttpError(400, 'ValidationError', `the query parameter${repeated.length > 1 ? 's' : ''} ${repeated.join(', ')} ${repeated.length > 1 ? 'are' : 'is'} given more than once`);
  return Object.fromEntries(Object.entries(event.queryStringParameters ?? {}).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

/** The caller, as API Gateway's IAM authorization established it. */
function callerOf(event: APIGatewayProxyEvent): Caller {
  const arn = event.requestContext?.identity?.userArn;
  if (!arn) throw new HttpError(401, 'Unauthorized', 'the request is not signed (AWS SigV4, service execute-api)');
  return { callerArn: arn };
}

async function dispatch(event: APIGatewayProxyEvent, deps: RouteDeps): Promise<APIGatewayProxyResult> {
  const headers = Object.fromEntries(Object.entries(event.headers ?? {}).filter((e): e is [string, string] => typeof e[1] === 'string'));
  const caller = callerOf(event); // first: an unsigned request learns nothing, not even which routes exist
  const { route, params } = matchRoute(event.httpMethod, event.path);
  deps.logger.appendKeys({ caller: caller.callerArn, route: `${route.method} ${route.path}`, ...(params.jobId ? { jobId: params.jobId } : {}), ...(params.sessionId ? { sessionId: params.sessionId } : {}) });
  const query = queryOf(event);
  const body = route.body ? parseBody(event, headers, route.body === 'optional') : undefined;
  return route.handler({ caller, params, query, headers, body, path: event.path }, deps);
}

/**
 * The API's Lambda handler: the Lambda context in the logs (keys reset per invocation), header
 * normalization, the route, and one error handler last.
 */
export function createApiHandler(deps: () => ApiDeps, logger: Logger = sharedLogger) {
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult, Error, Context>()
    // Never the event itself: it carries the caller's Authorization and session-token headers.
    .use(injectLambdaContext(logger, { resetKeys: true, logEvent: false }))
    .use(httpHeaderNormalizer())
    .use({
      onError: (request) => {
        const error = request.error;
        const response = errorResponse(error);
        if (response.statusCode >= 500) logger.error('request failed', { error: error instanceof Error ? { name: error.name, message: error.message, stack: error.stack } : String(error) });
        request.response = response;
      },
    })
    .handler((event: APIGatewayProxyEvent) => dispatch(event, { ...deps(), logger }));
}
